/**
 * ovirtIncrementalBackup end to end with the copy worker on a restic repository: the engine hands
 * out only the dirty ranges (bytes imageio served stay ≤ 1.05 × the rewritten bytes), and each
 * point is stored as a whole image of the disk (the parent's image from `restic dump` with the
 * dirty ranges over it), so every point restores byte for byte on its own; a broken chain falls
 * back to a full and says why; a failed or cancelled copy leaves no image snapshot; retention forgets any point on its own and removes the engine's
 * root checkpoints the removed points held; `restic check` is clean after each. Skipped, saying
 * why, without restic.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, test } from 'vitest';
import { composeChainImageHere } from '../helpers/compose-chain';
import { runRestic } from '../../activities/copy/restic/restic-cli';
import { resticSnapshots } from '../../activities/copy/restic/restic-store';
import type { BackupSummary } from '../../activities/copy/restore-types';
import type { OvirtIncrementalManifest } from '../../contracts/ovirt/incremental-results';
import type { OvirtRestoreResult } from '../../contracts/ovirt/results';
import type { VerifyBackupsResult } from '../../contracts/repository/results';
import type { PruneBackupsResult } from '../../contracts/retention/results';
import { BITMAP_GRANULARITY } from '../../simulators/ovirt';
import { eventually } from '../helpers/eventually';
import { startOvirtHarness, type OvirtHarness } from '../helpers/ovirt-harness';
import { resticForTests, tempResticRepository, RESTIC_TEST_PASSWORD } from '../helpers/restic';

const binary = resticForTests();
const MiB = 1024 * 1024;
const DISK = 16 * MiB;

describe.skipIf(!binary)('incremental chains in a restic repository', () => {
  let h: OvirtHarness;
  let repo: Awaited<ReturnType<typeof tempResticRepository>>;
  let n = 0;

  beforeAll(async () => {
    repo = await tempResticRepository(binary!);
    h = await startOvirtHarness({
      copy: { restic: repo.settings },
      sim: { diskSizes: { os: DISK, data: MiB }, backupTimings: { backupStartMs: 200, backupFinalizeMs: 200, transferStartMs: 100, transferFinalizeMs: 100 } },
      secrets: { RESTIC_PASSWORD: RESTIC_TEST_PASSWORD },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await repo?.remove();
  });
  beforeEach(async () => {
    h.simulator.reset();
    h.imageio.faults.clear();
    await h.state.init();
    // A new engine: the repository starts empty too.
    const ids = (await resticSnapshots(repo.settings, [])).map((s) => s.id);
    if (ids.length) await runRestic(repo.settings, ['forget', ...ids]);
  });

  const os = () => h.demo.osDiskId;
  const repoInput = (overrides: Record<string, unknown> = {}) => ({ proxyVmId: h.demo.proxyVmId, ...overrides });
  const backup = (overrides: Record<string, unknown> = {}) => h.execute<OvirtIncrementalManifest>('ovirtIncrementalBackup', h.input(overrides), 'incremental-restic');

  /** Rewrites `blocks` distinct 64 KiB blocks of the OS disk; returns the bytes rewritten. */
  async function rewrite(blocks: number[]): Promise<number> {
    for (const b of blocks) await h.state.writeDiskRange(os(), b * BITMAP_GRANULARITY, BITMAP_GRANULARITY);
    return blocks.length * BITMAP_GRANULARITY;
  }

  /** The point's disk as the copy worker restores it (`restic dump` into a file): its SHA-256, checked against the file. */
  async function restoredSha(dir: string): Promise<string> {
    const target = join(h.dirs.data, `restic-restore-${++n}.img`);
    const { sha256, bytes, layers } = await composeChainImageHere(h.copySettings, { dir, diskId: os(), targetPath: target });
    assert.equal(
      createHash('sha256')
        .update(await readFile(target))
        .digest('hex'),
      sha256,
    );
    await rm(target);
    assert.equal(bytes, DISK);
    assert.equal(layers, 1, 'a point in restic is a whole image: nothing to compose');
    return sha256;
  }

  async function assertResticClean(): Promise<void> {
    assert.match(await runRestic(repo.settings, ['check']), /no errors were found/);
  }

  test('a full, then incrementals with writes between: each reads ≤ 1.05 × the rewritten bytes, is a whole image in restic, and every point restores byte for byte', async () => {
    const points: Array<{ dir: string; sha: string }> = [];
    let sha = await h.state.diskContentSha256(os());
    const full = await backup();
    assert.equal(full.backup.mode, 'full');
    assert.match(full.fallbacks[0]!.reason, /no earlier backup/);
    assert.equal(full.disks[0]!.imageSha256, sha);
    assert.ok(full.disks[0]!.resticSnapshotId, 'the image is a restic snapshot');
    assert.match(full.repository.manifestPath ?? '', /^restic:[0-9a-f]+:\/ovirt-incremental\//);
    points.push({ dir: full.repository.dir, sha });

    let parent = full;
    const added: number[] = [];
    for (const blocks of [[1, 2], [7], [2, 40, 41, 63], [0]]) {
      const rewritten = await rewrite(blocks);
      sha = await h.state.diskContentSha256(os());
      const servedBefore = h.state.backups.bytesServed;
      const inc = await backup();
      const served = h.state.backups.bytesServed - servedBefore;
      assert.equal(inc.backup.mode, 'incremental');
      assert.equal(inc.backup.fromCheckpointId, parent.backup.toCheckpointId, 'from the chain head’s checkpoint, found in restic');
      assert.equal(inc.parent, parent.repository.dir);
      assert.deepEqual(inc.fallbacks, []);
      assert.ok(served <= 1.05 * rewritten, `read ${served} bytes from imageio for ${rewritten} rewritten`);
      assert.equal(inc.disks[0]!.bytesFetched, served);
      assert.equal(inc.disks[0]!.imageSha256, sha, 'the disk’s SHA-256 at the backup’s time');
      assert.equal(inc.disks[0]!.bytes, DISK, 'a synthetic full: the whole disk');
      assert.match(inc.disks[0]!.fileName, /\.raw$/);
      added.push(inc.disks[0]!.bytesAdded ?? DISK);
      points.push({ dir: inc.repository.dir, sha });
      parent = inc;
    }
    // Deduplication: each whole image adds only restic's chunks (≈ 1 MiB on average) around the rewritten blocks.
    console.info(`restic added per incremental (bytes): ${added.join(', ')} for ${DISK}-byte images`);
    assert.ok(added.reduce((a, b) => a + b, 0) < (added.length * DISK) / 2, `restic added ${added.join(', ')} bytes for ${added.length} whole images of ${DISK} bytes`);
    for (const point of points) assert.equal(await restoredSha(point.dir), point.sha, `${point.dir} restores byte for byte`);
    assert.equal(existsSync(h.dirs.repository), false, 'nothing went to the directory repository');

    // ovirtRestore of a middle point, and verifyBackups of it (restic dump, hash checked).
    const third = points[2]!;
    const restored = await h.execute<OvirtRestoreResult>('ovirtRestore', h.input({ backup: third.dir, cluster: h.demo.clusterName, vmName: 'web-01-restic-point' }), 'restore');
    assert.ok(restored.vm, 'a new VM from the OVF saved with the point');
    const disk = restored.disks.find((d) => d.sourceDiskId === os())!;
    assert.equal(await h.state.diskContentSha256(disk.diskId), third.sha);
    const checked = await h.execute<VerifyBackupsResult>('verifyBackups', repoInput({ vmId: h.demo.vmId, backup: third.dir }), 'verify');
    assert.equal(checked.ok, true);
    assert.equal(checked.backups[0]!.filesRead, 2, 'the disk image and the OVF');
    await assertResticClean();
  });

  test('bitmaps invalid (an unclean shutdown): the run completes with a full that says why, and the chain goes on from it', async () => {
    await backup();
    await rewrite([5]);
    h.state.backups.invalidateBitmaps(h.demo.vmId);
    let sha = await h.state.diskContentSha256(os());
    const afterShutdown = await backup();
    assert.equal(afterShutdown.backup.mode, 'full');
    assert.match(afterShutdown.fallbacks[0]!.reason, /failed on the engine/);
    assert.equal(await restoredSha(afterShutdown.repository.dir), sha);

    await rewrite([9]);
    sha = await h.state.diskContentSha256(os());
    const next = await backup();
    assert.equal(next.backup.mode, 'incremental');
    assert.equal(next.parent, afterShutdown.repository.dir);
    assert.equal(await restoredSha(next.repository.dir), sha);
    await assertResticClean();
  });

  test('a failed run and a cancelled run mid-copy leave no disk snapshot of theirs, no transfer open, no disk locked; the chain stays usable', async () => {
    const full = await backup();
    await rewrite([3]);
    const failedBefore = (await resticSnapshots(repo.settings, ['kind:disk'])).length;
    h.imageio.faults.add({ method: 'GET', path: '/:ticket', action: { kind: 'status', status: 403, message: 'No such ticket' }, times: 0 });
    await assert.rejects(backup(), (err: unknown) => err instanceof WorkflowFailedError);
    h.imageio.faults.clear();

    // A copy held up in imageio while restic reads the parent's image, cancelled while its transfer is open.
    h.imageio.faults.add({ method: 'GET', path: '/:ticket', action: { kind: 'delay', ms: 5000 }, times: 0 });
    const handle = await h.start('ovirtIncrementalBackup', h.input(), 'incremental-restic-cancel');
    await eventually(
      async () => h.state.backups.openTransfers().length,
      (count) => count === 1,
      30_000,
    );
    await handle.cancel();
    await assert.rejects(handle.result());
    h.imageio.faults.clear();
    assert.deepEqual(h.state.backups.openTransfers(), [], 'no transfer left open');
    assert.equal(h.state.diskStatus(h.state.getDisk(os())), 'ok', 'no disk left locked');
    assert.equal((await resticSnapshots(repo.settings, ['kind:disk'])).length, failedBefore, 'restic saved no image of the failed or the cancelled run');

    const sha = await h.state.diskContentSha256(os());
    const next = await backup();
    assert.equal(next.backup.mode, 'incremental');
    assert.equal(next.parent, full.repository.dir, 'failed and cancelled runs are no chain head');
    assert.equal(await restoredSha(next.repository.dir), sha);
    await assertResticClean();
  });

  test('pruneBackups keepLast 2 forgets the older points on their own (no point needs another) and removes the root checkpoints they held; the kept points restore, the next incremental chains', async () => {
    const shas: string[] = [];
    const points: OvirtIncrementalManifest[] = [];
    for (let i = 0; i < 4; i++) {
      shas.push(i === 0 ? await h.state.diskContentSha256(os()) : (await rewrite([10 + i]), await h.state.diskContentSha256(os())));
      points.push(await backup());
    }
    assert.deepEqual(
      points.map((p) => p.backup.mode),
      ['full', 'incremental', 'incremental', 'incremental'],
    );
    const listed = await h.execute<BackupSummary[]>('ovirtListBackups', repoInput({ vmId: h.demo.vmId }), 'list');
    assert.deepEqual(
      listed.map((b) => [b.dir, b.kind, b.mode, b.parent]),
      points.map((p) => [p.repository.dir, 'incremental', p.backup.mode, undefined]).reverse(),
      'restic points are listed without a parent to keep: each is a whole image',
    );
    const checkpointsBefore = h.state.backups.checkpointsOf(h.demo.vmId).map((c) => c.id);

    const pruned = await h.execute<PruneBackupsResult>('pruneBackups', repoInput({ vmId: h.demo.vmId, keepLast: 2 }), 'prune');
    assert.deepEqual(
      pruned.removed.map((r) => r.id),
      [points[1]!.repository.dir, points[0]!.repository.dir],
      'the full goes too: the kept incrementals do not need it',
    );
    assert.deepEqual(pruned.checkpoints, [{ vmId: h.demo.vmId, endpoint: 'ovirt-sim', removed: checkpointsBefore.slice(0, 2), left: [] }]);
    assert.deepEqual(
      h.state.backups.checkpointsOf(h.demo.vmId).map((c) => c.id),
      checkpointsBefore.slice(2),
    );
    assert.equal(pruned.repository?.command, 'restic prune');
    const left = (await resticSnapshots(repo.settings, [`vm:${h.demo.vmId}`])).map((s) => s.paths[0]!);
    assert.ok(
      left.every((p) => !p.includes(points[0]!.repository.dir) && !p.includes(points[1]!.repository.dir)),
      'no snapshot of a removed point is left',
    );

    assert.equal(await restoredSha(points[2]!.repository.dir), shas[2]);
    const restored = await h.execute<OvirtRestoreResult>('ovirtRestore', h.input({ backup: points[3]!.repository.dir, disksOnly: true, cluster: h.demo.clusterName }), 'restore');
    assert.equal(await h.state.diskContentSha256(restored.disks[0]!.diskId), shas[3]);

    const sha = (await rewrite([60]), await h.state.diskContentSha256(os()));
    const next = await backup();
    assert.equal(next.backup.mode, 'incremental');
    assert.equal(next.parent, points[3]!.repository.dir);
    assert.equal(await restoredSha(next.repository.dir), sha);
    await assertResticClean();
  });
  test('a checkpoint whose point was forgotten while an older point stayed is remembered in restic and removed by a later prune once it is the root; the engine ends with only the kept points’ checkpoints', async () => {
    const points: OvirtIncrementalManifest[] = [];
    // full, incremental, incremental, full (a new chain), incremental
    for (const [i, full] of [false, false, false, true, false].entries()) {
      if (i > 0) await rewrite([20 + i]);
      points.push(await backup(full ? { full: true } : {}));
    }
    const cps = points.map((p) => p.backup.toCheckpointId);
    assert.deepEqual(
      h.state.backups.checkpointsOf(h.demo.vmId).map((c) => c.id),
      cps,
    );
    const dirs = points.map((p) => p.repository.dir);
    const prune = () => h.execute<PruneBackupsResult>('pruneBackups', repoInput({ vmId: h.demo.vmId, keepLast: 2 }), 'prune');
    const records = async () => (await resticSnapshots(repo.settings, ['kind:checkpoints', `vm:${h.demo.vmId}`])).map((s) => s.paths[0]!);

    // The first full is the newest verified backup: it stays, the two points after it go (the middle of the engine's checkpoint list).
    assert.equal((await h.execute<VerifyBackupsResult>('verifyBackups', repoInput({ vmId: h.demo.vmId, backup: dirs[0] }), 'verify')).ok, true);
    const first = await prune();
    assert.deepEqual(
      first.removed.map((r) => r.id),
      [dirs[2], dirs[1]],
    );
    assert.deepEqual(first.checkpoints, [{ vmId: h.demo.vmId, endpoint: 'ovirt-sim', removed: [], left: [cps[2], cps[1]] }], 'not the root: they stay for now');
    assert.deepEqual(
      h.state.backups.checkpointsOf(h.demo.vmId).map((c) => c.id),
      cps,
    );
    const recordPath = `/${dirs[0]!.split('/').slice(0, 2).join('/')}/removed-checkpoints.json`;
    assert.deepEqual(await records(), [recordPath], 'one snapshot of the record: the older ones are forgotten');
    const listed = await h.execute<BackupSummary[]>('ovirtListBackups', repoInput({ vmId: h.demo.vmId }), 'list');
    assert.deepEqual(
      listed.map((b) => b.dir),
      [dirs[4], dirs[3], dirs[0]],
      'the record is no backup',
    );

    // Once the newest point is verified, the first full goes too: its checkpoint is the root, and those of the points forgotten before follow it.
    assert.equal((await h.execute<VerifyBackupsResult>('verifyBackups', repoInput({ vmId: h.demo.vmId, backup: dirs[4] }), 'verify')).ok, true);
    const second = await prune();
    assert.deepEqual(
      second.removed.map((r) => r.id),
      [dirs[0]],
    );
    assert.deepEqual(second.checkpoints, [{ vmId: h.demo.vmId, endpoint: 'ovirt-sim', removed: [cps[0], cps[1], cps[2]], left: [] }]);
    assert.deepEqual(
      h.state.backups.checkpointsOf(h.demo.vmId).map((c) => c.id),
      [cps[3], cps[4]],
      'only the kept points’ checkpoints are left on the engine',
    );
    assert.deepEqual(await records(), [], 'nothing left to remember: the record is forgotten');

    // Nothing is left to remember: a third prune removes nothing and asks the engine nothing.
    const third = await prune();
    assert.deepEqual(third.removed, []);
    assert.equal(third.checkpoints, undefined);
    assert.equal(h.state.backups.checkpointsOf(h.demo.vmId).length, 2);
    // The chain goes on from the kept head.
    await rewrite([70]);
    const next = await backup();
    assert.equal(next.backup.mode, 'incremental');
    assert.equal(next.backup.fromCheckpointId, cps[4]);
    await assertResticClean();
  });
});
