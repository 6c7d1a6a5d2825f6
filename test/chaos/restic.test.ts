/**
 * A fixed slice of the restic chaos targets (`npm run chaos -- --only ovirt-restic,ovirt-restic-restore`
 * runs all of it): the copy worker, backing up into a restic repository, SIGKILLed once a disk's
 * snapshot is saved but before the activity completes, and while `restic backup --stdin` streams
 * with another, live restic holding a lock; the restore SIGKILLed while `restic dump` reads; a
 * prune (keepLast 1 of three backups) SIGKILLed while `restic prune` runs. Each run completes, nothing is left at the vendor, `restic check` is clean, no lock is left (the live
 * one survived), a backup's manifest names one complete snapshot per disk, and what a killed
 * attempt left in the repository is listed; after the prune the kept backup reads back whole.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChaosCluster } from '../../chaos/cluster';
import { runCase } from '../../chaos/engine';
import { ovirtTarget } from '../../chaos/targets/ovirt';
import { ovirtResticRestoreTarget, type OvirtRestoreChaosTarget } from '../../chaos/targets/ovirt-restore';
import { ovirtResticPruneTarget } from '../../chaos/targets/ovirt-restic-prune';
import type { CaseResult, ChaosTarget, FaultCase } from '../../chaos/types';
import type { OvirtRestoreResult } from '../../contracts/ovirt/results';
import { resticForTests } from '../helpers/restic';

const restic = resticForTests();

let dir: string;
let cluster: ChaosCluster;
let backup: ChaosTarget;
let restore: OvirtRestoreChaosTarget | undefined;
let prune: ChaosTarget | undefined;

beforeAll(async () => {
  if (!restic) return;
  dir = await mkdtemp(join(tmpdir(), 'chaos-restic-test-'));
  [cluster, backup] = await Promise.all([ChaosCluster.start(dir), ovirtTarget({ restic: true })]);
  await cluster.startWorker(backup.worker);
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
  await backup?.stop();
  await restore?.stop();
  await prune?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const what = (r: CaseResult) => `${r.fault} ${r.detail} → ${r.outcome}${r.message ? ` (${r.message})` : ''}`;

/** Completed; nothing at the vendor, no lock, `restic check` clean (both in leftovers); nothing twice. */
function assertClean(r: CaseResult): void {
  assert.equal(r.outcome, 'completed', what(r));
  assert.ok(r.faultsFired > 0 || r.fault.startsWith('none'), `${what(r)}: the kill really happened`);
  assert.deepEqual(r.leftovers, [], `${what(r)}: nothing left at the vendor, no restic lock left, restic check clean`);
  assert.deepEqual(r.duplicates, [], `${what(r)}: nothing created twice`);
}

const point = (step: string, name: string, afterMs?: number): FaultCase => ({ kind: 'worker-sigkill', step, point: name, ...(afterMs ? { afterMs } : {}) });

describe.skipIf(!restic)('restic chaos', () => {
  const run = (target: ChaosTarget, fault: FaultCase) => runCase(cluster, target, fault, { caseTimeoutMs: 90_000 });

  test('SIGKILL once a disk’s snapshot is saved, before the activity completes: the retry adopts it, no second snapshot', async () => {
    const r = await run(backup, point('copy', 'disk snapshot saved, activity not completed'));
    assertClean(r);
    assert.deepEqual(r.leftInRepository, [], `${what(r)}: the manifest names every snapshot the run made`);
  });

  test('SIGKILL while restic backup streams, a live restic holding a lock: the stale lock goes, the live one stays, the backup is taken again', async () => {
    const r = await run(backup, point('copy', 'restic backup streaming (its lock taken), a live restic holding another lock', 100));
    assertClean(r);
    // The killed attempt saved nothing: restic died with the worker before its input ended.
    assert.deepEqual(r.leftInRepository, [], what(r));
  });

  test('restore: SIGKILL while `restic dump` of an image reads: its stale lock goes, the write is taken up again, the restored disks hold the backed-up bytes', async () => {
    restore = await ovirtResticRestoreTarget();
    await cluster.startWorker(restore.worker);
    await restore.prepare!(cluster);
    const r = await run(restore, point('write', 'restic dump streaming (its lock taken)', 100));
    assertClean(r);
    assert.deepEqual(r.leftInRepository, [], `${what(r)}: a restore stores nothing`);
    const result = (await cluster.client.workflow.getHandle(r.workflowId).result()) as OvirtRestoreResult;
    for (const disk of result.disks) assert.equal(await restore.diskContentSha256(disk.diskId), disk.manifestSha256, `${what(r)}: disk ${disk.name}`);
  });

  test('prune: SIGKILL while `restic prune` runs: its stale lock goes, the retry prunes, restic check is clean and the kept backup restores', async () => {
    prune = await ovirtResticPruneTarget();
    await cluster.startWorker(prune.worker);
    await prune.prepare!(cluster);
    const r = await run(prune, point('remove', 'restic prune running (its lock taken)', 300));
    // leftovers hold the repository's problems: a lock left, restic check, a kept backup that does not read back, a removed one still there.
    assertClean(r);
    const result = (await cluster.client.workflow.getHandle(r.workflowId).result()) as { kept: unknown[]; removed: unknown[]; repository?: { command: string } };
    assert.equal(result.kept.length, 1, what(r));
    assert.equal(result.removed.length, 1, what(r));
    assert.equal(result.repository?.command, 'restic prune', what(r));
  });
});
