/** Pieces the Azure Backup workflows share: activity proxies, following a job, failures. */
import { ActivityCancellationType, ApplicationFailure, proxyActivities, sleep } from '@temporalio/workflow';
import type { AzureActivities, AzureJobSummary } from '../activities/azure/activities';
import type { ProgressTracker } from './shared/progress';
import { undoRetry, vendorRetry } from './shared/retry-policies';
import { tagRun } from './shared/tag-run';

/** Quick calls. */
export const azure = proxyActivities<AzureActivities>({ startToCloseTimeout: '2 minutes', retry: vendorRetry });
/** Calls that follow an async operation inside the activity (heartbeating while they wait). */
export const azureAsync = proxyActivities<AzureActivities>({
  startToCloseTimeout: '45 minutes',
  heartbeatTimeout: '1 minute',
  retry: vendorRetry,
  // Compensation starts only once the activity has stopped: a provision or trigger cut off by a
  // cancel cannot store credentials or start a job after the undo ran.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});
/** Undo steps: retried until they succeed or clearly cannot. */
export const azureUndo = proxyActivities<AzureActivities>({ startToCloseTimeout: '45 minutes', heartbeatTimeout: '1 minute', retry: undoRetry });

export function tagAzureRun(vm: { vmName?: string; vmResourceId?: string }): void {
  tagRun('azure', vm.vmResourceId ?? vm.vmName ?? '');
}

export function describeJob(job: AzureJobSummary): string {
  const tasks = job.tasks.map((t) => `${t.taskId}: ${t.status}${t.status === 'InProgress' && t.progressPercentage !== undefined ? ` ${t.progressPercentage}%` : ''}`).join('; ');
  return `${job.operation} job ${job.jobId} ${job.status}${job.progressPercentage !== undefined ? ` ${job.progressPercentage}%` : ''}${tasks ? ` — ${tasks}` : ''}`;
}

/**
 * Follows an Azure job with workflow timers until it is terminal, mirroring its tasks and progress
 * into the progress query. Cancelling the run interrupts the wait (the caller's saga cancels the job).
 */
export async function followJob(endpoint: string, jobId: string, progress: ProgressTracker, options: { pollIntervalMs: number; timeoutMinutes: number }): Promise<AzureJobSummary> {
  const deadline = Date.now() + options.timeoutMinutes * 60_000;
  for (;;) {
    const job = await azure.azureGetJob({ endpoint, jobId });
    progress.update({ message: describeJob(job) });
    if (job.terminal) return job;
    if (Date.now() >= deadline) {
      throw ApplicationFailure.create({ type: 'VendorOperationStuck', nonRetryable: true, message: `${job.operation} job ${jobId} is still ${job.status} after ${options.timeoutMinutes} minutes` });
    }
    await sleep(options.pollIntervalMs);
  }
}

/** A job that ended without success, in the service's own words. */
export function jobFailure(job: AzureJobSummary): ApplicationFailure {
  const errors = job.errors.map((e) => [e.code !== undefined ? `${e.code}` : '', e.title, e.message].filter(Boolean).join(' ')).join('; ');
  return ApplicationFailure.create({
    type: 'AzureJobFailed',
    nonRetryable: true,
    message: `Azure ${job.operation} job ${job.jobId} ended ${job.status}${errors ? `: ${errors}` : ''}`,
    details: [job],
  });
}

export function warningsOf(job: AzureJobSummary): string[] {
  return job.status === 'CompletedWithWarnings' ? job.errors.map((e) => [e.title, e.message].filter(Boolean).join(': ')) : [];
}

export { failRun } from './shared/fail-run';
