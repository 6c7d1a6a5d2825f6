/** Every ManageIQ client operation against the simulator. */
import { manageiqSimTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ErrorTypes, VendorError } from '../../lib/errors';
import { waitForTask } from '../../activities/manageiq/activities';
import type { ManageiqClient } from '../../activities/manageiq/client';
import { deleteSnapshotsRelisting } from '../../activities/manageiq/delete-snapshots';

const test = manageiqSimTest({ taskMs: 300 });
test.beforeEach(({ sim }) => {
  sim.state.options.taskMs = 300;
  sim.state.reset();
  sim.simulator.faults.clear();
  sim.simulator.calls.clear();
});

const DAY = 86_400_000;

/** Waits for the simulator's own clock (a task) without betting on how fast this machine is. */
async function until(probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    assert.ok(Date.now() < deadline, 'timed out waiting for the simulator');
    await new Promise((r) => setTimeout(r, 50));
  }
}
const fastWait = { pollMs: 50, deadline: Date.now() + 3_600_000 };
/** Waiting for a task is an activity's job (it heartbeats): done here in a mock activity. */
const inActivity = <T>(fn: () => Promise<T>): Promise<T> => new MockActivityEnvironment().run(fn);
const taskEnd = (client: ManageiqClient, taskId: string) => inActivity(() => waitForTask(client, taskId, fastWait));

async function rejectsVendor(promise: Promise<unknown>, status: number | undefined, text: RegExp): Promise<VendorError> {
  let caught: unknown;
  await promise.catch((err) => (caught = err));
  assert.ok(caught instanceof VendorError, `expected a VendorError, got ${String(caught)}`);
  assert.equal(caught.status, status, caught.message);
  assert.match(caught.message, text);
  return caught;
}

test('entry point lists the collections with absolute hrefs; Basic and token auth both work', async ({ sim }) => {
  const entry = await sim.client('basic').entryPoint();
  assert.deepEqual(entry.collections.map((c) => c.name).sort(), ['instances', 'tasks', 'vms']);
  for (const c of entry.collections) assert.ok(c.href.startsWith(`${sim.simulator.url}/api/`), c.href);
  const vm = await sim.client('token').getResource('vms', sim.demo.vmId);
  assert.equal(vm.name, sim.demo.vmName);
  assert.equal(sim.simulator.calls.matching('GET', /^\/auth$/).length, 1);
});

test('an expired token is renewed once at /api/auth and the call succeeds', async ({ sim }) => {
  const client = sim.client('token');
  await client.getResource('vms', sim.demo.vmId);
  sim.state.expireTokens();
  const vm = await client.getResource('instances', sim.demo.instanceId);
  assert.equal(vm.name, sim.demo.instanceName);
  assert.equal(sim.simulator.calls.matching('GET', /^\/auth$/).length, 2);
  assert.deepEqual(
    sim.simulator.calls.matching('GET', /^\/instances\/20$/).map((c) => c.status),
    [401, 200],
  );
  // Logging out ends the session at the appliance; the next call logs in again.
  await client.logout();
  assert.equal(sim.simulator.calls.matching('DELETE', /^\/auth$/).length, 1);
  await client.getResource('vms', sim.demo.vmId);
  assert.equal(sim.simulator.calls.matching('GET', /^\/auth$/).length, 3);
});

test('wrong credentials: a non-retryable 401 carrying the appliance message and kind', async ({ sim }) => {
  const { ManageiqClient } = await import('../../activities/manageiq/client');
  const wrong = new ManageiqClient(sim.profile('basic'), { TEST_MIQ_PASSWORD: 'nope' });
  const err = await rejectsVendor(wrong.getResource('vms', sim.demo.vmId), 401, /Failed to Authenticate/);
  assert.equal(err.retryable, false);
  assert.equal(err.code, 'unauthorized');
});

