/**
 * Billable actions of one run, counted from its history as Temporal Cloud bills them: the bench
 * and the tests use it (test/ovirt/actions.test.ts holds a backup to its budget).
 *
 * The rules, from https://docs.temporal.io/cloud/actions (temporalio/documentation,
 * docs/evaluate/cloud/actions.mdx) and, where that page is silent, the open-source server's own
 * `action` metric (temporalio/temporal, common/rpc/interceptor/telemetry.go: emitActionMetric),
 * which the page names as the closest estimate of Cloud usage:
 *
 * | history event | actions | rule |
 * |---|---|---|
 * | WorkflowExecutionStarted | 1 | "Workflow started" (client start, continue-as-new, child start, schedule); search attributes given at start are free |
 * | ActivityTaskScheduled | 1 | "Activity started or retried": each start … |
 * | ActivityTaskStarted with attempt n > 1 | n − 1 | … and each retry (Cloud: `retry_activity`, "subtract 1, because the first attempt is not a retry") |
 * | TimerStarted | 1 | "Timer started", implicit ones too (`condition` with a timeout, `sleep`) |
 * | WorkflowExecutionSignaled | 1 | "Signal sent", from a client or a workflow (billed in the signaled run's history) |
 * | WorkflowExecutionUpdateAccepted | 1 | "Update received by Worker" (a rejected one is billed too but never written to history: `outside`) |
 * | UpsertWorkflowSearchAttributes | 1 | one per command, however many attributes it sets; one that sets only `TemporalChangeVersion` (the SDK's patch bookkeeping) is exempt |
 * | WorkflowPropertiesModified (memo upsert) | 1 | the server's metric counts `ModifyWorkflowProperties` commands |
 * | WorkflowExecutionOptionsUpdated | 1 | "Workflow Execution Options updated" |
 * | MarkerRecorded | 1 per workflow task | "all RecordMarkers from each Workflow Task as one action" (local activities, side effects and `patched()` markers alike: the server's metric batches every marker kind) |
 * | StartChildWorkflowExecutionInitiated | 2 | the intent and the attempt (the child's own start is in its history) |
 * | SignalExternalWorkflowExecutionInitiated, RequestCancelExternal…, WorkflowTask*, Activity completed/failed, … | 0 | not billed (the signal is billed where it lands) |
 *
 * Not in any history, so passed in as `outside`: activity heartbeats that reach the server (the
 * SDK throttles them to one per 80 % of the heartbeat timeout; throttled ones are free), queries
 * answered by a worker (`__temporal_workflow_metadata`, what the UI reads for current details, is
 * excluded), rejected updates. `serverActions` reads them from a server's `action` metric.
 * Replay never bills anything: replaying a fixture costs nothing.
 */
import type { WorkflowHandle } from '@temporalio/client';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];

export type ActionKind =
  | 'workflowStarted'
  | 'activities'
  | 'activityRetries'
  | 'timers'
  | 'signals'
  | 'updates'
  | 'searchAttributeUpserts'
  | 'memoUpserts'
  | 'optionsUpdates'
  | 'markerTasks'
  | 'childWorkflows'
  | 'heartbeats'
  | 'queries'
  | 'rejectedUpdates';

export interface ActionCount {
  total: number;
  byKind: Record<ActionKind, number>;
  /** Per billable event, in history order: what it was (activity type, attributes set, timer, marker names). */
  items: Array<{ eventId: number; kind: ActionKind; actions: number; what: string }>;
}

/** What a history does not show: heartbeats that reached the server, queries answered, updates rejected. */
export interface OutsideHistory {
  heartbeats?: number;
  queries?: number;
  rejectedUpdates?: number;
}

const CHANGE_VERSION = 'TemporalChangeVersion';

function emptyKinds(): Record<ActionKind, number> {
  return {
    workflowStarted: 0,
    activities: 0,
    activityRetries: 0,
    timers: 0,
    signals: 0,
    updates: 0,
    searchAttributeUpserts: 0,
    memoUpserts: 0,
    optionsUpdates: 0,
    markerTasks: 0,
    childWorkflows: 0,
    heartbeats: 0,
    queries: 0,
    rejectedUpdates: 0,
  };
}

