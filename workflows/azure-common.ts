/** Pieces the Azure Backup workflows share: opening a run, activity proxies, a job from trigger to end, failures. */
import { ApplicationFailure, CancelledFailure, patched, proxyActivities, sleep } from '@temporalio/workflow';
import type { z } from 'zod';
import type { AzureActivities, AzureJobSummary, TriggerKnowledge } from '../activities/azure/activities';
import { ErrorTypes } from '../lib/errors';
import { forwardCreate, quickCall, undoStep, waitUpTo } from './shared/activity-options';
import type { ProgressTracker } from './shared/progress';
import { invalidInput } from './shared/validate-input';
import { openRun, type WorkflowRun } from './shared/workflow-run';

/** Quick calls. */
export const azure = proxyActivities<AzureActivities>(quickCall);
/** Finds that follow an async operation inside the activity (a container refresh), heartbeating while they wait. */
export const azureAsync = proxyActivities<AzureActivities>(waitUpTo(43 * 60_000, { waitForCancel: true }));
/**
 * Creates (protection, a backup or restore trigger, a file-recovery connection), followed inside
 * the activity: compensation starts only once the activity has stopped, so a create cut off by a
 * cancel cannot start a job or store credentials after the undo ran.
 */
export const azureCreate = proxyActivities<AzureActivities>(forwardCreate(waitUpTo(43 * 60_000)));
/** Undo steps: retried until they succeed or clearly cannot. */
export const azureUndo = proxyActivities<AzureActivities>(undoStep);

interface AzureVmInput {
  endpoint: string;
  vmName?: string;
  vmResourceId?: string;
  pollIntervalMs: number;
}

/** The opening of every Azure workflow: the run is about one VM, by name or resource id. */
export function openAzureRun<S extends z.ZodType<AzureVmInput>>(workflowType: string, steps: readonly string[], input: S, rawInput: unknown): WorkflowRun<z.output<S>> {
  return openRun(
    {
      workflowType,
      steps,
      input,
      about: (i) => `VM ${i.vmName ?? i.vmResourceId} on ${i.endpoint}`,
      tag: (i) => ({ provider: 'azure', vmId: i.vmResourceId ?? i.vmName ?? '' }),
    },
    rawInput,
  );
}

/** The 'find' step: the vault answers and knows the VM (protected or among its protectable VMs). */
export async function findVm(run: WorkflowRun<AzureVmInput>) {
  const { endpoint, vmName, vmResourceId, pollIntervalMs: pollMs } = run.input;
  run.progress.enter('find');
  await azure.azureCheckEndpoint({ endpoint });
  const vm = await azureAsync.azureFindVm({ endpoint, vmName, vmResourceId, pollMs });
  return { vm, item: { endpoint, containerName: vm.containerName, protectedItemName: vm.protectedItemName } };
}

/** The input names a VM the vault does not protect: refused as an invalid input. */
export function notProtected(run: WorkflowRun<unknown>, vmName: string, hint = 'it has no recovery points'): ApplicationFailure {
  return invalidInput(run.progress.current.workflowType, [`VM ${vmName} is not protected by the vault: ${hint}`]);
}

/** The 'find' and 'recoveryPoint' steps of a restore: a protected VM and its recovery point ("latest" or by name). */
export async function findRecoveryPoint(run: WorkflowRun<AzureVmInput & { recoveryPoint: string }>) {
  const { vm, item } = await findVm(run);
  if (!vm.protected) throw notProtected(run, vm.vmName);
  run.progress.enter('recoveryPoint');
  const rp = await azure.azureFindRecoveryPoint({ ...item, recoveryPoint: run.input.recoveryPoint });
  return { vm, item, rp };
}

/**
 * Triggers a job (a backup or a restore) and follows it to its end; a job that did not succeed
 * fails the run. The undo that cancels the job is registered before the trigger: a trigger cut off
 * mid-way still has its job (and only its job) found and cancelled.
 */
export async function triggerAndFollowJob<T extends { jobId: string }>(
  run: WorkflowRun<AzureVmInput & { jobTimeoutMinutes: number }>,
  job: { operation: 'Backup' | 'Restore'; vmName: string },
  trigger: (since: string) => Promise<T>,
): Promise<{ triggered: T; job: AzureJobSummary }> {
  const { endpoint, pollIntervalMs: pollMs, jobTimeoutMinutes } = run.input;
  // `since`: when the run's trigger began. A retry after a lost reply adopts the job its first attempt
  // started (even if it already ended); a job someone else started earlier is never the run's.
  const since = new Date().toISOString();
  let jobId: string | undefined;
  let cutOff: TriggerKnowledge | undefined;
  const forgetJob = run.undo(`cancel the ${job.operation.toLowerCase()} job of VM ${job.vmName}`, () =>
    azureUndo.azureCancelJob({ endpoint, jobId, vmName: job.vmName, operation: job.operation, since, trigger: cutOff, pollMs }),
  );
  let triggered: T;
  try {
    triggered = await trigger(since);
  } catch (err) {
    cutOff = triggerKnowledge(err);
    throw err;
  }
  jobId = triggered.jobId;

  run.progress.enter('job');
  const ended = await followJob(endpoint, triggered.jobId, run.progress, { pollIntervalMs: pollMs, timeoutMinutes: jobTimeoutMinutes });
  forgetJob();
  if (ended.status !== 'Completed' && ended.status !== 'CompletedWithWarnings') throw jobFailure(ended);
  return { triggered, job: ended };
}

