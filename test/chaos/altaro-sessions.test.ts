/**
 * Open findings of the chaos run for Altaro, kept as `todo` (they run and report, they do not fail
 * the suite) until the Altaro client is fixed: a burst of 503 or a 429 with Retry-After on
 * POST /sessions/end leaves the activity's session open at the vendor (withSession tries the
 * logout twice, back to back). Retrying the logout with backoff closes the session, but then the
 * run hangs in altaroReadReport (see docs/chaos.md), so the fix was not kept.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChaosCluster } from '../../chaos/cluster';
import { runCase } from '../../chaos/engine';
import { altaroTarget } from '../../chaos/targets/altaro';
import type { ChaosTarget, FaultCase } from '../../chaos/types';

let dir: string;
let cluster: ChaosCluster;
let target: ChaosTarget;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chaos-altaro-test-'));
  cluster = await ChaosCluster.start(dir);
  target = await altaroTarget();
  await cluster.startWorker(target.worker);
});
after(async () => {
  await cluster?.stop();
  await target?.stop();
  await rm(dir, { recursive: true, force: true });
});

const logout = { method: 'POST', path: '/rest/sessions/end/:p1' };

for (const fault of [{ kind: '5xx-burst', call: logout }, { kind: '429-retry-after', call: logout }] satisfies FaultCase[]) {
  test(`${fault.kind} on the logout: the run completes and no session is left open`, { todo: 'open: Altaro logout is not retried (docs/chaos.md)' }, async () => {
    const r = await runCase(cluster, target, fault, { caseTimeoutMs: 20_000, settleMs: 0 });
    assert.ok(r.faultsFired > 0, 'the fault really happened');
    assert.equal(r.outcome, 'completed', r.message);
    assert.deepEqual(r.leftovers, [], 'no open session, no running operation');
    assert.deepEqual(r.duplicates, []);
  });
}
