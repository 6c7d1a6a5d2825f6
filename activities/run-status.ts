/** Asks Temporal which runs are still open, for the reaper: it never touches what a live run owns. */
import { Context } from '@temporalio/activity';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { runIdMatches } from '../lib/temporal/run-tag';

/** What the reaper needs to know about a run: its status and the last step it entered (BackupStep). */
export interface RunState {
  status: string;
  step?: string;
  /** The full run id (for a run found by the first characters of its id). */
  runId?: string;
  workflowId?: string;
}

const quote = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

function stateOf(execution: WorkflowExecutionInfo): RunState {
  const sa = execution.searchAttributes as Record<string, unknown[] | undefined>;
  return { status: execution.status.name, step: sa.BackupStep?.[0] as string | undefined, runId: execution.runId, workflowId: execution.workflowId };
}

export function createRunStatusActivities() {
  return {
    /**
     * Status and last step of each run, by its id, or by the first characters of its id among the
     * runs of a workflow type for one VM (ManageIQ snapshot names carry a fragment: lib/temporal/run-tag). Keyed by the id as
     * given; UNKNOWN when visibility has no such run, or more than one run matches the prefix.
     */
    async runStates(input: { runs: Array<{ runId: string; lookup?: { workflowType: string; vmId: string } }> }): Promise<Record<string, RunState>> {
      const { client } = Context.current();
      const states: Record<string, RunState> = {};
      for (const ref of input.runs) {
        if (states[ref.runId]) continue;
        const query = ref.lookup ? `WorkflowType = ${quote(ref.lookup.workflowType)} AND BackupVmId = ${quote(ref.lookup.vmId)}` : `RunId = ${quote(ref.runId)}`;
        const matches: RunState[] = [];
        for await (const execution of client.workflow.list({ query })) {
          if (ref.lookup ? runIdMatches(execution.runId, ref.runId) : execution.runId === ref.runId) matches.push(stateOf(execution));
        }
        states[ref.runId] = matches.length === 1 ? matches[0]! : { status: 'UNKNOWN' };
        Context.current().heartbeat();
      }
      return states;
    },

    /**
     * The run ids of the runs still open (about one VM, by BackupVmId, or any): retention keeps the
     * backups those runs wrote. One visibility query; a run visibility has not indexed yet is not in it,
     * but a run that wrote its manifest has been running long enough to be.
     */
    async openRunIds(input: { vmId?: string }): Promise<string[]> {
      const { client } = Context.current();
      const query = `ExecutionStatus = "Running"${input.vmId !== undefined ? ` AND BackupVmId = ${quote(input.vmId)}` : ''}`;
      const ids: string[] = [];
      for await (const execution of client.workflow.list({ query, pageSize: 1000 })) {
        ids.push(execution.runId);
        if (ids.length % 1000 === 0) Context.current().heartbeat();
      }
      return ids;
    },

    /** The VMs runs of these workflow types were about (BackupVmId), as far as visibility remembers: where to look for leftovers. */
    async runSubjects(input: { workflowTypes: string[] }): Promise<string[]> {
      const { client } = Context.current();
      const subjects = new Set<string>();
      const query = input.workflowTypes.map((t) => `WorkflowType = ${quote(t)}`).join(' OR ');
      for await (const execution of client.workflow.list({ query, pageSize: 1000 })) {
        const vmId = (execution.searchAttributes as Record<string, unknown[] | undefined>).BackupVmId?.[0];
        if (typeof vmId === 'string') subjects.add(vmId);
        Context.current().heartbeat();
      }
      return [...subjects].sort();
    },
  };
}
