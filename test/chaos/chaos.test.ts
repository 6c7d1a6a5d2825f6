/**
 * A small, fixed slice of the chaos matrix (`npm run chaos` runs all of it): one worker process it
 * SIGKILLs, a dev server it restarts on the same SQLite file, vendor faults and lost create replies.
 * After every case the oVirt simulator holds nothing the run made and nothing was created twice.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChaosCluster } from '../../chaos/cluster';
import { runCase } from '../../chaos/engine';
import { discoverCalls } from '../../chaos/matrix';
import { ovirtTarget } from '../../chaos/targets/ovirt';
import type { CaseResult, ChaosTarget, FaultCase } from '../../chaos/types';

let dir: string;
let cluster: ChaosCluster;
let target: ChaosTarget;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chaos-test-'));
  cluster = await ChaosCluster.start(dir);
  target = await ovirtTarget();
  await cluster.startWorker(target.worker);
});
afterAll(async () => {
  await cluster?.stop();
  await target?.stop();
  await rm(dir, { recursive: true, force: true });
});

function assertSurvived(r: CaseResult, { mustComplete = true } = {}): void {
  const what = `${r.fault} ${r.detail}`;
  assert.ok(r.faultsFired > 0, `${what}: the fault really happened`);
  assert.deepEqual(r.leftovers, [], `${what}: nothing left at the vendor`);
  assert.deepEqual(r.duplicates, [], `${what}: nothing created twice`);
  if (mustComplete) assert.equal(r.outcome, 'completed', `${what}: ${r.message ?? ''}`);
  else assert.ok(r.outcome === 'completed' || r.outcome === 'failed-cleanly', `${what}: ${r.outcome} ${r.message ?? ''}`);
}

const run = (fault: FaultCase) => runCase(cluster, target, fault, { caseTimeoutMs: 60_000 });

test('baseline: a clean run completes, leaves nothing, and shows the calls the matrix covers', async () => {
  const r = await run({ kind: 'none' });
  assert.equal(r.outcome, 'completed', r.message);
  assert.deepEqual(r.leftovers, []);
  const calls = discoverCalls(target).map((c) => `${c.method} ${c.path}`);
  for (const call of ['POST /vms/:p1/snapshots', 'POST /vms/:p1/diskattachments', 'DELETE /vms/:p1/snapshots/:p2']) assert.ok(calls.includes(call), `${call} in ${calls.join(', ')}`);
});

test('lost reply of the snapshot create: the retry adopts the snapshot, no second one', async () => {
  assertSurvived(await run({ kind: 'lost-create-reply', call: { method: 'POST', path: '/vms/:p1/snapshots' } }));
});

test('the answer to the snapshot create times out and the request reaches the engine later: the retry adopts it, no second snapshot', async () => {
  // The simulator handles the request 1.5 s after the client gave up; a retry 1 s after the timeout
  // listed before it landed and created a second snapshot (seen in `npm run chaos`, under load).
  assertSurvived(await run({ kind: 'timeout', call: { method: 'POST', path: '/vms/:p1/snapshots' } }));
});

test('lost reply of the disk attach: the retry adopts the attachment', async () => {
  assertSurvived(await run({ kind: 'lost-create-reply', call: { method: 'POST', path: '/vms/:p1/diskattachments' } }));
});

test('a burst of 503 on the snapshot delete, a malformed body (429, drop and timeout: npm run chaos)', async () => {
  assertSurvived(await run({ kind: '5xx-burst', call: { method: 'DELETE', path: '/vms/:p1/snapshots/:p2' } }));
  // A half body fails the schema check: not retried, the run fails naming the step and compensates.
  assertSurvived(await run({ kind: 'malformed', call: { method: 'GET', path: '/vms/:p1/snapshots/:p2/disks' } }), { mustComplete: false });
});

// Step faults are armed once the progress query shows the step: 'attach' (one quick call) was
// sometimes over before a poll saw it (fault not fired, in a fresh-clone run); the snapshot step
// lasts while the engine finishes the snapshot (300 ms here), so it is always seen.
test('tokens expire mid-run (at the snapshot): the worker logs in again', async () => {
  assertSurvived(await run({ kind: 'expired-session', step: 'snapshot' }));
});

test('SIGKILL of the worker in the middle of the copy, then a restart: completes, nothing left', async () => {
  const starts = cluster.workerStarts;
  assertSurvived(await run({ kind: 'worker-sigkill', step: 'copy', afterMs: 250 }));
  assert.equal(cluster.workerStarts, starts + 1, 'the worker process was replaced');
});

test('the Temporal dev server restarts on the same SQLite file mid-run: the worker reconnects, the run completes', async () => {
  assertSurvived(await run({ kind: 'server-restart', step: 'snapshot' }));
});
