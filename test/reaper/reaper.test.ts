/**
 * Terminate skips compensation; one reaper run over ManageIQ, OnApp and Azure profiles removes what
 * such runs left and nothing else: not what an admin made, not what a completed run kept (a
 * confirmed ManageIQ snapshot, a built OnApp backup), not what a run that is still going owns.
 * (oVirt: test/ovirt/reaper.test.ts.)
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { Progress } from '../../contracts/progress';
import type { ReaperResult } from '../../contracts/reaper/results';
import { startHarness, type Harness } from '../helpers/harness';
import { startManageiqSimulator } from '../helpers/manageiq-harness';
import { startOnappSimulator } from '../helpers/onapp-harness';
import { AZURE_TEST_SECRET, startAzureSim } from '../helpers/azure-harness';

import { runIdTail } from '../../lib/temporal/run-tag';
import { eventually } from '../helpers/eventually';

let h: Harness;
let miq: Awaited<ReturnType<typeof startManageiqSimulator>>;
let onapp: Awaited<ReturnType<typeof startOnappSimulator>>;
let az: Awaited<ReturnType<typeof startAzureSim>>;

beforeAll(async () => {
  // Tasks and builds long enough to terminate a run in the middle of one.
  miq = await startManageiqSimulator({ taskMs: 1500 });
  onapp = await startOnappSimulator({ buildMs: 10_000 });
  az = await startAzureSim();
  h = await startHarness({
    endpoints: {
      'manageiq-sim': miq.profile('token'),
      'onapp-sim': onapp.profile('json'),
      'azure-sim': az.profile,
      // Never called: the reaper has nothing to take from Altaro.
      'altaro-x': { vendor: 'altaro', url: 'http://127.0.0.1:9', productVersion: '9.1', auth: { username: 'backupadmin', password: { env: 'TEST_ALTARO_PASSWORD' } } },
    },
    secrets: { ...miq.env, ...onapp.env, TEST_AZURE_CLIENT_SECRET: AZURE_TEST_SECRET, TEST_ALTARO_PASSWORD: 'altaro-unused-Pa55' },
    issuedSecrets: () => [
      ...miq.state.tokens.keys(),
      ...az.state.tokens.keys(),
      ...[...az.state.protectedItems.values()].flatMap((item) => item.recoveryPoints.flatMap((rp) => (rp.ilr ? [rp.ilr.password] : []))),
    ],
    onStop: async () => {
      await miq.simulator.stop();
      await onapp.simulator.stop();
      await az.simulator.stop();
    },
  });
});
afterAll(async () => h?.stop());

const step = (handle: WorkflowHandle, wanted: string, timeoutMs = 20_000) =>
  eventually(
    async () => (await handle.query<Progress>('progress')).step,
    (s) => s === wanted,
    timeoutMs,
  );
const runIdOf = async (handle: WorkflowHandle) => (await handle.describe()).runId;

test('one reaper run takes exactly what terminated runs left on ManageIQ, OnApp and Azure, and names it', async () => {
  const { vmId, otherVmId, instanceId, foreignSnapshotNames } = miq.demo;
  const miqInput = (resourceId: string, extra: Record<string, unknown> = {}) => ({ endpoint: 'manageiq-sim', resourceId, pollIntervalMs: 100, ...extra });

  // --- ManageIQ: a completed run's snapshot (retention keeps it), one left by a terminated run, one of a live run.
  // (otherVmId carries two tool-named snapshots of runs Temporal never saw: a run there makes the reaper look at them.)
  await h.execute('manageiqSnapshot', miqInput(vmId), 'miq-kept');
  await h.execute('manageiqSnapshot', miqInput(otherVmId), 'miq-other');
  // A run terminated in "retention": its snapshot was confirmed, so it is the run's product (held there by a failing retention query).
  const holdRetention = miq.simulator.faults.add({ method: 'GET', path: `/vms/${otherVmId}/snapshots`, query: 'sort_by', times: 0, action: { kind: 'status', status: 503 } });
  const miqRetained = await h.start('manageiqSnapshot', miqInput(otherVmId), 'miq-retained');
  await step(miqRetained, 'retention');
  await miqRetained.terminate('simulating an operator terminating the run');
  miq.simulator.faults.remove(holdRetention);
  const miqRetainedRunId = await runIdOf(miqRetained);
  const miqDoomed = await h.start('manageiqSnapshot', miqInput(vmId), 'miq-doomed');
  await step(miqDoomed, 'task');
  await miqDoomed.terminate('simulating an operator terminating the run');
  const miqDoomedRunId = await runIdOf(miqDoomed);
  const miqDoomedTail = runIdTail(miqDoomedRunId);
  // The name carries the run id's random tail; the description carries the whole id.
  const madeBy = (runId: string) => (s: object) => String((s as { description?: string }).description ?? '').includes(runId);
  await eventually(
    () => miq.snapshotsOf(vmId),
    (s) => s.some(madeBy(miqDoomedRunId)),
  );

  // --- OnApp: an admin's backup, a completed run's backup, an unfinished one of a terminated run, a live run's.
  const admin = await onapp.client().takeDiskBackup(onapp.demo.otherDiskId, { note: 'before upgrade (admin)' });
  const kept = await h.execute<{ backup: { id: number } }>('onappBackup', { endpoint: 'onapp-sim', virtualServerId: onapp.demo.vmId, pollIntervalMs: 100 }, 'onapp-kept');
  const onappDoomed = await h.start('onappBackup', { endpoint: 'onapp-sim', virtualServerId: onapp.demo.vmId, pollIntervalMs: 100 }, 'onapp-doomed');
  await step(onappDoomed, 'build');
  await onappDoomed.terminate('simulating an operator terminating the run');
  const onappDoomedRunId = await runIdOf(onappDoomed);
  const doomedBackup = (await onapp.backupsOf(onapp.demo.vmId)).find((b) => b.note?.includes(onappDoomedRunId));
  assert.ok(doomedBackup && !doomedBackup.built, 'terminate left an unfinished backup behind');

  // --- Azure: three recovery points of db-01; an admin's file recovery on one, a terminated run's and a live run's.
  const item = [...az.state.protectedItems.values()].find((i) => i.vm.name === 'db-01')!;
  for (const hours of [10, 5]) item.recoveryPoints.push({ name: az.state.nextRpName(), time: new Date(Date.now() - hours * 3600_000).toISOString() });
  const [rpAdmin, rpDoomed, rpLive] = item.recoveryPoints;
  rpAdmin!.ilr = { ...az.state.newIlrSecret(item.vm, rpAdmin!), active: true };
  const fileRecovery = (rp: string) => ({ endpoint: 'azure-sim', vmName: 'db-01', recoveryPoint: rp, timeLimitSeconds: 300, pollIntervalMs: 100 });
  const azDoomed = await h.start('azureFileRecovery', fileRecovery(rpDoomed!.name), 'az-doomed');
  await step(azDoomed, 'session');
  await azDoomed.terminate('simulating an operator terminating the run');
  const azLive = await h.start('azureFileRecovery', fileRecovery(rpLive!.name), 'az-live');
  await step(azLive, 'session');
  // A terminated run that shared the live run's recovery point (Azure has one connection per point).
  const azShared = await h.start('azureFileRecovery', fileRecovery(rpLive!.name), 'az-shared');
  await step(azShared, 'session');
  await azShared.terminate('simulating an operator terminating the run');
  const azSharedRunId = await runIdOf(azShared);
  const ilr = () =>
    az.state
      .activeIlrSessions()
      .map((s) => s.recoveryPoint)
      .sort();
  assert.deepEqual(ilr(), [rpAdmin!.name, rpDoomed!.name, rpLive!.name].sort(), 'terminate left the connection open');
  const azDoomedRunId = await runIdOf(azDoomed);

  // Last (its retries run out in about half a minute): a ManageIQ run held in "confirm", its snapshot made.
  miq.simulator.faults.add({ method: 'GET', path: `/instances/${instanceId}/snapshots`, query: 'filter', nth: 2, times: 0, action: { kind: 'status', status: 503 } });
  const miqLive = await h.start('manageiqSnapshot', miqInput(instanceId, { collection: 'instances' }), 'miq-live');
  await step(miqLive, 'confirm');
  const miqLiveRunId = await runIdOf(miqLive);
  await eventually(
    () => miq.snapshotsOf(instanceId, 'instances'),
    (s) => s.some(madeBy(miqLiveRunId)),
  );
  // And an OnApp run building its backup (buildMs) while the reaper runs.
  await eventually(
    () => onapp.backupsOf(onapp.demo.otherVmId),
    (b) => b.every((x) => x.built),
  );
  const onappLive = await h.start('onappBackup', { endpoint: 'onapp-sim', virtualServerId: onapp.demo.otherVmId, pollIntervalMs: 100 }, 'onapp-live');
  await step(onappLive, 'build');

  const endpoints = ['manageiq-sim', 'onapp-sim', 'azure-sim'];
  const before = { miqVm: await miq.snapshotsOf(vmId), miqOther: await miq.snapshotsOf(otherVmId), onapp: await onapp.backupsOf(onapp.demo.vmId) };

  // --- Dry run: lists, removes nothing.
  const dry = await h.execute<ReaperResult>('reaper', { endpoints, dryRun: true, pollIntervalMs: 100 });
  const orphanRuns = (r: ReaperResult) => r.removed.map((o) => `${o.vendor}:${o.runId}`).sort();
  const doomedRuns = [`azure:${azDoomedRunId}`, `azure:${azSharedRunId}`, `manageiq:${miqDoomedRunId}`, `onapp:${onappDoomedRunId}`].sort();
  assert.deepEqual(orphanRuns(dry), doomedRuns, JSON.stringify(dry.removed));
  assert.deepEqual(await miq.snapshotsOf(vmId), before.miqVm, 'a dry run removes nothing on ManageIQ');
  assert.deepEqual(
    (await onapp.backupsOf(onapp.demo.vmId)).map((b) => b.id),
    before.onapp.map((b) => b.id),
    'nor on OnApp',
  );
  assert.deepEqual(ilr(), [rpAdmin!.name, rpDoomed!.name, rpLive!.name].sort(), 'nor on Azure');

  // --- The real run.
  const result = await h.execute<ReaperResult>('reaper', { endpoints, pollIntervalMs: 100 });
  assert.deepEqual(result.failed, []);
  assert.deepEqual(orphanRuns(result), doomedRuns);
  assert.deepEqual(result.removed.map((o) => `${o.vendor}:${o.kind}`).sort(), ['azure:ilr-session', 'azure:ilr-session', 'manageiq:snapshot', 'onapp:backup']);
  // The result names each object, per vendor.
  assert.match(result.vendors.manageiq!.removed.join('\n'), new RegExp(`snapshot bo-\\d{8}T\\d{6}-${miqDoomedTail} \\(id \\d+\\) of VM ${vmId}`));
  assert.match(result.vendors.onapp!.removed.join('\n'), new RegExp(`(unfinished )?incremental backup ${doomedBackup.id} of virtual server ${onapp.demo.vmId}`));
  assert.match(result.vendors.azure!.removed.join('\n'), new RegExp(`file recovery connection of .*db-01 at recovery point ${rpDoomed!.name}`));
  const openRuns = result.keptForOpenRuns.map((o) => `${o.vendor}:${o.runId}:${o.runStatus}`).sort();
  assert.deepEqual(openRuns, [`azure:${await runIdOf(azLive)}:RUNNING`, `manageiq:${miqLiveRunId}:RUNNING`, `onapp:${await runIdOf(onappLive)}:RUNNING`].sort());
  assert.ok(
    result.kept.some((o) => o.vendor === 'onapp' && o.id === String(kept.backup.id) && o.runStatus === 'COMPLETED'),
    'the completed OnApp run’s backup is its product',
  );
  assert.ok(
    result.kept.some((o) => o.vendor === 'manageiq' && o.vmId === vmId && o.runStatus === 'COMPLETED'),
    'the completed ManageIQ run’s snapshot is its product',
  );
  assert.ok(result.kept.filter((o) => o.vmId === otherVmId && o.runStatus === 'UNKNOWN').length === 2, 'tool-named snapshots of runs Temporal does not know stay');
  const retained = result.kept.find((o) => o.runId === miqRetainedRunId);
  assert.equal(retained?.runStatus, 'TERMINATED');
  assert.match(retained?.reason ?? '', /reached step "retention"/, 'a run terminated after confirming keeps its snapshot');
  assert.ok((await miq.snapshotsOf(otherVmId)).some(madeBy(miqRetainedRunId)));

  // What the vendors show now.
  const miqVm = (await miq.snapshotsOf(vmId)).map((s) => s.name);
  assert.ok(!(await miq.snapshotsOf(vmId)).some(madeBy(miqDoomedRunId)), 'the orphan ManageIQ snapshot is gone');
  assert.deepEqual(miqVm.length, before.miqVm.length - 1, 'and only it');
  for (const name of foreignSnapshotNames) assert.ok(miqVm.includes(name), `the admin’s snapshot ${name} stays`);
  assert.deepEqual(await miq.snapshotsOf(otherVmId), before.miqOther);
  assert.ok((await miq.snapshotsOf(instanceId, 'instances')).some(madeBy(miqLiveRunId)), 'the live run’s snapshot stays');

  const onappVm = await onapp.backupsOf(onapp.demo.vmId);
  assert.ok(!onappVm.some((b) => b.id === doomedBackup.id), 'the unfinished backup is gone');
  assert.ok(
    onappVm.some((b) => b.id === kept.backup.id),
    'the completed run’s backup stays',
  );
  const onappOther = await onapp.backupsOf(onapp.demo.otherVmId);
  assert.ok(
    onappOther.some((b) => b.id === admin.id),
    'the admin’s backup stays',
  );
  assert.ok(
    onappOther.some((b) => b.note?.includes(result.keptForOpenRuns.find((o) => o.vendor === 'onapp')!.runId)),
    'the live run’s backup stays',
  );

  assert.deepEqual(ilr(), [rpAdmin!.name, rpLive!.name].sort(), 'only the terminated run’s connection was revoked; the live run’s, shared with a dead run, stays');
  assert.equal(item.recoveryPoints.length, 3, 'recovery points are never touched');
  for (const removedAz of result.removed.filter((o) => o.vendor === 'azure')) {
    assert.equal(existsSync(join(az.fileRecoveryDir, removedAz.id)), false, 'the dead runs’ stored scripts and passwords are deleted');
  }
  assert.equal(existsSync(join(az.fileRecoveryDir, result.keptForOpenRuns.find((o) => o.vendor === 'azure')!.id)), true, 'the live run’s stay');

  // The live runs go on: file recovery ends on "done" and revokes its own connection.
  await miqLive.terminate('end of test');
  await azLive.signal('done');
  await Promise.all([azLive.result(), onappLive.result()]);
  assert.deepEqual(ilr(), [rpAdmin!.name]);
});

test('an Altaro profile is reported with why there is nothing to reap', async () => {
  const result = await h.execute<ReaperResult>('reaper', { endpoints: ['altaro-x'], pollIntervalMs: 100 });
  assert.equal(result.found, 0);
  assert.deepEqual(result.vendors.altaro?.endpoints, ['altaro-x']);
  assert.match(result.vendors.altaro?.note ?? '', /does not say which run started an operation/);
});

test('an unknown profile fails the reaper before any vendor call', async () => {
  const calls = () => miq.simulator.calls.all().length + onapp.simulator.calls.all().length + az.simulator.calls.all().length;
  const before = calls();
  await assert.rejects(h.execute('reaper', { endpoints: ['onapp-sim', 'no-such-profile'] }), (err: Error & { cause?: Error }) => {
    assert.match(String(err.cause?.message), /unknown endpoint profile "no-such-profile"; configured profiles: altaro-x, azure-sim, manageiq-sim, onapp-sim/);
    return true;
  });
  assert.equal(calls(), before, 'no vendor was called');
});
