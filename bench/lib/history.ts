/** What the benchmark reads from a run's history: event count, run time, and time spent inside activities. */
import type { WorkflowHandle } from '@temporalio/client';
import { repositoryFilesTaskQueueFor } from '../../lib/temporal/task-queues';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

function ms(ts: HistoryEvent['eventTime']): number {
  if (!ts) return NaN;
  return Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

export interface RunProfile {
  events: number;
  runMs: number;
  /** Sum over activities of started → completed (vendor and copy work, as the worker saw it). */
  activityMs: number;
  activities: number;
  /** Activity order by queue: 'm' on the workflow's queue, 'f' on a copy worker's files queue, 'c' on another (the copy queue). */
  sequence: string;
  /** Per activity: how long it waited for a worker slot (scheduled → started) and ran (started → closed). */
  steps: Array<{ type: string; queue: string; scheduleToStartMs: number; startToCloseMs: number }>;
}

function queueKind(queue: string, workflowQueue: string | undefined | null): 'm' | 'c' | 'f' {
  if (queue === workflowQueue) return 'm';
  return queue.endsWith(repositoryFilesTaskQueueFor('')) ? 'f' : 'c';
}

export async function profileRun(handle: WorkflowHandle): Promise<RunProfile> {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const first = events[0];
  const last = events[events.length - 1];
  const workflowQueue = first?.workflowExecutionStartedEventAttributes?.taskQueue?.name;
  const scheduled = new Map<string, { type: string; queue: string; at: number }>();
  const started = new Map<string, number>();
  const steps: RunProfile['steps'] = [];
  let activityMs = 0;
  let activities = 0;
  let sequence = '';
  for (const e of events) {
    const id = String(e.eventId);
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      scheduled.set(id, { type: s.activityType?.name ?? '', queue: s.taskQueue?.name ?? '', at: ms(e.eventTime) });
      sequence += queueKind(s.taskQueue?.name ?? '', workflowQueue);
    }
    const st = e.activityTaskStartedEventAttributes;
    if (st) started.set(String(st.scheduledEventId), ms(e.eventTime));
    const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
    if (done) {
      const from = started.get(String(done.scheduledEventId));
      if (from !== undefined) activityMs += ms(e.eventTime) - from;
      activities++;
      const sch = scheduled.get(String(done.scheduledEventId));
      if (sch && from !== undefined) steps.push({ type: sch.type, queue: queueKind(sch.queue, workflowQueue), scheduleToStartMs: from - sch.at, startToCloseMs: ms(e.eventTime) - from });
    }
  }
  return { events: events.length, runMs: ms(last?.eventTime) - ms(first?.eventTime), activityMs, activities, sequence, steps };
}
