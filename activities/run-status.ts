/** Asks Temporal which runs are still open, for the reaper: it never touches what a live run owns. */
import { Context } from '@temporalio/activity';

export function createRunStatusActivities() {
  return {
    /** Status of each run id: RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, … or UNKNOWN when visibility has no record. */
    async runStatuses(input: { runIds: string[] }): Promise<Record<string, string>> {
      const { client } = Context.current();
      const statuses: Record<string, string> = {};
      for (const runId of new Set(input.runIds)) {
        statuses[runId] = 'UNKNOWN';
        for await (const execution of client.workflow.list({ query: `RunId = "${runId.replace(/"/g, '')}"` })) statuses[runId] = execution.status.name;
        Context.current().heartbeat();
      }
      return statuses;
    },
  };
}
