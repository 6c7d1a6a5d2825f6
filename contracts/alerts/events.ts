/**
 * What an alert is about, and the pure pieces both sides agree on: the event id (the same for every
 * attempt of the same event, so a webhook and the worker's ledger can tell a resend), the one line a
 * person reads, and the link to the run in the Web UI. Workflow-safe: no I/O.
 */

/** `failed`: a run failed (not cancelled); `drill-failed` / `check-failed`: a restore drill or a repository check did. */
export type AlertKind = 'failed' | 'drill-failed' | 'check-failed' | 'needs-attention' | 'rpo-missed';

export interface AlertEvent {
  kind: AlertKind;
  provider: string;
  /** The VM the run is about; absent for runs about many (a fleet, a reaper). */
  vmId?: string;
  workflowType: string;
  workflowId: string;
  runId: string;
  step: string;
  reason: string;
  /** When it happened (workflow time, ISO): the same in every attempt at sending it. */
  at: string;
  /** rpo-missed: when the VM's next good backup was due (ISO); one alert per due time. */
  dueAt?: string;
}

/** The failure kind of a workflow type: drills and repository checks name themselves. */
export function failureKind(workflowType: string): AlertKind {
  if (/drill/i.test(workflowType)) return 'drill-failed';
  if (/verify|check/i.test(workflowType)) return 'check-failed';
  return 'failed';
}

/** The same for every attempt at the same event: per run and kind, or per VM and due time for a missed RPO. */
export function alertEventId(event: Pick<AlertEvent, 'kind' | 'provider' | 'vmId' | 'workflowId' | 'runId' | 'dueAt'>): string {
  if (event.kind === 'rpo-missed') return `rpo-missed:${event.provider}:${event.vmId ?? '-'}:${event.dueAt ?? '-'}`;
  return `${event.kind}:${event.workflowId}:${event.runId}`;
}

/** `<ui>/namespaces/<ns>/workflows/<workflowId>/<runId>/history` */
export function runUiUrl(uiBaseUrl: string, namespace: string, workflowId: string, runId: string): string {
  return `${uiBaseUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;
}

const WHAT: Record<AlertKind, string> = {
  failed: 'failed',
  'drill-failed': 'restore drill failed',
  'check-failed': 'repository check failed',
  'needs-attention': 'needs attention',
  'rpo-missed': 'missed its RPO',
};

/** One line naming the VM, the run, the step and the reason, then the link. */
export function alertLine(event: AlertEvent, uiUrl: string): string {
  const subject = event.vmId ? `VM ${event.vmId} (${event.provider})` : `${event.provider} run`;
  const flat = (text: string) => text.replace(/\s+/g, ' ').trim();
  if (event.kind === 'rpo-missed') return flat(`${subject} ${WHAT[event.kind]}: ${event.reason} — last checked by run ${event.workflowId}/${event.runId} ${uiUrl}`);
  return flat(`${subject}: ${event.workflowType} ${WHAT[event.kind]} at step "${event.step}": ${event.reason} — run ${event.workflowId}/${event.runId} ${uiUrl}`);
}
