/**
 * Restoring, checking, listing and pruning incremental chains end to end (simulator, workers,
 * repository): ovirtRestore brings back any point of a chain as a new VM whose disk hashes to the
 * source disk's SHA-256 at that point's time; a chain with a missing link is refused before any
 * vendor change; verifyBackups composes a point; ovirtListBackups shows mode and parent;
 * pruneBackups removes only the points no kept point builds on, and the engine's root checkpoints
 * they held, after which the kept points still restore and the next incremental still chains.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, test } from 'vitest';
import { composeChainImageHere } from '../helpers/compose-chain';
import type { BackupSummary } from '../../activities/copy/restore-types';
import type { OvirtIncrementalManifest } from '../../contracts/ovirt/incremental-results';
import type { OvirtRestoreResult } from '../../contracts/ovirt/results';
import type { VerifyBackupsResult } from '../../contracts/repository/results';
import type { PruneBackupsResult } from '../../contracts/retention/results';
import { BITMAP_GRANULARITY } from '../../simulators/ovirt';
import { startOvirtHarness, type OvirtHarness } from '../helpers/ovirt-harness';

const MiB = 1024 * 1024;
const DISK = 4 * MiB;
let h: OvirtHarness;
let n = 0;

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
const repoInput = (overrides: Record<string, unknown> = {}) => ({ proxyVmId: h.demo.proxyVmId, ...overrides });
const backup = (overrides: Record<string, unknown> = {}) => h.execute<OvirtIncrementalManifest>('ovirtIncrementalBackup', h.input(overrides), 'incremental');
const restore = (overrides: Record<string, unknown>) => h.execute<OvirtRestoreResult>('ovirtRestore', h.input({ cluster: h.demo.clusterName, vmName: `web-01-point-${++n}`, ...overrides }), 'restore');

/** A guest write to one 64 KiB block of the OS disk between backups; the disk's SHA-256 after it. */
async function write(block: number): Promise<string> {
  await h.state.writeDiskRange(os(), block * BITMAP_GRANULARITY, BITMAP_GRANULARITY);
  return h.state.diskContentSha256(os());
}

/** A chain point composed into a file on the copy worker: its SHA-256. */
async function composedSha(dir: string): Promise<string> {
  const target = join(h.dirs.data, `compose-${++n}.img`);
  const { sha256 } = await composeChainImageHere(h.copySettings, { dir, diskId: os(), targetPath: target });
  assert.equal(
    createHash('sha256')
      .update(await readFile(target))
      .digest('hex'),
    sha256,
  );
  await rm(target);
  return sha256;
}

/** The message of a failed run, its cause's included. */
async function failureOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, String(err));
    const cause = err.cause as (Error & { cause?: Error }) | undefined;
    return `${cause?.message ?? ''} ${cause?.cause?.message ?? ''}`;
  }
  assert.fail('the run was expected to fail');
}

/** Engine calls that change something. */
const changes = () =>
  h.simulator.calls
    .all()
    .filter((c) => c.method !== 'GET' && !c.path.includes('/sso/'))
    .map((c) => `${c.method} ${c.path}`);

