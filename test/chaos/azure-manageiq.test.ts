/**
 * A fixed slice of the chaos matrix for Azure Backup and ManageIQ (`npm run chaos -- --only
 * azure-backup,azure-file-recovery,manageiq` runs all of it): lost replies of the calls that create
 * vendor state (backup trigger, ILR provision, snapshot create), a snapshot create that reaches the
 * appliance after the client timed out, a bearer token expiring mid-run, and a
 * worker SIGKILL while a file-recovery session is open. After every case the simulators hold
 * nothing the run should not have left (no running job, no open ILR connection, no stored ILR
 * password, no extra snapshot) and nothing was created twice.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChaosCluster } from '../../chaos/cluster';
import { runCase } from '../../chaos/engine';
import { azureBackupTarget, azureFileRecoveryTarget } from '../../chaos/targets/azure';
import { manageiqTarget } from '../../chaos/targets/manageiq';
import type { CaseResult, ChaosTarget, FaultCase } from '../../chaos/types';

let dir: string;
let cluster: ChaosCluster;
let backup: ChaosTarget;
let fileRecovery: ChaosTarget;
let miq: ChaosTarget;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chaos-azure-miq-test-'));
  [cluster, backup, fileRecovery, miq] = await Promise.all([ChaosCluster.start(dir), azureBackupTarget(), azureFileRecoveryTarget(), manageiqTarget()]);
  // One worker process serves all three targets (each has its own endpoint profile).
  const targets = [backup, fileRecovery, miq];
  await cluster.startWorker({
    endpoints: Object.assign({}, ...targets.map((t) => t.worker.endpoints)),
    secrets: Object.assign({}, ...targets.map((t) => t.worker.secrets)),
  });
});
afterAll(async () => {
  await cluster?.stop();
  await Promise.all([backup, fileRecovery, miq].map((t) => t?.stop()));
  await rm(dir, { recursive: true, force: true });
});

function assertSurvived(r: CaseResult): void {
  // The outcome and the failure (or what a hung run waited on) in every message: a rare failure must be readable from the log.
  const what = `${r.workflow} ${r.fault} ${r.detail} → ${r.outcome}${r.message ? ` (${r.message})` : ''}`;
  assert.ok(r.faultsFired > 0, `${what}: the fault really happened`);
  assert.deepEqual(r.leftovers, [], `${what}: nothing left at the vendor`);
  assert.deepEqual(r.duplicates, [], `${what}: nothing created twice`);
  assert.equal(r.outcome, 'completed', what);
}

const run = (target: ChaosTarget, fault: FaultCase) => runCase(cluster, target, fault, { caseTimeoutMs: 60_000 });
/** The create call of a target (each declares exactly the calls that create vendor state). */
const create = (target: ChaosTarget, suffix: string) => {
  const call = target.creates.find((c) => c.path.endsWith(suffix));
  assert.ok(call, `${target.workflow} declares a create ending in ${suffix}`);
  return call;
};

test('Azure: the backup trigger’s reply is lost: the retry adopts the job, one backup, protection and recovery point kept', async () => {
  assertSurvived(await run(backup, { kind: 'lost-create-reply', call: create(backup, '/backup') }));
});

test('Azure: the ILR provision’s reply is lost: one connection, revoked at the end, no password left on the worker', async () => {
  assertSurvived(await run(fileRecovery, { kind: 'lost-create-reply', call: create(fileRecovery, '/provisionInstantItemRecovery') }));
});

test('ManageIQ: the snapshot create’s reply is lost: the retry adopts the queued create task, no second snapshot', async () => {
  assertSurvived(await run(miq, { kind: 'lost-create-reply', call: create(miq, '/snapshots') }));
});

test('ManageIQ: the answer to the snapshot create times out and the request reaches the appliance later: the retry adopts its task', async () => {
  // The simulator handles the request 1.5 s after the client gave up: the activity waits one client timeout before its retry looks.
  // (The same for the Azure backup trigger and ILR provision: `npm run chaos -- --only azure-backup,azure-file-recovery --kinds timeout`.)
  assertSurvived(await run(miq, { kind: 'timeout', call: create(miq, '/snapshots') }));
});

test('the Azure AAD bearer token expires while the backup job runs: the worker fetches a new one, the run completes', async () => {
  // ManageIQ's X-Auth-Token at every step: `npm run chaos -- --only manageiq --kinds expired-session`.
  assertSurvived(await run(backup, { kind: 'expired-session', step: 'job' }));
});

test('SIGKILL of the worker while the file-recovery session is open, then a restart: the connection is still revoked', async () => {
  const starts = cluster.workerStarts;
  assertSurvived(await run(fileRecovery, { kind: 'worker-sigkill', step: 'session', afterMs: 300 }));
  assert.equal(cluster.workerStarts, starts + 1, 'the worker process was replaced');
});
