/**
 * Project metrics emitted from workflow code through the SDK's workflow `metricMeter` (a sink: no
 * command, no history event, nothing emitted during replay, so it is safe to add to any workflow).
 * The SDK adds `namespace`, `task_queue` and `workflow_type` to every value.
 */
import { metricMeter, workflowInfo } from '@temporalio/workflow';
import { workflowRoute } from '../../contracts/routing';
import { BackupProvider, BackupVmId } from '../../contracts/search-attributes';
import { METRIC, providerOf } from './names';

/** The run's provider: its BackupProvider search attribute, or the vendor its workflow type names. */
export function runProvider(): string {
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
  safely(() => metricMeter.createHistogram(METRIC.stepDuration, 'int', 'milliseconds', 'time spent in each backup step').record(Math.max(0, Math.round(ms)), { provider: runProvider(), step }));
}

export function recordBackupOutcome(outcome: string): void {
  safely(() => metricMeter.createCounter(METRIC.backups, '', 'backup runs that ended, by provider and outcome').add(1, { provider: runProvider(), outcome }));
}

/** Workflow time in Unix seconds. */
function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * A backup-kind run (its catalog entry says `kind: 'backup'`) completed: the VM's last good backup
 * is now. Runs about no single VM (BackupVmId unset) are not counted.
 */
export function recordBackupSuccess(): void {
  safely(() => {
    const info = workflowInfo();
    const vmId = info.typedSearchAttributes.get(BackupVmId);
    if (workflowRoute(info.workflowType)?.kind !== 'backup' || typeof vmId !== 'string' || !vmId) return;
    metricMeter.createGauge(METRIC.lastSuccess, 'int', '', 'when the newest good backup of the VM completed').set(nowSeconds(), { provider: runProvider(), vm_id: vmId });
  });
}

/** A restore drill or a repository check passed for the VM's backup: call at its successful end. */
export function recordVerified(providerName: string, vmId: string): void {
  safely(() => metricMeter.createGauge(METRIC.lastVerified, 'int', '', 'when a drill or a check last proved a backup of the VM restorable').set(nowSeconds(), { provider: providerName, vm_id: vmId }));
}
