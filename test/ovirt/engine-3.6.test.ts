/**
 * The whole oVirt backup against a 3.6 engine, which serves API v3 only, on its plain path (/api),
 * with Basic auth: a backup, a failure and two cancellations with their compensation, and the
 * reaper after a terminate. On such an engine `DELETE /vms/{id}/disks/{did}` without
 * `<action><detach>true</detach></action>` removes the disk and its data, so after every run the
 * engine's call log is read: each DELETE of a VM's disk it received was a detach, and no disk was
 * removed.
 */
import { ovirtTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { OvirtBackupManifest } from '../../contracts/ovirt/results';
import type { Progress } from '../../contracts/progress';
import type { ReaperResult } from '../../contracts/reaper/results';
import type { OvirtHarness } from '../helpers/ovirt-harness';
import { assertClean, backupSnapshots, proxyAttachments } from '../helpers/ovirt-inspect';
import { eventually } from '../helpers/eventually';

// Slow enough copies that a cancel or a terminate lands in the middle of one.
const test = ovirtTest({ apiVersion: 'v3', auth: 'basic', copy: { maxBytesPerSecond: 1024 * 1024 } });
test.afterEach(({ h }) => h.simulator.faults.clear());

const VM_DISK_DELETE = /^\/vms\/[^/]+\/disks\/[^/]+$/;

const diskDeletes = (h: OvirtHarness) => h.simulator.calls.matching('DELETE', VM_DISK_DELETE).filter((c) => c.status === 200);

/**
 * Every DELETE of a VM's disk the engine got since the harness started was a detach, `more` of them
 * since `before`; no disk is gone.
 */
function assertOnlyDetaches(h: OvirtHarness, before: number, more: number): void {
  const deletes = diskDeletes(h);
  assert.equal(deletes.length, before + more, 'detaches the engine got in this test');
  assert.deepEqual(
    deletes.filter((c) => c.note !== 'detached').map((c) => `${c.path}: ${c.note}`),
    [],
    'every v3 DELETE of a disk carried the detach action',
  );
  assert.deepEqual(h.state.removedDisks, [], 'no disk was removed from the engine');
  for (const id of [h.demo.osDiskId, h.demo.dataDiskId]) assert.ok(h.state.disks.has(id), `disk ${id} still exists`);
}

test('the harness talks v3 to a 3.6 engine on its plain path', async ({ h }) => {
  assert.equal(h.engine, '3.6');
  assert.match(h.simulator.apiUrl, /\/api$/);
  assert.doesNotMatch(h.simulator.apiUrl, /ovirt-engine/);
});

test('a backup copies every eligible disk and detaches them (never removes them)', async ({ h }) => {
  const detachesBefore = diskDeletes(h).length;
  const manifest = await h.execute<OvirtBackupManifest>('ovirtSnapshotBackup', h.input(), 'v3-backup');
  assert.deepEqual(manifest.disks.map((d) => d.id).sort(), [h.demo.osDiskId, h.demo.dataDiskId].sort());
  for (const disk of manifest.disks) assert.equal(disk.sha256, await h.state.diskContentSha256(disk.id), `SHA-256 of disk ${disk.id}`);
  await eventually(
    () => backupSnapshots(h),
    (s) => s.length === 0,
  );
  await assertClean(h);
  assertOnlyDetaches(h, detachesBefore, 2);
});

test('a failure after the first attach: compensation detaches it and deletes the snapshot', async ({ h }) => {
  const detachesBefore = diskDeletes(h).length;
  h.simulator.faults.add({ method: 'POST', path: '/vms/:id/disks', nth: 2, action: { kind: 'status', status: 400, message: 'Operation Failed', detail: '[Cannot attach Virtual Disk. Injected.]' } });
  const handle = await h.start('ovirtSnapshotBackup', h.input(), 'v3-attach-fails');
  await assert.rejects(handle.result(), (err: WorkflowFailedError) => /step "attach" failed: .*Injected/.test(String(err.cause?.message)));
  const progress = await handle.query<Progress>('progress');
  assert.ok(
    progress.undone.some((u) => u.startsWith('detach disk')),
    `undone: ${progress.undone.join(', ')}`,
  );
  await eventually(
    () => backupSnapshots(h),
    (s) => s.length === 0,
  );
  await assertClean(h);
  assertOnlyDetaches(h, detachesBefore, 1);
});

test('cancelling during the copy detaches the disks and deletes the snapshot', async ({ h }) => {
  const detachesBefore = diskDeletes(h).length;
  const handle = await h.start('ovirtSnapshotBackup', h.input(), 'v3-cancel-copy');
  await eventually(
    async () => (await handle.query<Progress>('progress')).step,
    (s) => s === 'copy',
    30_000,
  );
  await handle.cancel();
  await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);
  assert.equal((await handle.query<Progress>('progress')).state, 'cancelled');
  await eventually(
    () => backupSnapshots(h),
    (s) => s.length === 0,
  );
  await assertClean(h);
  assertOnlyDetaches(h, detachesBefore, 2);
});

test('cancelling during a slow snapshot create: the create lands, then is undone; the run ends cancelled', async ({ h }) => {
  h.simulator.faults.add({ method: 'POST', path: '/vms/:id/snapshots', times: 1, action: { kind: 'delay', ms: 3000 } });
  const creates = () => h.simulator.calls.matching('POST', /^\/vms\/[^/]+\/snapshots$/).length;
  const before = creates();
  const handle = await h.start('ovirtSnapshotBackup', h.input(), 'v3-cancel-create');
  await eventually(
    () => Promise.resolve(h.simulator.faults.list()[0]!.fired),
    (n) => n >= 1,
    20_000,
  );
  await handle.cancel();
  await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);
  assert.equal(creates(), before + 1, 'the delayed create had landed before the run ended');
  assert.equal((await handle.query<Progress>('progress')).state, 'cancelled');
  assert.deepEqual((await handle.describe()).searchAttributes.BackupOutcome, ['cancelled']);
  await eventually(
    () => backupSnapshots(h),
    (s) => s.length === 0,
  );
  await assertClean(h);
});

test('the reaper detaches and deletes what a terminated run left, with the detach action', async ({ h }) => {
  const detachesBefore = diskDeletes(h).length;
  const doomed = await h.start('ovirtSnapshotBackup', h.input(), 'v3-doomed');
  await eventually(
    async () => (await doomed.query<Progress>('progress')).step,
    (s) => s === 'copy',
    30_000,
  );
  await doomed.terminate('simulating an operator terminating the run');
  assert.equal((await proxyAttachments(h)).length, 2, 'terminate left both disks attached');
  const result = await h.execute<ReaperResult>('reaper', { endpoints: ['ovirt-sim'], pollIntervalMs: 100 }, 'v3-reaper');
  assert.deepEqual(result.removed.map((o) => o.kind).sort(), ['attachment', 'attachment', 'snapshot']);
  assert.deepEqual(result.failed, []);
  await eventually(
    () => backupSnapshots(h),
    (s) => s.length === 0,
  );
  await assertClean(h);
  assertOnlyDetaches(h, detachesBefore, 2);
});
