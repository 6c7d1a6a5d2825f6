/**
 * ManageIQ snapshots: manageiqSnapshot (create → task → confirm → retention), manageiqRevert (VMs
 * only) and manageiqDeleteSnapshots (bulk, each resource's result reported).
 */
import { ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import { ErrorTypes } from '../lib/errors';
import type { z } from 'zod';
import type { DeleteReport, ManageiqActivities, ManageiqRef, ManageiqSnapshot, ManageiqTask } from '../activities/manageiq/activities';
import { runIdTail } from '../lib/temporal/run-tag';
import { manageiqDeleteSnapshotsInput, manageiqRevertInput, manageiqSnapshotInput } from '../contracts/manageiq/input';
import { forwardCreate, quickCall, undoStep, waitUpTo } from './shared/activity-options';
import { openRun, type WorkflowRun } from './shared/workflow-run';
import type { ManageiqDeleteSnapshotsResult, ManageiqRevertResult, ManageiqSnapshotResult } from '../contracts/manageiq/results';
import { MANAGEIQ_DELETE_STEPS, MANAGEIQ_REVERT_STEPS, MANAGEIQ_SNAPSHOT_STEPS } from '../contracts/manageiq/steps';

const miq = proxyActivities<ManageiqActivities>(quickCall);
// The create heartbeats while its call is on its way, so a dead worker is noticed within the timeout.
const miqCreate = proxyActivities<ManageiqActivities>(forwardCreate({ ...quickCall, heartbeatTimeout: '20 seconds' }));
const miqUndo = proxyActivities<ManageiqActivities>(undoStep);
const miqLong = (timeoutSeconds: number, pollMs: number) => proxyActivities<ManageiqActivities>(waitUpTo(timeoutSeconds * 1000, { heartbeatTimeout: Math.max(30_000, pollMs * 3) }));

type TaskOutcome = ManageiqTask & { polls: number };

/** Waits for the appliance's task (when the call started one); a task that did not end Ok or Warn fails the run. */
async function waitForTask(run: WorkflowRun<{ endpoint: string; taskTimeoutSeconds: number; pollIntervalMs: number }>, taskId: string | undefined, what: string): Promise<TaskOutcome | undefined> {
  if (!taskId) return undefined;
  const { endpoint, taskTimeoutSeconds, pollIntervalMs } = run.input;
  const task = await miqLong(taskTimeoutSeconds, pollIntervalMs).manageiqWaitTask({ endpoint, taskId, deadline: Date.now() + taskTimeoutSeconds * 1000, pollMs: pollIntervalMs });
  if (task.status === 'Ok' || task.status === 'Warn') return task;
  throw ApplicationFailure.create({
    type: ErrorTypes.manageiqTaskFailed,
    nonRetryable: true,
    message: `${what}: ManageIQ task ${task.id} finished with status ${task.status}${task.message ? `: ${task.message}` : ''}`,
    details: [task],
  });
}

function stamp(iso: string): string {
  return iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
}

/** The opening of every ManageIQ workflow: the run is about one resource (a VM or a cloud instance). */
function openManageiqRun<S extends z.ZodType<ManageiqRef>>(workflowType: string, steps: readonly string[], input: S, rawInput: unknown): WorkflowRun<z.output<S>> {
  return openRun(
    {
      workflowType,
      steps,
      input,
      about: (i) => `${i.collection === 'instances' ? 'instance' : 'VM'} ${i.resourceId} on ${i.endpoint}`,
      tag: (i) => ({ provider: 'manageiq', vmId: i.resourceId }),
      // The reaper keeps the snapshot of a run that reached retention, even a terminated one (workflows/reaper.ts).
      searchedSteps: ['retention'],
    },
    rawInput,
  );
}

/** The preflight step of every ManageIQ workflow: the appliance answers and the resource exists. */
async function preflight(run: WorkflowRun<ManageiqRef>): ReturnType<ManageiqActivities['manageiqPreflight']> {
  run.progress.enter('preflight');
  await miq.manageiqCheckEndpoint({ endpoint: run.input.endpoint });
  return miq.manageiqPreflight({ endpoint: run.input.endpoint, collection: run.input.collection, resourceId: run.input.resourceId });
}

export async function manageiqSnapshot(rawInput: unknown): Promise<ManageiqSnapshotResult> {
  const run = openManageiqRun('manageiqSnapshot', MANAGEIQ_SNAPSHOT_STEPS, manageiqSnapshotInput, rawInput);
  const { input, progress, workflowId, runId, startedAt } = run;
  const ref = { endpoint: input.endpoint, collection: input.collection, resourceId: input.resourceId };
  // Unique per run, so a retried create finds (adopts) what an earlier attempt made, and the undo
  // finds it too. Runs started before the patch used the run id's first 8 characters, which runs
  // started in the same second share (one run adopted another VM's create task). deprecatePatch
  // once no manageiqSnapshot run started before this change can be open.
  const runTag = patched('manageiq-name-run-tail') ? runIdTail(runId) : runId.slice(0, 8);
  const name = `${input.namePrefix}${stamp(startedAt)}-${runTag}`;

  return run.steps(async () => {
    const resource = await preflight(run);

    progress.enter('create');
    let taskId: string | undefined;
    // Registered before the create: a create whose reply was lost is still found by its name and removed.
    const forgetSnapshot = run.undo(`delete snapshot ${name} of ${resource.name}`, () => miqUndo.manageiqRemoveRunSnapshot({ ...ref, name, taskId, pollMs: input.pollIntervalMs }));
    // Guards the create's cancellation type: a cancelled run now waits until the create has stopped
    // (forwardCreate) before the undo runs, so a create still on its way cannot land after the undo.
    // Runs started before used the default (TRY_CANCEL: the undo ran at once) and replay on that
    // branch. deprecatePatch once no manageiqSnapshot run started before this change can be open.
    const create = patched('manageiq-create-waits-for-cancel') ? miqCreate : miq;
    const created = await create.manageiqCreateSnapshot({ ...ref, name, description: input.description, memory: input.memory });
    taskId = created.taskId;

    progress.enter('task');
    const task = await waitForTask(run, created.taskId, `creating snapshot ${name}`);

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
      ...run.times(),
    };
  });
}

