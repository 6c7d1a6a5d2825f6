/**
 * ManageIQ's snapshot, revert and bulk delete with stubbed activities on the time-skipping server:
 * the run's snapshot is removed when a step before its confirmation fails or the run is cancelled,
 * and kept once confirmed; an undo refused until an operator says "retry" waits for them.
 */
import { describe, expect, test } from 'vitest';
import { VendorJob, manageiqStubs } from '../helpers/stub-activities';
import { expectStepFailure, fails, failsFirst, hangsUntilCancelled, needsAttention, outcomeAttribute, progressOf, runEnd, stubServerForFile, type Script, type StepFailureCase } from './stub-worker';

const taskQueue = 'wf-manageiq';
const resource = { endpoint: 'manageiq-sim', collection: 'vms', resourceId: '10' };
/** The run's snapshot is named by prefix, start time and run: the label says which VM it is on. */
const SNAPSHOT = /^delete snapshot bo-\d{8}T\d{6}-\S+ of web-01$/;
const taskFailed = async () => ({ id: 't1', state: 'Finished', status: 'Error', message: 'datastore full', pctComplete: 100, polls: 1 });

const server = stubServerForFile(taskQueue, manageiqStubs(new VendorJob(60_000)));

async function start(workflowType: string, workflowId: string, script: Script, extra: Record<string, unknown> = {}) {
  server.world.script(workflowId, script);
  return server.env.client.workflow.start(workflowType, { taskQueue, workflowId, args: [{ ...resource, ...extra }] });
}

describe('manageiqSnapshot: a failure at each step undoes what the run made', () => {
  const cases: Array<StepFailureCase & { script: Script }> = [
    { step: 'preflight', failing: 'manageiqPreflight', script: { manageiqPreflight: fails('VM 10 not found') }, undos: [], labels: [] },
    { step: 'create', failing: 'manageiqCreateSnapshot', script: { manageiqCreateSnapshot: fails('snapshots not supported') }, undos: ['manageiqRemoveRunSnapshot'], labels: [SNAPSHOT] },
    { step: 'task', failing: 'manageiqWaitTask', script: { manageiqWaitTask: taskFailed }, undos: ['manageiqRemoveRunSnapshot'], labels: [SNAPSHOT] },
    { step: 'confirm', failing: 'manageiqConfirmSnapshot', script: { manageiqConfirmSnapshot: fails('snapshot not listed') }, undos: ['manageiqRemoveRunSnapshot'], labels: [SNAPSHOT] },
    // Confirmed, the snapshot is the run's product: a failing retention leaves it.
    { step: 'retention', failing: 'manageiqApplyRetention', script: { manageiqApplyRetention: fails('bulk delete refused') }, undos: [], labels: [] },
  ];
  test.each(cases)('$failing fails at step "$step"', async (expected) => {
    const workflowId = `miq-saga-${expected.failing}`;
    await start('manageiqSnapshot', workflowId, expected.script);
    await expectStepFailure(server, workflowId, expected);
  });

  test("a task that fails says so in ManageIQ's words", async () => {
    const end = await runEnd(server.env, 'miq-saga-manageiqWaitTask');
    expect(end.failure?.message).toMatch(/ManageIQ task t1 finished with status Error: datastore full/);
  });
});

test('manageiqRevert and manageiqDeleteSnapshots make nothing to undo: a failure names its step', async () => {
  await start('manageiqRevert', 'miq-revert-fails', { manageiqWaitTask: taskFailed }, { snapshotName: 'before-upgrade' });
  await expectStepFailure(server, 'miq-revert-fails', { step: 'task', failing: 'manageiqWaitTask', undos: [], labels: [] });

  await start('manageiqDeleteSnapshots', 'miq-delete-fails', { manageiqBulkDelete: fails('appliance busy') }, { snapshotIds: ['1002', '1003'] });
  await expectStepFailure(server, 'miq-delete-fails', { step: 'delete', failing: 'manageiqBulkDelete', undos: [], labels: [] });
});

test('an undo refused until an operator says "retry": the run needs attention, then undoes and fails naming the step', async () => {
  const workflowId = 'miq-needs-attention';
  const handle = await start('manageiqSnapshot', workflowId, { manageiqConfirmSnapshot: fails('snapshot not listed'), manageiqRemoveRunSnapshot: failsFirst('403 Forbidden', 'VendorForbidden') });

  const waiting = await needsAttention(server.env, workflowId);
  expect(waiting.leftovers).toEqual([{ label: expect.stringMatching(SNAPSHOT), error: '403 Forbidden' }]);

  await handle.signal('cleanup', { action: 'retry', note: 'permission granted' });
  const end = await runEnd(server.env, workflowId);
  expect(end.status).toBe('FAILED');
  expect(end.failure?.message).toMatch(/^step "confirm" failed: snapshot not listed — compensation: undone: delete snapshot \S+ of web-01$/);
  expect(server.world.log(workflowId).filter((e) => e === 'manageiqRemoveRunSnapshot')).toHaveLength(2);
  expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'failed', undone: [expect.stringMatching(SNAPSHOT)] });
  expect((await progressOf(server.env, workflowId)).leftovers).toBeUndefined();
});

describe('a cancelled run ends CANCELLED', () => {
  test('manageiqSnapshot cancelled while its task runs for hours: the wait stops and the snapshot is removed', async () => {
    const workflowId = 'miq-cancel-task';
    const handle = await start('manageiqSnapshot', workflowId, { manageiqWaitTask: hangsUntilCancelled('task') }, { taskTimeoutSeconds: 86_400 });
    await server.world.reached(workflowId, 'task waiting');
    await handle.cancel();

    expect((await runEnd(server.env, workflowId)).status).toBe('CANCELLED');
    const log = server.world.log(workflowId);
    expect(log.slice(log.indexOf('task waiting') + 1).filter((e) => e !== 'task cancelled')).toEqual(['manageiqRemoveRunSnapshot']);
    // The wait at the appliance does not linger after the run.
    await server.world.reached(workflowId, 'task cancelled');
    expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'cancelled', step: 'task', undone: [expect.stringMatching(SNAPSHOT)] });
    expect(await outcomeAttribute(server.env, workflowId)).toBe('cancelled');
  });

  test('manageiqRevert cancelled during its task: nothing to undo, the VM is not touched again', async () => {
    const workflowId = 'miq-cancel-revert';
    const handle = await start('manageiqRevert', workflowId, { manageiqWaitTask: hangsUntilCancelled('revert task') }, { snapshotName: 'before-upgrade' });
    await server.world.reached(workflowId, 'revert task waiting');
    await handle.cancel();

    expect((await runEnd(server.env, workflowId)).status).toBe('CANCELLED');
    await server.world.reached(workflowId, 'revert task cancelled');
    const log = server.world.log(workflowId);
    expect(log.slice(log.indexOf('revert task waiting') + 1)).toEqual(['revert task cancelled']);
    expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'cancelled', step: 'task', undone: [] });
  });
});
