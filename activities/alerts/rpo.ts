/**
 * What rpoWatch asks Temporal: the VMs the backup schedules cover (with each schedule's interval),
 * and each VM's newest good backup, from visibility (runs tagged BackupVmId whose BackupOutcome is
 * "completed", of the provider's backup workflow types).
 */
import { Context } from '@temporalio/activity';
import { msToNumber } from '@temporalio/common/lib/time';
import type { RpoTarget } from '../../contracts/alerts/input';
import { workflowRoute, workflowRoutes } from '../../contracts/routing';
import type { ScheduledBackupInput } from '../../contracts/schedule/input';

const quote = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

export interface LastSuccess {
  closeTime?: string;
  workflowId?: string;
  runId?: string;
}

/** Workflow types whose catalog entry is a backup of the provider's VMs. */
function backupTypes(provider: string): string[] {
  return Object.entries(workflowRoutes)
    .filter(([, route]) => route.kind === 'backup' && route.provider === provider)
    .map(([type]) => type);
}

export function createRpoActivities() {
  return {
    /** Every unpaused schedule that starts scheduledBackup for one VM, at the schedule's interval (or the gap between its next two starts, for a cron). */
    async rpoScheduleTargets(input: { graceMinutes: number }): Promise<RpoTarget[]> {
      const { client } = Context.current();
      const targets: RpoTarget[] = [];
      for await (const summary of client.schedule.list()) {
        if (summary.action?.type !== 'startWorkflow' || summary.action.workflowType !== 'scheduledBackup') continue;
        const description = await client.schedule.getHandle(summary.scheduleId).describe();
        Context.current().heartbeat();
        if (description.state.paused || description.action.type !== 'startWorkflow') continue;
        const args = description.action.args?.[0] as ScheduledBackupInput | undefined;
        const route = args ? workflowRoute(args.workflowType) : undefined;
        const vmId = args && route?.subject(args.input);
        if (!route || !vmId) continue;
        const every = description.spec.intervals?.[0]?.every;
        const [next, after] = description.info.nextActionTimes;
        const intervalMs = every !== undefined ? msToNumber(every) : next && after ? after.getTime() - next.getTime() : undefined;
        if (!intervalMs) continue;
        targets.push({ provider: route.provider, vmId, expectedIntervalMinutes: Math.max(1, Math.ceil(intervalMs / 60_000)), graceMinutes: input.graceMinutes });
      }
      return targets;
    },

    /** The VM's newest completed backup run, by close time; none when visibility has none. */
    async lastSuccessfulBackup(input: { provider: string; vmId: string }): Promise<LastSuccess> {
      const { client } = Context.current();
      const types = backupTypes(input.provider);
      if (!types.length) return {};
      const query = `BackupVmId = ${quote(input.vmId)} AND BackupOutcome = "completed" AND (${types.map((t) => `WorkflowType = ${quote(t)}`).join(' OR ')})`;
      let newest: LastSuccess = {};
      for await (const execution of client.workflow.list({ query, pageSize: 1000 })) {
        const closed = execution.closeTime?.toISOString();
        if (closed && (!newest.closeTime || closed > newest.closeTime)) newest = { closeTime: closed, workflowId: execution.workflowId, runId: execution.runId };
      }
      return newest;
    },
  };
}

export type RpoActivities = ReturnType<typeof createRpoActivities>;
