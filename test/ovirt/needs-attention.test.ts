/**
 * An undo that keeps failing does not leak silently: the run waits in "needs attention" until an
 * operator answers retry (cleaned) or give up (the leftover is reported), with the cleanup update.
 */
import { ovirtTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { BackupClient } from '../../client/backup-client';
import type { Progress } from '../../contracts/progress';
import type { OvirtHarness } from '../helpers/ovirt-harness';
import { assertClean, backupSnapshots } from '../helpers/ovirt-inspect';
import { eventually } from '../helpers/eventually';

let client: BackupClient;
const test = ovirtTest();
test.beforeAll(async ({ h }) => {
  client = new BackupClient(h.client, h.taskQueue);
});
test.afterEach(({ h }) => h.simulator.faults.clear());

type Leftovers = { needsAttention: boolean; leftovers: Array<{ label: string; error: string }> };

async function runStuckInCleanup(h: OvirtHarness, name: string) {
  // The attach fails, and so does every delete of the snapshot: compensation cannot finish.
  h.simulator.faults.add({ method: 'POST', path: '/vms/:id/diskattachments', action: { kind: 'status', status: 400, message: 'Operation Failed', detail: '[Cannot attach Virtual Disk.]' } });
  h.simulator.faults.add({
    method: 'DELETE',
    path: '/vms/:id/snapshots/:sid',
    times: 0,
    action: { kind: 'status', status: 400, message: 'Operation Failed', detail: '[Cannot remove Snapshot. Storage domain is read-only.]' },
  });
  const handle = await h.start('ovirtSnapshotBackup', h.input(), name);
  const stuck = await eventually(
    () => handle.query<Leftovers>('leftovers'),
    (l) => l.needsAttention,
    30_000,
  );
  assert.equal(stuck.leftovers.length, 1);
  assert.match(stuck.leftovers[0]!.label, /delete snapshot/);
  assert.match(stuck.leftovers[0]!.error, /Storage domain is read-only/);
  const progress = await handle.query<Progress>('progress');
  assert.equal(progress.state, 'needs-attention');
  assert.match(progress.message!, new RegExp(`answer with backupctl cleanup ${handle.workflowId} --retry\\|--give-up`));
  const sa = await eventually(
    async () => (await handle.describe()).searchAttributes.BackupOutcome,
    (v) => v?.[0] === 'needs-attention',
    10_000,
  );
  assert.deepEqual(sa, ['needs-attention']);
  assert.equal((await backupSnapshots(h)).length, 1, 'the snapshot is still on the engine while the run waits');
  return handle;
}

test('retry: once the engine recovers, the undo runs again and the engine is clean', async ({ h }) => {
  const handle = await runStuckInCleanup(h, 'attention-retry');
  h.simulator.faults.clear();
  const answer = await client.resolveCleanup(handle.workflowId, 'retry', 'storage back online');
  assert.deepEqual(answer, { action: 'retry', leftovers: [`delete snapshot of VM web-01`], next: 'the failed undos run again' });
  await assert.rejects(handle.result(), (err: WorkflowFailedError) => {
    assert.match((err.cause as Error).message, /step "attach" failed: .*compensation: undone: .*delete snapshot of VM web-01$/);
    return true;
  });
  await eventually(
    () => backupSnapshots(h),
    (s) => s.length === 0,
  );
  await assertClean(h);
});

test('give up: the run ends and reports the leftover it could not remove', async ({ h }) => {
  const handle = await runStuckInCleanup(h, 'attention-give-up');
  await client.resolveCleanup(handle.workflowId, 'give-up', 'will remove by hand');
  await assert.rejects(handle.result(), (err: WorkflowFailedError) => {
    const cause = err.cause as Error & { details?: Array<{ compensation: Array<{ label: string; leftover?: boolean }> }> };
    assert.match(cause.message, /NOT undone, an operator gave up: delete snapshot .*LEFT BEHIND: .*read-only/);
    assert.ok(cause.details?.[0]?.compensation.some((c) => c.leftover && /delete snapshot/.test(c.label)));
    return true;
  });
  const left = await backupSnapshots(h);
  assert.equal(left.length, 1, 'the leftover is really there, as reported');
  // Clean up by hand, as the operator said they would.
  h.simulator.faults.clear();
  await h.execute('ovirtSnapshotBackup', h.input(), 'after-give-up');
  await fetch(`${h.simulator.apiUrl}/vms/${h.demo.vmId}/snapshots/${left[0]!.id}`, {
    method: 'DELETE',
    headers: { authorization: `Basic ${Buffer.from(`admin@internal:sim-secret-Pa55word`).toString('base64')}` },
  });
  await eventually(
    () => backupSnapshots(h),
    (s) => s.length === 0,
  );
  await assertClean(h);
});
