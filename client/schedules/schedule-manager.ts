/**
 * Temporal Schedules for backup policies. Every schedule starts the `scheduledBackup` wrapper,
 * which keeps one backup per VM at a time and applies the schedule's retention after a success.
 */
import { ScheduleNotFoundError, type Client, type ScheduleDescription, type ScheduleOptions, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { ScheduledBackupInput } from '../../contracts/schedule/input';
import { NotFoundError } from '../errors';
import { overlapPolicies, policyHash, type ScheduleEntry } from './policy';

export type ApplyOutcome = 'created' | 'updated' | 'unchanged';

export class ScheduleManager {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  options(entry: ScheduleEntry): ScheduleOptions {
    const args: ScheduledBackupInput = {
      scheduleId: entry.id,
      workflowType: entry.workflow,
      input: entry.input,
      retention: entry.retention,
      ...(entry.repositoryRetention ? { repositoryRetention: { ...entry.repositoryRetention, timeZone: entry.timezone } } : {}),
    };
    return {
      scheduleId: entry.id,
      spec: {
        ...(entry.cron ? { cronExpressions: [entry.cron] } : { intervals: [{ every: entry.every!, offset: entry.offset }] }),
        timezone: entry.timezone,
        jitter: entry.jitter,
      },
      action: {
        type: 'startWorkflow',
        workflowType: 'scheduledBackup',
        taskQueue: this.taskQueue,
        workflowId: `scheduled-${entry.id}`,
        args: [args],
        memo: { policyHash: policyHash(entry) },
        staticSummary: `${entry.workflow} by schedule ${entry.id}`,
      },
      policies: { overlap: overlapPolicies[entry.overlap], catchupWindow: entry.catchupWindow, pauseOnFailure: entry.pauseOnFailure },
      state: { paused: entry.paused, note: entry.note },
    };
  }

  async create(entry: ScheduleEntry): Promise<void> {
    await this.client.schedule.create(this.options(entry));
  }

  /** Creates missing schedules and updates changed ones; a second apply of the same file changes nothing. */
  async apply(entries: ScheduleEntry[]): Promise<Array<{ id: string; outcome: ApplyOutcome }>> {
    const outcomes: Array<{ id: string; outcome: ApplyOutcome }> = [];
    for (const entry of entries) {
      const handle = this.client.schedule.getHandle(entry.id);
      let current: ScheduleDescription | undefined;
      try {
        current = await handle.describe();
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      }
      if (!current) {
        await this.create(entry);
        outcomes.push({ id: entry.id, outcome: 'created' });
        continue;
      }
      const action = current.action as { memo?: Record<string, unknown> };
      if (action.memo?.policyHash === policyHash(entry)) {
        outcomes.push({ id: entry.id, outcome: 'unchanged' });
        continue;
      }
      const next = this.options(entry);
      await handle.update(() => ({
        spec: next.spec,
        action: next.action as ScheduleOptionsStartWorkflowAction<Workflow>,
        policies: next.policies,
        state: { paused: entry.paused, note: entry.note },
      }));
      outcomes.push({ id: entry.id, outcome: 'updated' });
    }
    return outcomes;
  }

  async list(): Promise<Array<{ id: string; paused: boolean; note?: string; workflow?: string; nextActionTimes: Date[]; recentActions: number }>> {
    const out = [];
    for await (const s of this.client.schedule.list()) {
      const action = s.action as { workflowType?: string } | undefined;
      out.push({
        id: s.scheduleId,
        paused: s.state.paused,
        note: s.state.note,
        workflow: action?.workflowType,
        nextActionTimes: s.info.nextActionTimes,
        recentActions: s.info.recentActions.length,
      });
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  async describe(id: string): Promise<ScheduleDescription> {
    return this.handle(id).describe().catch(notFound(id));
  }

  async pause(id: string, note?: string): Promise<void> {
    await this.handle(id)
      .pause(note ?? 'paused with backupctl')
      .catch(notFound(id));
  }

  async unpause(id: string, note?: string): Promise<void> {
    await this.handle(id)
      .unpause(note ?? 'unpaused with backupctl')
      .catch(notFound(id));
  }

  async trigger(id: string, overlap?: keyof typeof overlapPolicies): Promise<void> {
    await this.handle(id)
      .trigger(overlap ? overlapPolicies[overlap] : undefined)
      .catch(notFound(id));
  }

  async backfill(id: string, start: Date, end: Date, overlap: keyof typeof overlapPolicies = 'allowAll'): Promise<void> {
    await this.handle(id)
      .backfill([{ start, end, overlap: overlapPolicies[overlap] }])
      .catch(notFound(id));
  }

  async delete(id: string): Promise<void> {
    await this.handle(id).delete().catch(notFound(id));
  }

  private handle(id: string) {
    return this.client.schedule.getHandle(id);
  }
}

function notFound(id: string) {
  return (err: unknown): never => {
    if (err instanceof ScheduleNotFoundError) throw new NotFoundError(`no schedule with id ${id}`);
    throw err;
  };
}