/** The billable actions of one run's history (from fetchHistory, or a recorded fixture through historyFromJSON). */
export function countActions(history: History, outside: OutsideHistory = {}): ActionCount {
  const byKind = emptyKinds();
  const items: ActionCount['items'] = [];
  const markerTasks = new Map<string, string[]>();
  const add = (e: HistoryEvent, kind: ActionKind, actions: number, what: string) => {
    byKind[kind] += actions;
    items.push({ eventId: Number(e.eventId ?? 0), kind, actions, what });
  };
  for (const e of history.events ?? []) {
    if (e.workflowExecutionStartedEventAttributes) add(e, 'workflowStarted', 1, e.workflowExecutionStartedEventAttributes.workflowType?.name ?? '');
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) add(e, 'activities', 1, scheduled.activityType?.name ?? '');
    const attempt = e.activityTaskStartedEventAttributes?.attempt ?? 1;
    if (attempt > 1) add(e, 'activityRetries', attempt - 1, `attempt ${attempt}`);
    if (e.timerStartedEventAttributes) add(e, 'timers', 1, e.timerStartedEventAttributes.timerId ?? '');
    if (e.workflowExecutionSignaledEventAttributes) add(e, 'signals', 1, e.workflowExecutionSignaledEventAttributes.signalName ?? '');
    if (e.workflowExecutionUpdateAcceptedEventAttributes) add(e, 'updates', 1, e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest?.input?.name ?? '');
    const upsert = e.upsertWorkflowSearchAttributesEventAttributes;
    if (upsert) {
      const keys = Object.keys(upsert.searchAttributes?.indexedFields ?? {});
      const billable = keys.filter((k) => k !== CHANGE_VERSION);
      if (billable.length) add(e, 'searchAttributeUpserts', 1, billable.join(', '));
    }
    if (e.workflowPropertiesModifiedEventAttributes) add(e, 'memoUpserts', 1, Object.keys(e.workflowPropertiesModifiedEventAttributes.upsertedMemo?.fields ?? {}).join(', '));
    if (e.workflowExecutionOptionsUpdatedEventAttributes) add(e, 'optionsUpdates', 1, 'options updated');
    const marker = e.markerRecordedEventAttributes;
    if (marker) {
      const task = String(marker.workflowTaskCompletedEventId ?? e.eventId);
      const names = markerTasks.get(task);
      if (names) names.push(marker.markerName ?? '');
      else {
        markerTasks.set(task, [marker.markerName ?? '']);
        add(e, 'markerTasks', 1, `markers of workflow task ${task}`);
      }
    }
    if (e.startChildWorkflowExecutionInitiatedEventAttributes) add(e, 'childWorkflows', 2, e.startChildWorkflowExecutionInitiatedEventAttributes.workflowType?.name ?? '');
  }
  for (const item of items) if (item.kind === 'markerTasks') item.what = `markers (${markerTasks.get(item.what.replace('markers of workflow task ', ''))?.join(', ')})`;
  byKind.heartbeats = outside.heartbeats ?? 0;
  byKind.queries = outside.queries ?? 0;
  byKind.rejectedUpdates = outside.rejectedUpdates ?? 0;
  const total = Object.values(byKind).reduce((n, v) => n + v, 0);
  return { total, byKind, items };
}

/** "1 started + 12 activities + …": the non-zero kinds, for logs and docs. */
export function describeActions(count: ActionCount): string {
  const parts = Object.entries(count.byKind)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} ${kind}`);
  return `${count.total} actions: ${parts.join(' + ')}`;
}

/**
 * The open-source server's own `action` counter (Prometheus, `temporal server start-dev
 * --metrics-port`), summed per action type over a namespace: what no history shows (heartbeats
 * as `grpc_RecordActivityTaskHeartbeat`, queries as `grpc_QueryWorkflow`). The counter is the
 * namespace's total since the server started: take the difference around one run.
 */
export async function serverActions(metricsUrl: string, namespace = 'default'): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('action{')) continue;
    const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    const type = /action_type="([^"]*)"/.exec(labels)?.[1];
    const ns = /namespace="([^"]*)"/.exec(labels)?.[1];
    if (!type || (ns !== undefined && ns !== namespace)) continue;
    out[type] = (out[type] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

/** after − before, per action type, dropping zeros. */
export function actionDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [type, n] of Object.entries(after)) {
    const d = n - (before[type] ?? 0);
    if (d) out[type] = d;
  }
  return out;
}
