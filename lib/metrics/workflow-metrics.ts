/**
 * Project metrics emitted from workflow code through the SDK's workflow `metricMeter` (a sink: no
 * command, no history event, nothing emitted during replay, so it is safe to add to any workflow).
 * The SDK adds `namespace`, `task_queue` and `workflow_type` to every value.
 */
import { metricMeter, workflowInfo } from '@temporalio/workflow';
import { BackupProvider } from '../../contracts/search-attributes';
import { METRIC, providerOf } from './names';

function provider(): string {
  const info = workflowInfo();
  const fromAttribute = info.typedSearchAttributes.get(BackupProvider);
  return typeof fromAttribute === 'string' && fromAttribute ? fromAttribute : providerOf(info.workflowType);
}

/** Never lets a metric problem fail a backup. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // metrics are best effort
  }
}

export function recordStepDuration(step: string, ms: number): void {
  safely(() => metricMeter.createHistogram(METRIC.stepDuration, 'int', 'milliseconds', 'time spent in each backup step').record(Math.max(0, Math.round(ms)), { provider: provider(), step }));
}

export function recordBackupOutcome(outcome: string): void {
  safely(() => metricMeter.createCounter(METRIC.backups, '', 'backup runs that ended, by provider and outcome').add(1, { provider: provider(), outcome }));
}
