/**
 * A fixed slice of the restore's chaos matrix (`npm run chaos -- --only ovirt-restore,ovirt-drill`
 * runs all of it, both workflows): the lost replies of the disk and VM creates, a 503 burst on the
 * VM create, and a SIGKILL of the worker process (with the proxy's copy worker) in the middle of
 * writing the images. Each run completes, its VM's disks hold the backed-up bytes, and the engine
 * holds nothing else of it: no floating restored disk, nothing on the proxy, nothing made twice.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChaosCluster } from '../../chaos/cluster';
import { runCase } from '../../chaos/engine';
import { discoverCalls } from '../../chaos/matrix';
import { MID_WRITE, ovirtRestoreTarget, type OvirtRestoreChaosTarget } from '../../chaos/targets/ovirt-restore';
import type { CaseResult, FaultCase } from '../../chaos/types';
import type { OvirtRestoreResult } from '../../contracts/ovirt/results';

let dir: string;
let cluster: ChaosCluster;
let target: OvirtRestoreChaosTarget;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chaos-restore-test-'));
  [cluster, target] = await Promise.all([ChaosCluster.start(dir), ovirtRestoreTarget()]);
  await cluster.startWorker(target.worker);
  // The backup every case restores, made by ovirtSnapshotBackup on the same worker.
  await target.prepare!(cluster);
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
  await target?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Completed, nothing left but the new VM with its disks, nothing twice, and those disks hold the backed-up bytes. */
async function assertRestored(r: CaseResult): Promise<OvirtRestoreResult> {
  const what = `${r.fault} ${r.detail} → ${r.outcome}${r.message ? ` (${r.message})` : ''}`;
  assert.equal(r.outcome, 'completed', what);
  assert.deepEqual(r.leftovers, [], `${what}: nothing left at the vendor but the restored VM and its disks`);
  assert.deepEqual(r.duplicates, [], `${what}: nothing created twice`);
  const result = (await cluster.client.workflow.getHandle(r.workflowId).result()) as OvirtRestoreResult;
  assert.ok(result.vm, `${what}: a VM was restored`);
  assert.equal(result.disks.length, 2, `${what}: both disks restored`);
  for (const disk of result.disks) assert.equal(await target.diskContentSha256(disk.diskId), disk.manifestSha256, `${what}: restored disk ${disk.name} holds the backed-up bytes`);
  return result;
}

const run = (fault: FaultCase) => runCase(cluster, target, fault, { caseTimeoutMs: 60_000 });
const fired = (r: CaseResult) => assert.ok(r.faultsFired > 0, `${r.fault} ${r.detail}: the fault really happened`);

test('baseline: a clean restore completes and makes the calls the slice aims at', async () => {
  await assertRestored(await run({ kind: 'none' }));
  const calls = discoverCalls(target).map((c) => `${c.method} ${c.path}`);
  for (const call of ['POST /disks', 'POST /vms', 'POST /vms/:p1/diskattachments', 'DELETE /vms/:p1/diskattachments/:p2']) assert.ok(calls.includes(call), `${call} in ${calls.join(', ')}`);
});

test('lost reply of a disk create: the retry adopts the disk by the run’s tag, one disk per source disk', async () => {
  const r = await run({ kind: 'lost-create-reply', call: { method: 'POST', path: '/disks' } });
  fired(r);
  await assertRestored(r);
});

test('lost reply of the VM create: the retry adopts the VM, one VM', async () => {
  const r = await run({ kind: 'lost-create-reply', call: { method: 'POST', path: '/vms' } });
  fired(r);
  await assertRestored(r);
});

test('a burst of 503 on the VM create: retried, one VM', async () => {
  const r = await run({ kind: '5xx-burst', call: { method: 'POST', path: '/vms' } });
  fired(r);
  await assertRestored(r);
});

test('SIGKILL of the worker and its copy worker in the middle of writing the images: the write is taken up again, the restore completes', async () => {
  const starts = cluster.workerStarts;
  const r = await run({ kind: 'worker-sigkill', step: 'write', point: MID_WRITE });
  fired(r);
  await assertRestored(r);
  assert.equal(cluster.workerStarts, starts + 1, 'the worker process was replaced');
  // The write the kill cut short was taken up by the new copy worker (it resumes at its heartbeated offset: test/unit/repository-activities.test.ts).
  const events = (await cluster.client.workflow.getHandle(r.workflowId).fetchHistory()).events ?? [];
  const writes = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'writeImageToDevice').map((e) => String(e.eventId)));
  const attempts = events.filter((e) => writes.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId))).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
  assert.equal(attempts.length, 2, 'one write per disk');
  assert.ok(Math.max(...attempts) > 1, `a write ran again after the kill (attempts ${attempts.join(', ')})`);
});