/**
 * What a trigger cut off by the run's cancellation knew about its job (the details of its
 * cancellation): the undo then cancels that job and no other.
 */
function triggerKnowledge(err: unknown): TriggerKnowledge | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof CancelledFailure) return e.details[0] as TriggerKnowledge | undefined;
  }
  return undefined;
}

export function describeJob(job: AzureJobSummary): string {
  const tasks = job.tasks.map((t) => `${t.taskId}: ${t.status}${t.status === 'InProgress' && t.progressPercentage !== undefined ? ` ${t.progressPercentage}%` : ''}`).join('; ');
  return `${job.operation} job ${job.jobId} ${job.status}${job.progressPercentage !== undefined ? ` ${job.progressPercentage}%` : ''}${tasks ? ` — ${tasks}` : ''}`;
}

/** A slice lasts at least this long when nothing moves (an hour)… */
const MIN_SLICE_MS = 60 * 60_000;
/** …or a twentieth of the job's time limit: about 20 slices plus a few for status changes and progress steps, for any job up to 7 days. */
const TIME_SLICES = 20;
/** Progress the run reports between status changes: 0, 25, 50, 75 %. */
const PROGRESS_STEP_PERCENT = 25;
/** A slice still makes a few polls when the time left is tiny. */
const MIN_POLLS_PER_SLICE = 3;

/**
 * Follows an Azure job until it is terminal, mirroring its status, tasks and progress into the
 * progress query. Cancelling the run interrupts the wait (the caller's saga cancels the job).
 */
export async function followJob(endpoint: string, jobId: string, progress: ProgressTracker, options: { pollIntervalMs: number; timeoutMinutes: number }): Promise<AzureJobSummary> {
  // Guards following the job in one heartbeating activity per slice (azureFollowJob) instead of an
  // azureGetJob activity and a timer per poll, whose history outgrew Temporal's limit on a long
  // job. Runs that reached the job step before this change replay the timer loop. Can go
  // (deprecatePatch) once no run started before this version can still be open: 7 days (the
  // longest jobTimeoutMinutes) after it runs on every worker.
  if (!patched('azure-follow-job-in-activity')) return followJobWithTimers(endpoint, jobId, progress, options);
  const deadline = Date.now() + options.timeoutMinutes * 60_000;
  const pollMs = options.pollIntervalMs;
  const longestSliceMs = Math.max(MIN_SLICE_MS, (options.timeoutMinutes * 60_000) / TIME_SLICES, MIN_POLLS_PER_SLICE * pollMs);
  const follow = proxyActivities<AzureActivities>(
    // A short heartbeat timeout, so that a cancel reaches the polling activity within seconds (the
    // activity heartbeats every second, also while a GET is slow; the SDK sends them at most every
    // 4 s); the saga cancels the job only after the poller has stopped.
    waitUpTo(longestSliceMs, { heartbeatTimeout: '5 seconds', waitForCancel: true }),
  ).azureFollowJob;
  let last: AzureJobSummary | undefined;
  for (;;) {
    // No slice outlasts the deadline by more than a few polls.
    const maxSliceMs = Math.max(Math.min(longestSliceMs, deadline - Date.now()), MIN_POLLS_PER_SLICE * pollMs);
    const slice = await follow({ endpoint, jobId, pollMs, maxSliceMs, progressStepPercent: PROGRESS_STEP_PERCENT, last });
    last = slice.job;
    progress.update({ message: describeJob(last) });
    if (last.terminal) return last;
    if (Date.now() >= deadline) throw jobStuck(last, options.timeoutMinutes);
  }
}

/** The loop of runs that reached the job step before 'azure-follow-job-in-activity': one activity and one timer per poll. */
async function followJobWithTimers(endpoint: string, jobId: string, progress: ProgressTracker, options: { pollIntervalMs: number; timeoutMinutes: number }): Promise<AzureJobSummary> {
  const deadline = Date.now() + options.timeoutMinutes * 60_000;
  for (;;) {
    const job = await azure.azureGetJob({ endpoint, jobId });
    progress.update({ message: describeJob(job) });
    if (job.terminal) return job;
    if (Date.now() >= deadline) throw jobStuck(job, options.timeoutMinutes);
    await sleep(options.pollIntervalMs);
  }
}

function jobStuck(job: AzureJobSummary, timeoutMinutes: number): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorTypes.stuck, nonRetryable: true, message: `${job.operation} job ${job.jobId} is still ${job.status} after ${timeoutMinutes} minutes` });
}

/** A job that ended without success, in the service's own words. */
export function jobFailure(job: AzureJobSummary): ApplicationFailure {
  const errors = job.errors.map((e) => [e.code !== undefined ? `${e.code}` : '', e.title, e.message].filter(Boolean).join(' ')).join('; ');
  return ApplicationFailure.create({
    type: ErrorTypes.azureJobFailed,
    nonRetryable: true,
    message: `Azure ${job.operation} job ${job.jobId} ended ${job.status}${errors ? `: ${errors}` : ''}`,
    details: [job],
  });
}

export function warningsOf(job: AzureJobSummary): string[] {
  return job.status === 'CompletedWithWarnings' ? job.errors.map((e) => [e.title, e.message].filter(Boolean).join(': ')) : [];
}
