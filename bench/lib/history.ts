/** What the benchmark reads from a run's history: event count, run time, and time spent inside activities. */
import type { WorkflowHandle } from '@temporalio/client';

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
  /** Activity order by queue: 'm' on the workflow's queue, 'c' on another (the copy queue). */
  sequence: string;
}

export async function profileRun(handle: WorkflowHandle): Promise<RunProfile> {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const first = events[0];
  const last = events[events.length - 1];
  const workflowQueue = first?.workflowExecutionStartedEventAttributes?.taskQueue?.name;
  const scheduled = new Map<string, string>();
  const started = new Map<string, number>();
  let activityMs = 0;
  let activities = 0;
  let sequence = '';
  for (const e of events) {
    const id = String(e.eventId);
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      scheduled.set(id, s.taskQueue?.name ?? '');
      sequence += s.taskQueue?.name === workflowQueue ? 'm' : 'c';
    }
    const st = e.activityTaskStartedEventAttributes;
    if (st) started.set(String(st.scheduledEventId), ms(e.eventTime));
    const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
    if (done) {
      const from = started.get(String(done.scheduledEventId));
      if (from !== undefined) activityMs += ms(e.eventTime) - from;
      activities++;
    }
  }
  return { events: events.length, runMs: ms(last?.eventTime) - ms(first?.eventTime), activityMs, activities, sequence };
}