for (const collection of ['vms', 'instances'] as const) {
  test(`${collection}: query with filter[], sort_by/sort_order, offset/limit paging through links.next, expand=resources`, async ({ sim }) => {
    const id = collection === 'vms' ? sim.demo.vmId : sim.demo.instanceId;
    const now = Date.now();
    for (let i = 0; i < 5; i++) sim.state.seed(id, `bo-${i}`, now - (10 - i) * DAY);
    sim.state.seed(id, 'other', now - DAY);
    const client = sim.client();

    const owned = await client.querySnapshots(collection, id, { filter: ["name='bo-*'"], sortBy: 'create_time', sortOrder: 'desc', limit: 2 });
    assert.deepEqual(
      owned.snapshots.map((s) => s.name),
      ['bo-4', 'bo-3', 'bo-2', 'bo-1', 'bo-0'],
    );
    assert.equal(owned.pages, 3, 'three pages of two, followed through links.next');
    assert.equal(owned.matching, 5);
    for (const s of owned.snapshots) assert.ok(s.href.startsWith(`${sim.simulator.url}/api/${collection}/${id}/snapshots/`), s.href);
    // The next links are absolute and carry the filter and sort.
    const pageCalls = sim.simulator.calls.matching('GET', new RegExp(`^/${collection}/${id}/snapshots$`));
    assert.equal(pageCalls.length, 3);
    assert.match(decodeURIComponent(pageCalls[2]!.query), /offset=4/);
    assert.match(decodeURIComponent(pageCalls[2]!.query), /filter\[\]=name='bo-\*'/);

    const onePage = await client.querySnapshots(collection, id, { sortBy: 'name', sortOrder: 'asc', offset: 1, limit: 2, allPages: false });
    assert.deepEqual(
      onePage.snapshots.map((s) => s.name),
      collection === 'vms' ? ['bo-0', 'bo-1'] : ['bo-1', 'bo-2'],
    );

    const refs = await client.querySnapshots(collection, id, { expand: false });
    assert.equal(refs.snapshots.length, 0, 'without expand only hrefs come back');
    assert.equal(refs.hrefs.length, collection === 'vms' ? 8 : 6);
    assert.ok(refs.count >= refs.hrefs.length, 'count is every snapshot on the appliance');

    const one = await client.getSnapshot(collection, id, owned.snapshots[0]!.id);
    assert.equal(one.name, 'bo-4');
    assert.equal(one.vmOrTemplateId, id);
    await rejectsVendor(client.getSnapshot(collection, id, '999999'), 404, /Couldn't find Snapshot with 'id'=999999/);
  });

  test(`${collection}: create (name required) → task polled until Finished/Ok → listed; delete by DELETE and by the POST action`, async ({ sim }) => {
    const id = collection === 'vms' ? sim.demo.vmId : sim.demo.instanceId;
    const client = sim.client();
    sim.state.options.taskMs = 1500;
    const created = await client.createSnapshot(collection, id, { name: 'bo-new', description: 'from the test', memory: false });
    assert.ok(created.taskId && created.taskHref?.startsWith(`${sim.simulator.url}/api/tasks/`), JSON.stringify(created));
    assert.equal((await client.getTask(created.taskId!)).state === 'Finished', false);
    const task = await taskEnd(client, created.taskId!);
    assert.equal(task.state, 'Finished');
    assert.equal(task.status, 'Ok');
    assert.ok(task.polls >= 2, `polled ${task.polls} times`);
    const [snap] = (await client.querySnapshots(collection, id, { filter: ["name='bo-new'"] })).snapshots;
    assert.equal(snap?.description, 'from the test');

    await rejectsVendor(client.createSnapshot(collection, id, { name: '' }), 400, /Must specify a name for the snapshot/);

    const viaAction = await client.deleteSnapshotAction(collection, id, snap!.id);
    assert.equal((await taskEnd(client, viaAction.taskId!)).status, 'Ok');
    assert.deepEqual((await client.querySnapshots(collection, id, { filter: ["name='bo-new'"] })).snapshots, []);

    const again = await client.createSnapshot(collection, id, { name: 'bo-again' });
    await taskEnd(client, again.taskId!);
    const [second] = (await client.querySnapshots(collection, id, { filter: ["name='bo-again'"] })).snapshots;
    await client.deleteSnapshot(collection, id, second!.id);
    assert.deepEqual(
      sim.simulator.calls.matching('DELETE', /snapshots\/\d+$/).map((c) => c.status),
      [204],
    );
    await until(async () => (await client.querySnapshots(collection, id, { filter: ["name='bo-again'"] })).snapshots.length === 0);
  });
}

test('bulk delete naming a snapshot that is gone: ManageIQ answers 404 for the whole request; the client re-lists, reports it not found and deletes each of the others once', async ({ sim }) => {
  const client = sim.client();
  const [a, b] = (await client.querySnapshots('vms', sim.demo.otherVmId, {})).snapshots;
  let bare: unknown;
  await client.bulkDeleteSnapshots('vms', sim.demo.otherVmId, [a!.id, '424242', b!.id]).catch((e) => (bare = e));
  assert.ok(bare instanceof VendorError && bare.isNotFound, 'the bulk request itself fails with the 404');
  sim.state.reset();
  sim.simulator.calls.clear();

  const results = await deleteSnapshotsRelisting(client, 'vms', sim.demo.otherVmId, [a!.id, '424242', b!.id]);
  assert.deepEqual(
    results.map((r) => [r.snapshotId, r.success, r.notFound ?? false, r.taskId !== undefined]),
    [
      [a!.id, true, false, true],
      ['424242', false, true, false],
      [b!.id, true, false, true],
    ],
  );
  assert.match(results[1]!.message, /Couldn't find Snapshot with 'id'=424242/);
  // The first request queued a's delete before it stopped; the second carried b alone: one delete task each.
  assert.deepEqual(
    sim.simulator.calls.matching('POST', /^\/vms\/11\/snapshots$/).map((c) => c.status),
    [404, 200],
  );
  const deletes = [...sim.state.tasks.values()].filter((t) => t.name.startsWith('Deleting snapshot'));
  assert.equal(deletes.length, 2);
  for (const r of [results[0]!, results[2]!]) assert.equal((await taskEnd(client, r.taskId!)).status, 'Ok');
  assert.deepEqual(await sim.snapshotsOf(sim.demo.otherVmId), []);
});

for (const legacyMessages of [false, true]) {
  test(`after a 404 the delete queued before it is found by its task's name (${legacyMessages ? 'older appliances: "for Vm id:"' : 'today: "for Virtual Machine id:"'}), not queued twice`, async ({
    sim,
  }) => {
    sim.state.options.legacyMessages = legacyMessages;
    try {
      const client = sim.client();
      // Another VM's snapshot of the same name is being deleted too: its task must not be taken for ours.
      const [a] = (await client.querySnapshots('vms', sim.demo.otherVmId, { sortBy: 'id' })).snapshots;
      const twin = sim.state.seed(sim.demo.vmId, a!.name, Date.now());
      await client.deleteSnapshotAction('vms', sim.demo.vmId, twin.id);
      const results = await deleteSnapshotsRelisting(client, 'vms', sim.demo.otherVmId, [a!.id, '424242']);
      const ours = [...sim.state.tasks.values()].filter((t) => t.name.startsWith(`Deleting snapshot ${a!.name} for ${legacyMessages ? 'Vm' : 'Virtual Machine'} id:11 `));
      assert.equal(ours.length, 1, [...sim.state.tasks.values()].map((t) => t.name).join(' | '));
      assert.equal(results[0]!.taskId, ours[0]!.id);
      assert.equal(results[0]!.message, ours[0]!.name);
      assert.deepEqual([results[1]!.success, results[1]!.notFound], [false, true]);
    } finally {
      sim.state.options.legacyMessages = false;
    }
  });
}

test('revert: a VM goes back to the snapshot (task Ok, snapshot current); an instance is refused before any call', async ({ sim }) => {
  const client = sim.client('basic');
  const [first] = await sim.snapshotsOf(sim.demo.vmId);
  const started = await client.revertSnapshot('vms', sim.demo.vmId, first!.id);
  assert.equal((await taskEnd(client, started.taskId!)).status, 'Ok');
  assert.deepEqual(
    (await sim.snapshotsOf(sim.demo.vmId)).map((s) => [s.name, s.current]),
    [
      [sim.demo.foreignSnapshotNames[0], 1],
      [sim.demo.foreignSnapshotNames[1], 0],
    ],
  );

  sim.state.seed(sim.demo.instanceId, 'bo-i', Date.now());
  const [snap] = await sim.snapshotsOf(sim.demo.instanceId, 'instances');
  sim.simulator.calls.clear();
  let refused: unknown;
  await client.revertSnapshot('instances', sim.demo.instanceId, snap!.id).catch((e) => (refused = e));
  assert.ok(refused instanceof VendorError && !refused.retryable && refused.type === ErrorTypes.invalidInput, String(refused));
  assert.match((refused as Error).message, /revert is supported for VMs only/);
  assert.equal(sim.simulator.calls.all().length, 0, 'no call reached the appliance');
});

test('a task that ends in Error is reported with its status and message; an unknown task is 404', async ({ sim }) => {
  const client = sim.client();
  sim.state.script.next('create', { status: 'Error', message: 'Snapshot creation failed: datastore full' });
  const created = await client.createSnapshot('vms', sim.demo.vmId, { name: 'bo-doomed' });
  const task = await taskEnd(client, created.taskId!);
  assert.deepEqual([task.state, task.status, task.message], ['Finished', 'Error', 'Snapshot creation failed: datastore full']);
  assert.equal(
    (await sim.snapshotsOf()).some((s) => s.name === 'bo-doomed'),
    false,
  );
  await rejectsVendor(client.getTask('987654'), 404, /Couldn't find MiqTask/);
});

test('5xx with Retry-After is retryable; a malformed body is not', async ({ sim }) => {
  sim.simulator.faults.add({ method: 'GET', path: '/vms/:id/snapshots', action: { kind: 'status', status: 503, message: 'appliance busy', retryAfterSeconds: 3 } });
  const busy = await rejectsVendor(sim.client().querySnapshots('vms', sim.demo.vmId), 503, /appliance busy/);
  assert.equal(busy.retryable, true);
  assert.equal(busy.retryAfterMs, 3000);
  sim.simulator.faults.add({ method: 'GET', path: '/tasks/:id', action: { kind: 'malformed' } });
  const created = await sim.client().createSnapshot('vms', sim.demo.vmId, { name: 'bo-x' });
  const bad = await rejectsVendor(sim.client().getTask(created.taskId!), 200, /unexpected response body/);
  assert.equal(bad.retryable, false);
});
