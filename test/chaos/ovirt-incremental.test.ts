/**
 * A fixed slice of ovirtIncrementalBackup's chaos matrix (`npm run chaos -- --only
 * ovirt-incremental` runs all of it): the lost and the garbled reply of the VM backup create, faults on imageio's
 * extents and range reads, and SIGKILLs mid-transfer of the main worker's process and of the copy
 * worker's own process. After each case: no image transfer open, no disk locked, no backup left
 * initializing, ready or finalizing, nothing made twice, and the chain still usable: the case's
 * point (when it completed) and the next incremental's both restore byte for byte.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChaosCluster } from '../../chaos/cluster';
import { runCase } from '../../chaos/engine';
import { discoverCalls } from '../../chaos/matrix';
import { ovirtIncrementalTarget, type OvirtIncrementalChaosTarget } from '../../chaos/targets/ovirt-incremental';
import type { CaseResult, FaultCase } from '../../chaos/types';
import type { OvirtIncrementalManifest } from '../../contracts/ovirt/incremental-results';

let dir: string;
let cluster: ChaosCluster;
let target: OvirtIncrementalChaosTarget;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chaos-incremental-test-'));
  [cluster, target] = await Promise.all([ChaosCluster.start(dir), ovirtIncrementalTarget()]);
  await cluster.startWorker(target.worker);
  // The chain's full, made by ovirtIncrementalBackup on the same workers.
  await target.prepare!(cluster);
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
  await target?.stop();
  await rm(dir, { recursive: true, force: true });
});

const run = (fault: FaultCase) => runCase(cluster, target, fault, { caseTimeoutMs: 90_000 });
const what = (r: CaseResult) => `${r.fault} ${r.detail} → ${r.outcome}${r.message ? ` (${r.message})` : ''}`;

/** The run completed; the engine holds nothing of it; the chain (checked by afterCase, counted with the leftovers) goes on. */
async function assertCompletedAndClean(r: CaseResult): Promise<OvirtIncrementalManifest> {
  assert.equal(r.outcome, 'completed', what(r));
  assert.deepEqual(r.leftovers, [], `${what(r)}: no transfer open, no disk locked, no backup not ended, the chain still usable`);
  assert.deepEqual(r.duplicates, [], `${what(r)}: nothing created twice`);
  const m = (await cluster.client.workflow.getHandle(r.workflowId).result()) as OvirtIncrementalManifest;
  assert.equal(m.backup.mode, 'incremental', `${what(r)}: an incremental, the chain not thrown away`);
  return m;
}

test('baseline: a clean incremental completes, and its calls include imageio’s', async () => {
  const before = target.chain().checked;
  await assertCompletedAndClean(await run({ kind: 'none' }));
  assert.equal(target.chain().checked, before + 1, 'the chain was checked with the next incremental');
  const calls = discoverCalls(target).map((c) => `${c.on ?? 'engine'} ${c.method} ${c.path}`);
  for (const call of [
    'engine POST /vms/:p1/backups',
    'engine POST /imagetransfers',
    'engine POST /vms/:p1/backups/:p2/finalize',
    'imageio OPTIONS /:p1',
    'imageio GET /:p1/extents',
    'imageio GET /:p1',
  ])
    assert.ok(calls.includes(call), `${call} in ${calls.join(', ')}`);
});

test('lost reply of the VM backup create: the retry adopts the backup, one backup, the chain goes on', async () => {
  const r = await run({ kind: 'lost-create-reply', call: { method: 'POST', path: '/vms/:p1/backups' } });
  assert.ok(r.faultsFired > 0, 'the reply was lost');
  await assertCompletedAndClean(r);
});

test('imageio: a 503 burst on the range reads and a dropped extents call are retried; nothing left', async () => {
  for (const fault of [
    { kind: '5xx-burst', call: { on: 'imageio', method: 'GET', path: '/:p1' } },
    { kind: 'drop', call: { on: 'imageio', method: 'GET', path: '/:p1/extents' } },
  ] as const) {
    const r = await run(fault);
    assert.ok(r.faultsFired > 0, `${what(r)}: the fault fired`);
    await assertCompletedAndClean(r);
  }
});

test('a garbled reply to the backup start: the engine made the backup, the run adopts it by its tag and completes; one backup, none left ready', async () => {
  const r = await run({ kind: 'malformed', call: { method: 'POST', path: '/vms/:p1/backups' } });
  assert.ok(r.faultsFired > 0, 'the reply was garbled');
  await assertCompletedAndClean(r);
});

test('SIGKILL mid-transfer of the copy worker’s process alone, then of the main worker’s alone: each run completes, nothing left, the chain goes on', async () => {
  for (const worker of ['copy', 'main'] as const) {
    const starts = cluster.workerStarts;
    const r = await run({ kind: 'worker-sigkill', step: 'copy', afterMs: 250, worker });
    assert.ok(r.faultsFired > 0, `${what(r)}: killed`);
    assert.equal(cluster.workerStarts, starts + 1, `${worker}: only that process was replaced`);
    const m = await assertCompletedAndClean(r);
    // The copy ran again only when its process died (resuming at its heartbeated offset, or from the start).
    if (worker === 'copy') assert.ok(m.disks[0]!.attempts > 1, `${what(r)}: the copy was taken up again (attempts ${m.disks[0]!.attempts})`);
  }
});
