/** Every OnApp client operation against the simulator, in both formats. */
import { onappSimTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { VendorError } from '../../lib/errors';
import { EndpointRegistry } from '../../lib/config/endpoints';
import { EndpointClients } from '../../activities/endpoint-clients';
import { createOnappActivities, onappRunTag } from '../../activities/onapp/activities';

const test = onappSimTest({ buildMs: 400, restoreMs: 300 });
test.beforeEach(({ sim }) => {
  sim.state.options.buildMs = 400;
  sim.state.options.restoreMs = 300;
  sim.state.reset();
  sim.simulator.faults.clear();
  sim.simulator.calls.clear();
});

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for the simulator's own clock (a build, a restore) without betting on how fast this machine is. */
async function until(probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    assert.ok(Date.now() < deadline, 'timed out waiting for the simulator');
    await wait(50);
  }
}

async function rejectsWith(promise: Promise<unknown>, status: number, text: RegExp): Promise<VendorError> {
  let caught: unknown;
  await promise.catch((err) => (caught = err));
  assert.ok(caught instanceof VendorError, `expected a VendorError, got ${String(caught)}`);
  assert.equal(caught.status, status, caught.message);
  assert.match(caught.message, text);
  return caught;
}

test('the same backups read through .json and .xml are deep-equal typed objects (built, unbuilt, nil fields)', async ({ sim }) => {
  const json = sim.client('json');
  const xml = sim.client('xml');
  // One in progress (built false, built_at nil, size 0) beside two finished ones, one with a nil note.
  // It stays in progress while both formats read it, however slow the machine.
  sim.state.options.buildMs = 120_000;
  await json.takeIncrementalBackup(sim.demo.otherVmId, { note: 'in progress' });
  const fromJson = await json.listBackups(sim.demo.otherVmId);
  const fromXml = await xml.listBackups(sim.demo.otherVmId);
  assert.equal(fromJson.length, 3);
  assert.deepEqual(fromXml, fromJson);
  const [image, files, running] = fromJson;
  assert.equal(image!.backupType, 'normal');
  assert.equal(image!.targetType, 'Disk');
  assert.equal(typeof image!.backupSizeKb, 'number');
  assert.ok(image!.backupSizeKb! > 0);
  assert.equal(image!.diskId, image!.targetId);
  assert.equal(image!.markedForDelete, false);
  assert.equal(files!.diskId, null);
  assert.equal(files!.note, null, 'nil="true" and JSON null both read as null');
  assert.equal(files!.dataStoreType, null);
  assert.equal(running!.built, false);
  assert.equal(running!.builtAt, null);
  assert.equal(running!.locked, true);
  assert.match(image!.builtAt!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
  // Single resources agree too.
  for (const b of fromJson) assert.deepEqual(await xml.getBackup(b.id), await json.getBackup(b.id));
  // And an empty list is [] in both.
  assert.deepEqual(await json.listBackups(sim.demo.vmId, 'normal'), []);
  assert.deepEqual(await xml.listBackups(sim.demo.vmId, 'normal'), []);
});

for (const format of ['json', 'xml'] as const) {
  test(`${format}: take normal (per disk) and incremental (per server), get, list by kind and by disk, delete`, async ({ sim }) => {
    const client = sim.client(format);
    sim.state.options.buildMs = 2500;
    const image = await client.takeDiskBackup(sim.demo.dataDiskId, { note: 'disk image' });
    assert.equal(image.backupType, 'normal');
    assert.equal(image.targetType, 'Disk');
    assert.equal(image.targetId, sim.demo.dataDiskId);
    assert.equal(image.built, false);
    assert.equal(image.note, 'disk image');
    // One backup per server at a time: OnApp answers 422 with its errors body.
    await rejectsWith(client.takeIncrementalBackup(sim.demo.vmId), 422, /Another backup of this virtual server is being taken/);
    await until(async () => (await client.getBackup(image.id)).built);
    const done = await client.getBackup(image.id);
    assert.equal(done.built, true);
    assert.equal(done.locked, false);
    assert.ok(done.builtAt && done.backupSizeKb && done.backupSizeKb > 0);

    const files = await client.takeIncrementalBackup(sim.demo.vmId, { note: 'files' });
    assert.equal(files.backupType, 'incremental');
    assert.equal(files.targetType, 'VirtualMachine');
    assert.equal(files.targetId, sim.demo.vmId);

    assert.deepEqual(
      (await client.listBackups(sim.demo.vmId)).map((b) => b.id),
      [image.id, files.id],
    );
    assert.deepEqual(
      (await client.listBackups(sim.demo.vmId, 'normal')).map((b) => b.id),
      [image.id],
    );
    assert.deepEqual(
      (await client.listBackups(sim.demo.vmId, 'incremental')).map((b) => b.id),
      [files.id],
    );
    assert.deepEqual(
      (await client.listDiskBackups(sim.demo.dataDiskId)).map((b) => b.id),
      [image.id],
    );
    assert.deepEqual(
      (await client.listDiskBackups(sim.demo.dataDiskId, sim.demo.vmId)).map((b) => b.id),
      [image.id],
    );
    assert.deepEqual(await client.listDiskBackups(sim.demo.primaryDiskId, sim.demo.vmId), []);

    await client.deleteBackup(files.id);
    await client.deleteBackup(image.id);
    assert.deepEqual(await sim.backupsOf(), []);
    await rejectsWith(client.getBackup(image.id), 404, /Backup not found/);
    await rejectsWith(client.deleteBackup(image.id), 404, /Backup not found/);
  });

  test(`${format}: restore locks the backup and the server until it is done; an unbuilt backup cannot be restored`, async ({ sim }) => {
    const client = sim.client(format);
    sim.state.options.buildMs = 2000;
    sim.state.options.restoreMs = 2500;
    const backup = await client.takeIncrementalBackup(sim.demo.vmId);
    await rejectsWith(client.restoreBackup(backup.id), 422, /not built yet/);
    await until(async () => (await client.getBackup(backup.id)).built);
    await client.restoreBackup(backup.id);
    assert.equal((await client.getBackup(backup.id)).locked, true);
    assert.equal((await client.getVirtualServer(sim.demo.vmId)).locked, true);
    await rejectsWith(client.deleteBackup(backup.id), 422, /locked by a running restore/);
    await until(async () => !(await client.getBackup(backup.id)).locked);
    assert.equal((await client.getBackup(backup.id)).locked, false);
    assert.equal((await client.getVirtualServer(sim.demo.vmId)).locked, false);
    assert.equal(sim.simulator.calls.matching('POST', /\/backups\/\d+\/restore\.(json|xml)$/).length, 2);
  });

  test(`${format}: virtual server and disks; swap disks cannot be backed up; unknown ids are 404`, async ({ sim }) => {
    const client = sim.client(format);
    const vm = await client.getVirtualServer(sim.demo.vmId);
    assert.deepEqual({ id: vm.id, label: vm.label }, { id: sim.demo.vmId, label: sim.demo.vmLabel });
    const disks = await client.listDisks(sim.demo.vmId);
    assert.deepEqual(
      disks.map((d) => [d.id, d.primary, d.isSwap]),
      [
        [sim.demo.primaryDiskId, true, false],
        [sim.demo.swapDiskId, false, true],
        [sim.demo.dataDiskId, false, false],
      ],
    );
    await rejectsWith(client.takeDiskBackup(sim.demo.swapDiskId), 422, /swap disks/);
    await rejectsWith(client.getVirtualServer(999), 404, /VirtualMachine not found/);
  });
}

test('wrong credentials are a non-retryable 401 with the vendor message; 5xx and dropped connections are retryable', async ({ sim }) => {
  const wrong = new (await import('../../activities/onapp/client')).OnappClient(sim.profile('json'), { TEST_ONAPP_PASSWORD: 'nope' });
  const unauthorized = await rejectsWith(wrong.listBackups(sim.demo.vmId), 401, /sign in/);
  assert.equal(unauthorized.retryable, false);

  sim.simulator.faults.add({ method: 'GET', path: '/virtual_machines/:id/backups.json', action: { kind: 'status', status: 503, message: 'maintenance', retryAfterSeconds: 2 } });
  const busy = await rejectsWith(sim.client().listBackups(sim.demo.vmId), 503, /maintenance/);
  assert.equal(busy.retryable, true);
  assert.equal(busy.retryAfterMs, 2000);

  sim.simulator.faults.add({ method: 'GET', path: '/backups/:id', action: { kind: 'drop' } });
  let dropped: unknown;
  await sim
    .client('xml')
    .getBackup(9001)
    .catch((e) => (dropped = e));
  assert.ok(dropped instanceof VendorError && dropped.retryable && dropped.status === undefined, String(dropped));

  sim.simulator.faults.add({ method: 'GET', path: '/virtual_machines/:id/backups.xml', action: { kind: 'malformed' } });
  let malformed: unknown;
  await sim
    .client('xml')
    .listBackups(sim.demo.otherVmId)
    .catch((e) => (malformed = e));
  assert.ok(malformed instanceof VendorError && !malformed.retryable, String(malformed));
  assert.match((malformed as Error).message, /unexpected response body/);
});

test('the undo that deletes a run’s backups heartbeats while a slow appliance answers (it runs under a heartbeat timeout)', async ({ sim }) => {
  const runId = 'undo-heartbeat-run';
  const backup = await sim.client().takeIncrementalBackup(sim.demo.otherVmId, { note: `${onappRunTag(runId)} slow undo` });
  sim.simulator.faults.add({ method: 'DELETE', path: '/backups/:id', action: { kind: 'delay', ms: 2_500 } });
  try {
    const activities = createOnappActivities(new EndpointClients(EndpointRegistry.fromObject({ endpoints: { 'onapp-sim': sim.profile() } }), sim.env));
    const env = new MockActivityEnvironment();
    let beats = 0;
    env.on('heartbeat', () => beats++);
    const result: { deleted: number[] } = await env.run(() => activities.onappDeleteRunBackup({ endpoint: 'onapp-sim', virtualServerId: sim.demo.otherVmId, runId }));
    assert.deepEqual(result.deleted, [backup.id]);
    assert.ok(beats >= 2, `heartbeats while the delete was slow: ${beats}`);
    assert.ok(!(await sim.backupsOf(sim.demo.otherVmId)).some((b) => b.id === backup.id), 'the run’s backup is gone');
  } finally {
    sim.simulator.faults.clear();
  }
});
