/**
 * Telling a person from workflow code: `alertRun` for the failure and needs-attention paths every
 * workflow goes through (workflows/shared/fail-run.ts, the saga's attention hook), `sendAlert` for
 * workflows whose job is to alert (rpoWatch). An alert never changes how a run ends: one that
 * cannot be sent is logged. It is sent in a non-cancellable scope, so a cancel that arrives while
 * a failure is being reported does not swallow the alert.
 */
import { CancellationScope, log, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { AlertActivities, SendAlertResult } from '../../activities/alerts/activities';
import type { AlertEvent, AlertKind } from '../../contracts/alerts/events';
import { BackupVmId } from '../../contracts/search-attributes';
import { runProvider } from '../../lib/metrics/workflow-metrics';
import { alertCall } from './activity-options';
import { describeFailure } from './failures';

const alerts = proxyActivities<AlertActivities>(alertCall);

/** Sends it; on any failure logs and answers { sent: false }. */
export async function sendAlert(event: AlertEvent): Promise<SendAlertResult | { sent: false; reason: string; eventId?: undefined }> {
  try {
    const result = await CancellationScope.nonCancellable(() => alerts.sendAlert(event));
    if (!result.sent) log.info('alert not sent', { kind: event.kind, reason: result.reason });
    return result;
  } catch (err) {
    const reason = describeFailure(err);
    log.warn('alert could not be sent', { kind: event.kind, workflowId: event.workflowId, reason });
    return { sent: false, reason };
  }
}

/** An alert about this run: the VM and provider from its search attributes (tagRun), the link from its ids. */
export async function alertRun(kind: AlertKind, step: string, reason: string): Promise<void> {
  // alert-on-failure: runs that failed or waited for an operator before alerts existed scheduled no
  // sendAlert there; they replay without it. deprecatePatch once no run started before can be open
  // (the longest: one waiting in needs-attention), then drop the check.
  if (!patched('alert-on-failure')) return;
  const info = workflowInfo();
  const vmId = info.typedSearchAttributes.get(BackupVmId);
  await sendAlert({
    kind,
    provider: runProvider(),
    ...(typeof vmId === 'string' && vmId ? { vmId } : {}),
    workflowType: info.workflowType,
    workflowId: info.workflowId,
    runId: info.runId,
    step,
    reason,
    at: new Date().toISOString(),
  });
}
