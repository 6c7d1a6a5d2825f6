import { ovirtTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { Progress } from '../../contracts/progress';
import type { OvirtHarness } from '../helpers/ovirt-harness';
import { assertClean, backupSnapshots } from '../helpers/ovirt-inspect';
import { eventually } from '../helpers/eventually';

// A slow copy, so the cancellation lands in the middle of it.
const test = ovirtTest({ copy: { maxBytesPerSecond: 512 * 1024 } });

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

test('cancelling during the copy detaches the disks, deletes the snapshot and leaves no partial image', async ({ h }) => {
  const handle = await h.client.workflow.start('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: `cancel-${Date.now()}`, args: [h.input()] });
  await eventually(
    async () => (await handle.query<Progress>('progress')).step,
    (s) => s === 'copy',
    20_000,
  );
  await new Promise((r) => setTimeout(r, 1000));
  await handle.cancel();

  await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);
  const progress = await handle.query<Progress>('progress');
  assert.equal(progress.state, 'cancelled');
  assert.ok(
    progress.undone.some((u) => u.startsWith('detach disk')),
    `undone: ${progress.undone.join(', ')}`,
  );
  assert.ok(progress.undone.some((u) => u.startsWith('delete snapshot')));
  await eventually(
    () => backupSnapshots(h),
    (s) => s.length === 0,
  );
  await assertClean(h);
  assert.deepEqual(
    (await filesUnder(h.dirs.repository)).filter((f) => f.endsWith('.part')),
    [],
    'no half-written disk image',
  );
  const description = await handle.describe();
  assert.deepEqual(description.searchAttributes.BackupOutcome, ['cancelled']);
});

test('cancelling while the snapshot create is in flight: the create lands first, then is undone (no orphan)', async ({ h }) => {
  // The engine is slow to answer the create; the cancel arrives while it is under way.
  h.simulator.faults.add({ method: 'POST', path: '/vms/:id/snapshots', times: 1, action: { kind: 'delay', ms: 3000 } });
  const creates = () => h.simulator.calls.matching('POST', /^\/vms\/[^/]+\/snapshots$/).length;
  const before = creates();
  const handle = await h.client.workflow.start('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: `cancel-create-${Date.now()}`, args: [h.input()] });
  await eventually(
    () => Promise.resolve(h.simulator.faults.list()[0]!.fired),
    (n) => n >= 1,
    20_000,
  );
  await handle.cancel();
  await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);
  // The run waited for the create's answer before it undid anything, so the snapshot it removed
  // was there already: nothing lands after the run ended.
  assert.equal(creates(), before + 1, 'the delayed create had landed before the run ended');
  const progress = await handle.query<Progress>('progress');
  assert.equal(progress.state, 'cancelled');
  assert.deepEqual((await handle.describe()).searchAttributes.BackupOutcome, ['cancelled']);
  await eventually(
    () => backupSnapshots(h),
    (s) => s.length === 0,
  );
  await assertClean(h);
  h.simulator.faults.clear();
});