export async function manageiqRevert(rawInput: unknown): Promise<ManageiqRevertResult> {
  const run = openManageiqRun('manageiqRevert', MANAGEIQ_REVERT_STEPS, manageiqRevertInput, rawInput);
  const { input, progress } = run;
  if (input.collection !== 'vms') {
    progress.finish('failed');
    throw ApplicationFailure.create({
      type: ErrorTypes.revertNotSupported,
      nonRetryable: true,
      message: `manageiqRevert: revert is supported for VMs only; instance ${input.resourceId} cannot be reverted to a snapshot (ManageIQ offers no revert for cloud instances). No call was made.`,
    });
  }
  const ref = { endpoint: input.endpoint, collection: input.collection, resourceId: input.resourceId };
  return run.steps(async () => {
    const resource = await preflight(run);
    progress.enter('find');
    const snapshot = await miq.manageiqFindSnapshot({ ...ref, name: input.snapshotName, snapshotId: input.snapshotId });
    progress.enter('revert');
    const started = await miq.manageiqRevertSnapshot({ ...ref, snapshotId: snapshot.id });
    progress.enter('task');
    const task = await waitForTask(run, started.taskId, `reverting ${resource.name} to snapshot ${snapshot.name}`);
    progress.finish('completed');
    return { provider: 'manageiq', endpoint: input.endpoint, resource: { collection: 'vms', id: resource.id, name: resource.name }, snapshot, task, message: started.message };
  });
}

export async function manageiqDeleteSnapshots(rawInput: unknown): Promise<ManageiqDeleteSnapshotsResult> {
  const run = openManageiqRun('manageiqDeleteSnapshots', MANAGEIQ_DELETE_STEPS, manageiqDeleteSnapshotsInput, rawInput);
  const { input, progress } = run;
  const ref = { endpoint: input.endpoint, collection: input.collection, resourceId: input.resourceId };
  return run.steps(async () => {
    const resource = await preflight(run);
    progress.enter('delete');
    const results = await miqLong(1800, input.pollIntervalMs).manageiqBulkDelete({
      ...ref,
      snapshotIds: input.snapshotIds,
      namePrefix: input.namePrefix,
      waitForTasks: input.waitForTasks,
      pollMs: input.pollIntervalMs,
    });
    const ok = (r: DeleteReport) => r.success && (r.taskStatus === undefined || r.taskStatus === 'Ok' || r.taskStatus === 'Warn');
    const succeeded = results.filter(ok).length;
    progress.update({ message: results.length ? `${succeeded} of ${results.length} deleted` : `no snapshot of ${resource.name} starts with "${input.namePrefix}"` });
    progress.finish('completed');
    return { provider: 'manageiq', endpoint: input.endpoint, resource: { collection: input.collection, id: resource.id, name: resource.name }, results, succeeded, failed: results.length - succeeded };
  });
}