test('the third point of a chain restores with ovirtRestore as a new VM whose disk hashes to the source disk at that point; a missing middle link is refused before any vendor change', async () => {
  const shas = [await h.state.diskContentSha256(os())];
  const points = [await backup()];
  for (const block of [3, 17, 40]) {
    shas.push(await write(block));
    points.push(await backup());
  }
  assert.deepEqual(
    points.map((p) => p.backup.mode),
    ['full', 'incremental', 'incremental', 'incremental'],
  );
  assert.ok(
    points.every((p) => p.config && p.config.bytes > 0),
    'every point saved the VM’s OVF',
  );
  await write(50); // the source moves on after the last backup

  const third = points[2]!;
  const restored = await restore({ backup: third.repository.dir });
  assert.equal(restored.backup.dir, third.repository.dir);
  assert.ok(restored.vm, 'a new VM, from the OVF saved with the point');
  assert.equal(h.state.getVm(restored.vm.id).status, 'down');
  const disk = restored.disks.find((d) => d.sourceDiskId === os())!;
  assert.equal(await h.state.diskContentSha256(disk.diskId), shas[2], 'the new disk holds the source disk’s bytes at the third point’s time');
  assert.equal(disk.sha256, shas[2]);
  assert.equal(disk.manifestSha256, third.disks[0]!.imageSha256);
  assert.notEqual(shas[2], await h.state.diskContentSha256(os()), 'the source moved on since');

  // By the backup run's workflow id, and `latest`: the newest point of either procedure.
  const latest = await restore({ backup: 'latest', disksOnly: true });
  assert.equal(latest.backup.dir, points[3]!.repository.dir);
  assert.equal(await h.state.diskContentSha256(latest.disks[0]!.diskId), shas[3]);

  // A chain with its middle link gone: the newest point is refused before anything is made.
  const middle = points[1]!.repository.dir;
  await rm(join(h.dirs.repository, middle), { recursive: true });
  const before = changes().length;
  const message = await failureOf(restore({ backup: points[3]!.repository.dir }));
  assert.match(message, new RegExp(`chain of backup ${points[3]!.repository.dir} is broken: its link ${middle} .* is missing`));
  assert.deepEqual(changes().slice(before), [], 'no vendor change');
  // The point before the gap still restores.
  assert.equal(await composedSha(points[0]!.repository.dir), shas[0]);
});

test('listing shows each point’s mode and parent; verifyBackups composes a point and catches a flipped byte in the full under it', async () => {
  const full = await backup();
  await write(5);
  const inc = await backup();
  const listed = await h.execute<BackupSummary[]>('ovirtListBackups', repoInput({ vmId: h.demo.vmId }), 'list');
  assert.deepEqual(
    listed.map((b) => [b.dir, b.kind, b.mode, b.parent]),
    [
      [inc.repository.dir, 'incremental', 'incremental', full.repository.dir],
      [full.repository.dir, 'incremental', 'full', undefined],
    ],
  );
  const checked = await h.execute<VerifyBackupsResult>('verifyBackups', repoInput({ vmId: h.demo.vmId, backup: inc.repository.dir }), 'verify');
  assert.equal(checked.ok, true);
  assert.deepEqual(checked.backups[0]!.bad, []);
  assert.equal(checked.backups[0]!.filesRead, 2, 'the composed disk and the OVF');

  // A flipped byte in the full: the incremental's composition no longer matches.
  const fullImage = join(h.dirs.repository, full.repository.dir, full.disks[0]!.fileName);
  const bytes = await readFile(fullImage);
  bytes[4096] = bytes[4096]! ^ 0xff;
  await writeFile(fullImage, bytes);
  const message = await failureOf(h.execute('verifyBackups', repoInput({ vmId: h.demo.vmId, backup: inc.repository.dir }), 'verify'));
  assert.match(message, new RegExp(`${inc.disks[0]!.fileName} \\(composed from 2 backup\\(s\\)\\) has sha256 [0-9a-f]{64}, the manifest says ${inc.disks[0]!.imageSha256}`));
});

