/**
 * A fixed slice of the chain-point restore's chaos matrix (`npm run chaos -- --only
 * ovirt-incremental-restore` runs all of it): ovirtRestore of the middle point of an incremental
 * chain, composed from the full and a delta while it is written, with a SIGKILL of the copy
 * worker's own process mid-write and of both processes. Each run completes, its disks hash to the
 * point's imageSha256 (checked by the target after each case, counted with the leftovers), and the
 * engine holds nothing else of it: no floating disk, nothing on the proxy, nothing made twice.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChaosCluster } from '../../chaos/cluster';
import { runCase } from '../../chaos/engine';
import { ovirtIncrementalRestoreTarget, type OvirtRestoreChaosTarget } from '../../chaos/targets/ovirt-restore';
import type { CaseResult, FaultCase } from '../../chaos/types';
import type { OvirtRestoreResult } from '../../contracts/ovirt/results';

let dir: string;
let cluster: ChaosCluster;
let target: OvirtRestoreChaosTarget;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chaos-chain-restore-test-'));
  [cluster, target] = await Promise.all([ChaosCluster.start(dir), ovirtIncrementalRestoreTarget()]);
  await cluster.startWorker(target.worker);
  // The chain (full, incremental, incremental) whose middle point every case restores.
  await target.prepare!(cluster);
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
  await target?.stop();
  await rm(dir, { recursive: true, force: true });
});

const run = (fault: FaultCase) => runCase(cluster, target, fault, { caseTimeoutMs: 60_000 });
const what = (r: CaseResult) => `${r.fault} ${r.detail} → ${r.outcome}${r.message ? ` (${r.message})` : ''}`;

/** Completed; nothing left but the new VM and its disks, which hash to the point's (the target's afterCase); nothing twice. */
async function assertRestored(r: CaseResult): Promise<OvirtRestoreResult> {
  assert.equal(r.outcome, 'completed', what(r));
  assert.deepEqual(r.leftovers, [], `${what(r)}: nothing left, and the restored disks hold the point's bytes`);
  assert.deepEqual(r.duplicates, [], `${what(r)}: nothing created twice`);
  const result = (await cluster.client.workflow.getHandle(r.workflowId).result()) as OvirtRestoreResult;
  assert.ok(result.vm, `${what(r)}: a VM was restored`);
  for (const disk of result.disks) assert.equal(await target.diskContentSha256(disk.diskId), disk.manifestSha256, `${what(r)}: ${disk.name}`);
  return result;
}

test('baseline: the chain’s middle point restores, composed from two backups', async () => {
  await assertRestored(await run({ kind: 'none' }));
});

test('SIGKILL of the copy worker’s process alone, then of both, mid-write of the chain point: the write is taken up again, the disks hash to the point', async () => {
  for (const worker of ['copy', undefined] as const) {
    const starts = cluster.workerStarts;
    const r = await run({ kind: 'worker-sigkill', step: 'write', afterMs: 250, ...(worker ? { worker } : {}) });
    assert.ok(r.faultsFired > 0, `${what(r)}: killed`);
    assert.ok(cluster.workerStarts > starts, `${what(r)}: a worker process was replaced`);
    await assertRestored(r);
    const events = (await cluster.client.workflow.getHandle(r.workflowId).fetchHistory()).events ?? [];
    const writes = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'writeImageToDevice').map((e) => String(e.eventId)));
    const attempts = events.filter((e) => writes.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId))).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
    assert.ok(Math.max(...attempts) > 1, `${what(r)}: a write ran again after the kill (attempts ${attempts.join(', ')})`);
  }
});
