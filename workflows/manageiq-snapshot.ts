/**
 * ManageIQ snapshots: manageiqSnapshot (create → task → confirm → retention), manageiqRevert (VMs
 * only) and manageiqDeleteSnapshots (bulk, each resource's result reported).
 */
import { ApplicationFailure, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { DeleteReport, ManageiqActivities } from '../activities/manageiq/activities';
import { runIdTail } from '../lib/temporal/run-tag';
import { manageiqDeleteSnapshotsInput, manageiqRevertInput, manageiqSnapshotInput } from '../contracts/manageiq/input';
import type { ManageiqDeleteSnapshotsResult, ManageiqRevertResult, ManageiqSnapshotResult, TaskOutcome } from '../contracts/manageiq/results';
import { MANAGEIQ_DELETE_STEPS, MANAGEIQ_REVERT_STEPS, MANAGEIQ_SNAPSHOT_STEPS } from '../contracts/manageiq/steps';
import { failRun } from './shared/fail-run';
import { ProgressTracker } from './shared/progress';
import { Saga } from './shared/saga';
import { parseWorkflowInput } from './shared/validate-input';
import { forwardCreate } from './shared/activity-options';
import { undoRetry, vendorRetry } from './shared/retry-policies';
import { tagRun } from './shared/tag-run';

const miq = proxyActivities<ManageiqActivities>({ startToCloseTimeout: '2 minutes', retry: vendorRetry });
// The create heartbeats while its call is on its way, so a dead worker is noticed within the timeout.
const miqCreate = proxyActivities<ManageiqActivities>(forwardCreate({ startToCloseTimeout: '2 minutes', heartbeatTimeout: '20 seconds' }));
const miqUndo = proxyActivities<ManageiqActivities>({ startToCloseTimeout: '30 minutes', heartbeatTimeout: '1 minute', retry: undoRetry });
const miqLong = (timeoutSeconds: number, pollMs: number) =>
  proxyActivities<ManageiqActivities>({ startToCloseTimeout: (timeoutSeconds + 120) * 1000, heartbeatTimeout: Math.max(30_000, pollMs * 3), retry: vendorRetry });

function requireOk(what: string, task: TaskOutcome): void {
  if (task.status === 'Ok' || task.status === 'Warn') return;
  throw ApplicationFailure.create({
    type: 'ManageiqTaskFailed',
    nonRetryable: true,
    message: `${what}: ManageIQ task ${task.id} finished with status ${task.status}${task.message ? `: ${task.message}` : ''}`,
    details: [task],
  });
}

function stamp(iso: string): string {
  return iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
}

export async function manageiqSnapshot(rawInput: unknown): Promise<ManageiqSnapshotResult> {
  const progress = new ProgressTracker('manageiqSnapshot', MANAGEIQ_SNAPSHOT_STEPS);
  const input = parseWorkflowInput('manageiqSnapshot', manageiqSnapshotInput, rawInput);
  progress.about(`${input.collection === 'instances' ? 'instance' : 'VM'} ${input.resourceId} on ${input.endpoint}`);
  const { workflowId, runId } = workflowInfo();
  const startedAt = new Date().toISOString();
  tagRun('manageiq', input.resourceId);
  const ref = { endpoint: input.endpoint, collection: input.collection, resourceId: input.resourceId };
  // Unique per run, so a retried create finds (adopts) what an earlier attempt made, and the undo
  // finds it too. Runs started before the patch used the run id's first 8 characters, which runs
  // started in the same second share (one run adopted another VM's create task).
  // deprecatePatch once no manageiqSnapshot run started before this patch can be open.
  const runTag = patched('manageiq-name-run-tail') ? runIdTail(runId) : runId.slice(0, 8);
  const name = `${input.namePrefix}${stamp(startedAt)}-${runTag}`;
  const saga = new Saga();

  try {
    progress.enter('preflight');
    await miq.manageiqCheckEndpoint({ endpoint: input.endpoint });
    const resource = await miq.manageiqPreflight(ref);

    progress.enter('create');
    let taskId: string | undefined;
    // Registered before the create: a create whose reply was lost is still found by its name and removed.
    const forgetSnapshot = saga.add(`delete snapshot ${name} of ${resource.name}`, () =>
      miqUndo.manageiqRemoveRunSnapshot({ ...ref, name, taskId, pollMs: input.pollIntervalMs }),
    );
    // Guards the create's cancellation type: a cancelled run now waits until the create has stopped
    // (forwardCreate) before the undo runs, so a create still on its way cannot land after the undo.
    // Runs started before used the default (TRY_CANCEL: the undo ran at once) and replay on that
    // branch. deprecatePatch once no manageiqSnapshot run started before this change can be open.
    const create = patched('manageiq-create-waits-for-cancel') ? miqCreate : miq;
    const created = await create.manageiqCreateSnapshot({ ...ref, name, description: input.description, memory: input.memory });
    taskId = created.taskId;

    progress.enter('task');
    let task: TaskOutcome | undefined;
    if (created.taskId) {
      task = await miqLong(input.taskTimeoutSeconds, input.pollIntervalMs).manageiqWaitTask({
        endpoint: input.endpoint,
        taskId: created.taskId,
        deadline: Date.now() + input.taskTimeoutSeconds * 1000,
        pollMs: input.pollIntervalMs,
      });
      requireOk(`creating snapshot ${name}`, task);
    }

    progress.enter('confirm');
    const { duplicatesRemoved, ...snapshot } = created.adopted
      ? { ...created.adopted, duplicatesRemoved: [] as string[] }
      : await miqLong(input.taskTimeoutSeconds, input.pollIntervalMs).manageiqConfirmSnapshot({ ...ref, name, pollMs: input.pollIntervalMs });
    // Confirmed: the snapshot is the product of the run and stays, whatever retention does.
    forgetSnapshot();

    progress.enter('retention');
    const retention = await miqLong(input.taskTimeoutSeconds, input.pollIntervalMs).manageiqApplyRetention({
      ...ref,
      prefix: input.namePrefix,
      keep: input.keep,
      pollMs: input.pollIntervalMs,
    });
    progress.update({ message: `kept ${retention.kept.length}, deleted ${retention.deleted.filter((d) => d.success).length} of ${retention.deleted.length}` });

    progress.finish('completed');
    return {
      provider: 'manageiq',
      workflowId,
      runId,
      endpoint: input.endpoint,
      resource: { collection: input.collection, id: resource.id, name: resource.name },
      snapshot,
      task,
      duplicatesRemoved,
      retention: {
        prefix: input.namePrefix,
        keep: input.keep,
        kept: retention.kept.map((s) => ({ id: s.id, name: s.name, createTime: s.createTime })),
        deleted: retention.deleted,
        othersUntouched: retention.othersUntouched,
      },
      timings: progress.current.timings,
      startedAt,
      completedAt: new Date().toISOString(),
    };
  } catch (err) {
    return failRun(progress, saga, err);
  }
}

export async function manageiqRevert(rawInput: unknown): Promise<ManageiqRevertResult> {
  const progress = new ProgressTracker('manageiqRevert', MANAGEIQ_REVERT_STEPS);
  const input = parseWorkflowInput('manageiqRevert', manageiqRevertInput, rawInput);
  progress.about(`${input.collection === 'instances' ? 'instance' : 'VM'} ${input.resourceId} on ${input.endpoint}`);
  tagRun('manageiq', input.resourceId);
  if (input.collection !== 'vms') {
    progress.finish('failed');
    throw ApplicationFailure.create({
      type: 'RevertNotSupported',
      nonRetryable: true,
      message: `manageiqRevert: revert is supported for VMs only; instance ${input.resourceId} cannot be reverted to a snapshot (ManageIQ offers no revert for cloud instances). No call was made.`,
    });
  }
  const ref = { endpoint: input.endpoint, collection: input.collection, resourceId: input.resourceId };
  const saga = new Saga();
  try {
    progress.enter('preflight');
    await miq.manageiqCheckEndpoint({ endpoint: input.endpoint });
    const resource = await miq.manageiqPreflight(ref);
    progress.enter('find');
    const snapshot = await miq.manageiqFindSnapshot({ ...ref, name: input.snapshotName, snapshotId: input.snapshotId });
    progress.enter('revert');
    const started = await miq.manageiqRevertSnapshot({ ...ref, snapshotId: snapshot.id });
    progress.enter('task');
    let task: TaskOutcome | undefined;
    if (started.taskId) {
      task = await miqLong(input.taskTimeoutSeconds, input.pollIntervalMs).manageiqWaitTask({
        endpoint: input.endpoint,
        taskId: started.taskId,
        deadline: Date.now() + input.taskTimeoutSeconds * 1000,
        pollMs: input.pollIntervalMs,
      });
      requireOk(`reverting ${resource.name} to snapshot ${snapshot.name}`, task);
    }
    progress.finish('completed');
    return { provider: 'manageiq', endpoint: input.endpoint, resource: { collection: 'vms', id: resource.id, name: resource.name }, snapshot, task, message: started.message };
  } catch (err) {
    return failRun(progress, saga, err);
  }
}

export async function manageiqDeleteSnapshots(rawInput: unknown): Promise<ManageiqDeleteSnapshotsResult> {
  const progress = new ProgressTracker('manageiqDeleteSnapshots', MANAGEIQ_DELETE_STEPS);
  const input = parseWorkflowInput('manageiqDeleteSnapshots', manageiqDeleteSnapshotsInput, rawInput);
  progress.about(`${input.collection === 'instances' ? 'instance' : 'VM'} ${input.resourceId} on ${input.endpoint}`);
  tagRun('manageiq', input.resourceId);
  const ref = { endpoint: input.endpoint, collection: input.collection, resourceId: input.resourceId };
  const saga = new Saga();
  try {
    progress.enter('preflight');
    await miq.manageiqCheckEndpoint({ endpoint: input.endpoint });
    const resource = await miq.manageiqPreflight(ref);
    progress.enter('delete');
    const results = await miqLong(1800, input.pollIntervalMs).manageiqBulkDelete({ ...ref, snapshotIds: input.snapshotIds, waitForTasks: input.waitForTasks, pollMs: input.pollIntervalMs });
    const ok = (r: DeleteReport) => r.success && (r.taskStatus === undefined || r.taskStatus === 'Ok' || r.taskStatus === 'Warn');
    const succeeded = results.filter(ok).length;
    progress.update({ message: `${succeeded} of ${results.length} deleted` });
    progress.finish('completed');
    return { provider: 'manageiq', endpoint: input.endpoint, resource: { collection: input.collection, id: resource.id, name: resource.name }, results, succeeded, failed: results.length - succeeded };
  } catch (err) {
    return failRun(progress, saga, err);
  }
}