test('pruneBackups keepLast 2 over a chain of five removes only what no kept point needs, and the root checkpoints those held; the kept points restore, the next incremental chains', async () => {
  const shas: string[] = [];
  const points: OvirtIncrementalManifest[] = [];
  // full, incremental, incremental, full (a new chain), incremental
  for (const [i, full] of [false, false, false, true, false].entries()) {
    shas.push(i === 0 ? await h.state.diskContentSha256(os()) : await write(10 + i));
    points.push(await backup(full ? { full: true } : {}));
  }
  assert.deepEqual(
    points.map((p) => p.backup.mode),
    ['full', 'incremental', 'incremental', 'full', 'incremental'],
  );
  const checkpointsBefore = h.state.backups.checkpointsOf(h.demo.vmId).map((c) => c.id);
  assert.deepEqual(
    checkpointsBefore,
    points.map((p) => p.backup.toCheckpointId),
  );

  // keepLast 1 keeps the newest point and, with it, the full it builds on (a dry run: nothing goes).
  const dry = await h.execute<PruneBackupsResult>('pruneBackups', repoInput({ vmId: h.demo.vmId, keepLast: 1, dryRun: true }), 'prune');
  assert.deepEqual(
    dry.removed.map((r) => r.id),
    points
      .slice(0, 3)
      .map((p) => p.repository.dir)
      .reverse(),
  );
  assert.deepEqual(dry.kept.find((k) => k.id === points[3]!.repository.dir)?.reasons, [`the kept backup ${points[4]!.repository.dir} builds on it`]);

  const pruned = await h.execute<PruneBackupsResult>('pruneBackups', repoInput({ vmId: h.demo.vmId, keepLast: 2 }), 'prune');
  assert.deepEqual(
    pruned.removed.map((r) => r.id),
    points
      .slice(0, 3)
      .map((p) => p.repository.dir)
      .reverse(),
    'the first chain goes: nothing kept builds on it',
  );
  assert.deepEqual(
    pruned.kept.map((k) => k.id),
    [points[4]!.repository.dir, points[3]!.repository.dir],
  );
  assert.deepEqual(pruned.checkpoints, [{ vmId: h.demo.vmId, endpoint: 'ovirt-sim', removed: checkpointsBefore.slice(0, 3), left: [] }]);
  assert.deepEqual(
    h.state.backups.checkpointsOf(h.demo.vmId).map((c) => c.id),
    checkpointsBefore.slice(3),
    'the engine lost only the roots the removed points held',
  );

  // The kept points restore byte for byte, composed and through ovirtRestore.
  assert.equal(await composedSha(points[3]!.repository.dir), shas[3]);
  assert.equal(await composedSha(points[4]!.repository.dir), shas[4]);
  const restored = await restore({ backup: points[4]!.repository.dir, disksOnly: true });
  assert.equal(await h.state.diskContentSha256(restored.disks[0]!.diskId), shas[4]);

  // The next incremental still chains, from the kept head.
  const sha = await write(60);
  const next = await backup();
  assert.equal(next.backup.mode, 'incremental');
  assert.equal(next.parent, points[4]!.repository.dir);
  assert.equal(next.backup.fromCheckpointId, points[4]!.backup.toCheckpointId);
  assert.equal(await composedSha(next.repository.dir), sha);
});

test('a checkpoint whose point was pruned while an older point stayed is removed by a later prune once it is the root; the engine ends with only the kept points’ checkpoints', async () => {
  const points: OvirtIncrementalManifest[] = [];
  // full, incremental, incremental, full (a new chain), incremental
  for (const [i, full] of [false, false, false, true, false].entries()) {
    if (i > 0) await write(20 + i);
    points.push(await backup(full ? { full: true } : {}));
  }
  const cps = points.map((p) => p.backup.toCheckpointId);
  assert.deepEqual(
    h.state.backups.checkpointsOf(h.demo.vmId).map((c) => c.id),
    cps,
  );
  const dirs = points.map((p) => p.repository.dir);
  const prune = () => h.execute<PruneBackupsResult>('pruneBackups', repoInput({ vmId: h.demo.vmId, keepLast: 2 }), 'prune');

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

  // Once the newest point is verified, the first full goes too: its checkpoint is the root, and those of the points pruned before follow it.
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

  // Nothing is left to remember: a third prune removes nothing and asks the engine nothing.
  const third = await prune();
  assert.deepEqual(third.removed, []);
  assert.equal(third.checkpoints, undefined);
  assert.equal(h.state.backups.checkpointsOf(h.demo.vmId).length, 2);
  // The chain goes on from the kept head.
  await write(70);
  const next = await backup();
  assert.equal(next.backup.mode, 'incremental');
  assert.equal(next.backup.fromCheckpointId, cps[4]);
});

test('composeChainImage run again over what a killed attempt left (a longer file of other bytes) writes exactly the point', async () => {
  await backup();
  const sha = await write(7);
  const point = await backup();
  const target = join(h.dirs.data, `compose-rerun-${++n}.img`);
  await writeFile(target, Buffer.alloc(DISK + MiB, 0xa5));
  const { sha256, bytes } = await composeChainImageHere(h.copySettings, { dir: point.repository.dir, diskId: os(), targetPath: target });
  const written = await readFile(target);
  await rm(target);
  assert.equal(bytes, DISK);
  assert.equal(sha256, sha);
  assert.equal(written.length, DISK, 'nothing of the earlier attempt past the disk');
  assert.equal(createHash('sha256').update(written).digest('hex'), sha);
});
