/**
 * ovirtIncrementalBackup end to end against the oVirt simulator's backup API and imageio: a full,
 * then incrementals with guest writes between them, each reading little more than what was
 * rewritten (bytes served by imageio), every point restoring byte for byte from the chain; broken
 * chains completing with a full that says why; failed and cancelled runs leaving no transfer open,
 * no disk locked and no backup ready; a backup stuck in finalizing asking an operator.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, test } from 'vitest';
import { composeChainImageHere } from '../helpers/compose-chain';
import type { OvirtIncrementalManifest } from '../../contracts/ovirt/incremental-results';
import type { Progress } from '../../contracts/progress';
import { BITMAP_GRANULARITY } from '../../simulators/ovirt';
import { startOvirtHarness, type OvirtHarness } from '../helpers/ovirt-harness';
import { eventually } from '../helpers/eventually';

const MiB = 1024 * 1024;
const DISK = 4 * MiB;
let h: OvirtHarness;

beforeAll(async () => {
  h = await startOvirtHarness({ sim: { diskSizes: { os: DISK, data: MiB }, backupTimings: { backupStartMs: 200, backupFinalizeMs: 200, transferStartMs: 100, transferFinalizeMs: 100 } } });
});
afterAll(async () => h?.stop());
beforeEach(async () => {
  h.simulator.reset();
  h.imageio.faults.clear();
  await h.state.init();
  await rm(h.dirs.repository, { recursive: true, force: true });
});

const os = () => h.demo.osDiskId;
const input = (overrides: Record<string, unknown> = {}) => ({ endpoint: 'ovirt-sim', vmId: h.demo.vmId, proxyVmId: h.demo.proxyVmId, pollIntervalMs: 100, ...overrides });
const backup = (overrides: Record<string, unknown> = {}) => h.execute<OvirtIncrementalManifest>('ovirtIncrementalBackup', input(overrides), 'incremental');

async function restoredSha(dir: string, diskId = os()): Promise<string> {
  const target = join(h.dirs.data, `restore-${Math.random().toString(36).slice(2)}.img`);
  const { sha256, bytes } = await composeChainImageHere(h.copySettings, { dir, diskId, targetPath: target });
  const onDisk = createHash('sha256')
    .update(await readFile(target))
    .digest('hex');
  await rm(target);
  assert.equal(onDisk, sha256, 'the composed file hashes as the composition said');
  assert.equal(bytes, DISK);
  return sha256;
}

/** Nothing of the engine's backup API is left holding the VM. */
async function assertEngineClean(): Promise<void> {
  assert.deepEqual(
    h.state.backups.openTransfers().map((t) => t.id),
    [],
    'no image transfer is left open',
  );
  assert.equal(h.state.diskStatus(h.state.getDisk(os())), 'ok', 'no disk is left locked');
  const notEnded = h.state.backups.listBackups(h.demo.vmId).filter((b) => ['initializing', 'ready'].includes(h.state.backups.phase(b)));
  assert.deepEqual(
    notEnded.map((b) => b.id),
    [],
    'no backup is left initializing or ready',
  );
}

/** Rewrites `blocks` distinct 64 KiB blocks of the OS disk; returns the bytes rewritten. */
async function rewrite(blocks: number[]): Promise<number> {
  for (const b of blocks) await h.state.writeDiskRange(os(), b * BITMAP_GRANULARITY, BITMAP_GRANULARITY);
  return blocks.length * BITMAP_GRANULARITY;
}

test('a full, then incrementals with writes between: each reads at most 1.05 × the rewritten bytes, and every point restores byte for byte', async () => {
  const points: Array<{ dir: string; sha: string }> = [];
  let sha = await h.state.diskContentSha256(os());
  const full = await backup();
  assert.equal(full.backup.mode, 'full');
  assert.match(full.fallbacks[0]!.reason, /no earlier backup/);
  assert.deepEqual(
    full.disks.map((d) => d.id),
    [os()],
    'by default only the disks whose backup mode is incremental',
  );
  assert.equal(full.skippedDisks.find((d) => d.id === h.demo.dataDiskId)?.reason.includes('not incremental'), true);
  assert.equal(full.disks[0]!.imageSha256, sha);
  points.push({ dir: full.repository.dir, sha });

  let parent = full;
  const blocksPerRun = [[1, 2], [7], [2, 40, 41, 63], [0]];
  for (const blocks of blocksPerRun) {
    const rewritten = await rewrite(blocks);
    sha = await h.state.diskContentSha256(os());
    const servedBefore = h.state.backups.bytesServed;
    const inc = await backup();
    const served = h.state.backups.bytesServed - servedBefore;
    assert.equal(inc.backup.mode, 'incremental');
    assert.equal(inc.backup.fromCheckpointId, parent.backup.toCheckpointId, 'from the chain head’s checkpoint');
    assert.equal(inc.parent, parent.repository.dir);
    assert.deepEqual(inc.fallbacks, []);
    assert.ok(served <= 1.05 * rewritten, `read ${served} bytes from imageio for ${rewritten} rewritten`);
    assert.equal(inc.disks[0]!.bytesFetched, served);
    assert.equal(inc.disks[0]!.imageSha256, sha, 'the manifest records the disk’s SHA-256 at the backup’s time');
    points.push({ dir: inc.repository.dir, sha });
    parent = inc;
  }
  for (const point of points) assert.equal(await restoredSha(point.dir), point.sha, `${point.dir} restores byte for byte`);
  await assertEngineClean();
});

test('broken chains complete with a full and say why: checkpoint removed, bitmaps invalid, the engine refusing from_checkpoint_id, "bitmap does not exist" after a clean full', async () => {
  await backup();
  // The engine removes only the root: removing the chain's checkpoints one by one takes the head's too.
  for (const c of [...h.state.backups.checkpointsOf(h.demo.vmId)]) h.state.backups.removeCheckpoint(h.demo.vmId, c.id);
  const afterRemoval = await backup();
  assert.equal(afterRemoval.backup.mode, 'full');
  assert.match(afterRemoval.fallbacks[0]!.reason, /no longer listed by the engine/);

  await rewrite([5]);
  h.state.backups.invalidateBitmaps(h.demo.vmId);
  let sha = await h.state.diskContentSha256(os());
  const afterShutdown = await backup();
  assert.equal(afterShutdown.backup.mode, 'full');
  assert.match(afterShutdown.fallbacks[0]!.reason, /failed on the engine/);
  assert.equal(await restoredSha(afterShutdown.repository.dir), sha);

  h.state.script.next('refuseCheckpoint', {});
  const refused = await backup();
  assert.equal(refused.backup.mode, 'full');
  assert.match(refused.fallbacks[0]!.reason, /refused checkpoint/);

  h.state.script.next('incrementalFails', { message: 'Bitmap does not exist' });
  const noBitmap = await backup();
  assert.equal(noBitmap.backup.mode, 'full');

  // The chain goes on from the last full.
  await rewrite([9]);
  sha = await h.state.diskContentSha256(os());
  const next = await backup();
  assert.equal(next.backup.mode, 'incremental');
  assert.equal(next.parent, noBitmap.repository.dir);
  assert.equal(await restoredSha(next.repository.dir), sha);
  await assertEngineClean();
});

test('a failed run and a cancelled run leave no transfer open, no disk locked and no backup ready; the chain stays usable', async () => {
  const full = await backup();
  await rewrite([3]);
  h.imageio.faults.add({ method: 'GET', path: '/:ticket', action: { kind: 'status', status: 403, message: 'No such ticket' }, times: 0 });
  await assert.rejects(backup(), (err: unknown) => err instanceof WorkflowFailedError);
  await assertEngineClean();
  h.imageio.faults.clear();

  // A copy held up in imageio, cancelled while its transfer is open.
  h.imageio.faults.add({ method: 'GET', path: '/:ticket', action: { kind: 'delay', ms: 5000 }, times: 0 });
  const handle = await h.start('ovirtIncrementalBackup', input(), 'incremental-cancel');
  await eventually(
    async () => h.state.backups.openTransfers().length,
    (n) => n === 1,
    30_000,
  );
  await handle.cancel();
  await assert.rejects(handle.result());
  await assertEngineClean();
  h.imageio.faults.clear();

  const next = await backup();
  assert.equal(next.backup.mode, 'incremental');
  assert.equal(next.parent, full.repository.dir, 'failed and cancelled runs are no chain head');
  assert.equal(await restoredSha(next.repository.dir), await h.state.diskContentSha256(os()));
});

test('a backup stuck in finalizing past its bound puts the run in needs-attention, not an endless wait', async () => {
  await backup();
  h.state.script.next('finalizeStuck', {});
  const handle = await h.start('ovirtIncrementalBackup', input({ finalizeTimeoutSeconds: 2 }), 'incremental-stuck');
  const progress = await eventually(
    () => handle.query<Progress>('progress'),
    (p) => p.state === 'needs-attention',
    60_000,
  );
  assert.match(progress.leftovers?.[0]?.error ?? '', /stuck in "finalizing"/);
  await handle.executeUpdate('cleanup', { args: [{ action: 'give-up' }] });
  await assert.rejects(handle.result());
  assert.equal(h.state.backups.openTransfers().length, 0, 'its transfers were finalized before');
});
