/** manageiqSnapshot, manageiqRevert and manageiqDeleteSnapshots end to end against the ManageIQ simulator. */
import { manageiqTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ManageiqDeleteSnapshotsResult, ManageiqRevertResult, ManageiqSnapshotResult } from '../../contracts/manageiq/results';
import type { Progress } from '../../contracts/progress';
import type { ManageiqHarness } from '../helpers/manageiq-harness';
import { assertReplays, namespaceHistories } from '../helpers/replay';
import { eventually } from '../helpers/eventually';

const test = manageiqTest({ taskMs: 400 });
test.beforeEach(({ h }) => {
  h.sim.state.reset();
  h.sim.state.options.taskMs = 400;
  h.sim.simulator.faults.clear();
  h.sim.simulator.calls.clear();
});

const example = async (name: string) => JSON.parse(await readFile(new URL(`../../examples/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
const DAY = 86_400_000;

function failureOf(err: unknown): ApplicationFailure {
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.ok(err.cause instanceof ApplicationFailure, String(err.cause));
  return err.cause;
}

test('retention: 7 tool-made and 2 foreign snapshots, keep 3 → exactly the 4 oldest tool-made are deleted, none foreign', async ({ h }) => {
  const now = Date.now();
  // Six made by earlier runs, plus the one this run makes = 7; the demo VM already has 2 foreign ones.
  for (let i = 1; i <= 6; i++) h.sim.state.seed(h.sim.demo.vmId, `bo-2026010${i}T000000-old${i}`, now - (10 - i) * DAY);
  const before = await h.sim.snapshotsOf();
  assert.equal(before.length, 8);
  const input = { ...(await example('manageiqSnapshot')), pollIntervalMs: 100 };
  const result = await h.execute<ManageiqSnapshotResult>('manageiqSnapshot', input);

  assert.match(result.snapshot.name, /^bo-\d{8}T\d{6}-[0-9a-f]{12}$/);
  assert.equal(result.task?.status, 'Ok');
  assert.deepEqual(result.duplicatesRemoved, []);
  assert.equal(result.retention.keep, 3);
  // Newest first, as the appliance listed them; each with its own result and task outcome.
  assert.deepEqual(
    result.retention.deleted.map((d) => [d.name, d.success, d.taskStatus]),
    [4, 3, 2, 1].map((i) => [`bo-2026010${i}T000000-old${i}`, true, 'Ok']),
  );
  assert.deepEqual(
    result.retention.kept.map((k) => k.name),
    [result.snapshot.name, 'bo-20260106T000000-old6', 'bo-20260105T000000-old5'],
  );
  assert.equal(result.retention.othersUntouched, 2);
  // At the vendor: the 2 foreign snapshots, and the newest 3 of ours.
  const after = (await h.sim.snapshotsOf()).map((s) => s.name).sort();
  assert.deepEqual(after, [...h.sim.demo.foreignSnapshotNames, 'bo-20260105T000000-old5', 'bo-20260106T000000-old6', result.snapshot.name].sort());
  // One bulk request deleted them.
  assert.equal(h.sim.simulator.calls.matching('POST', /^\/vms\/10\/snapshots$/).length, 2, 'one create, one bulk delete');
});

test('examples/manageiqDeleteSnapshots.json deletes the tool-made snapshots that exist, every time it runs: the demo two, then none, then the one a later manageiqSnapshot made', async ({ h }) => {
  const input = { ...(await example('manageiqDeleteSnapshots')), pollIntervalMs: 100 };
  const first = await h.execute<ManageiqDeleteSnapshotsResult>('manageiqDeleteSnapshots', input);
  assert.deepEqual([first.succeeded, first.failed], [2, 0]);
  assert.deepEqual(
    first.results.map((r) => r.snapshotId),
    [...h.sim.demo.otherSnapshotIds],
  );
  assert.deepEqual(await h.sim.snapshotsOf(h.sim.demo.otherVmId), []);
  const again = await h.execute<ManageiqDeleteSnapshotsResult>('manageiqDeleteSnapshots', input);
  assert.deepEqual([again.results, again.succeeded, again.failed], [[], 0, 0]);
  const made = await h.execute<ManageiqSnapshotResult>('manageiqSnapshot', { endpoint: 'manageiq-sim', resourceId: h.sim.demo.otherVmId, pollIntervalMs: 100 });
  const third = await h.execute<ManageiqDeleteSnapshotsResult>('manageiqDeleteSnapshots', input);
  assert.deepEqual(
    third.results.map((r) => [r.name, r.success]),
    [[made.snapshot.name, true]],
  );
  assert.deepEqual(await h.sim.snapshotsOf(h.sim.demo.otherVmId), []);
});

test('a bulk delete naming a missing snapshot (the demo snapshots of db-01 plus a missing id): ManageIQ answers 404 for the whole request, yet each snapshot is reported', async ({ h }) => {
  const input = { endpoint: 'manageiq-sim', collection: 'vms', resourceId: h.sim.demo.otherVmId };
  const ids = [...h.sim.demo.otherSnapshotIds];
  const result = await h.execute<ManageiqDeleteSnapshotsResult>('manageiqDeleteSnapshots', { ...input, snapshotIds: [ids[0], '777777', ids[1]], pollIntervalMs: 100 });
  assert.deepEqual(
    result.results.map((r) => [r.snapshotId, r.success, r.notFound ?? false, r.taskStatus ?? null]),
    [
      [ids[0], true, false, 'Ok'],
      ['777777', false, true, null],
      [ids[1], true, false, 'Ok'],
    ],
  );
  assert.match(result.results[1]!.message, /Couldn't find Snapshot with 'id'=777777/);
  assert.deepEqual([result.succeeded, result.failed], [2, 1]);
  assert.deepEqual(await h.sim.snapshotsOf(h.sim.demo.otherVmId), []);
  // The first request queued the first delete before it stopped at the missing one; that delete was not sent again.
  assert.deepEqual(
    h.sim.simulator.calls.matching('POST', /^\/vms\/11\/snapshots$/).map((c) => c.status),
    [404, 200],
  );
  assert.equal([...h.sim.state.tasks.values()].filter((t) => t.name.startsWith('Deleting snapshot')).length, 2);
});

test('retention after someone else deleted one of the doomed snapshots: the run completes, that one is reported not found, the others are deleted', async ({ h }) => {
  const now = Date.now();
  const old = [1, 2, 3, 4, 5, 6].map((i) => h.sim.state.seed(h.sim.demo.vmId, `bo-2026010${i}T000000-old${i}`, now - (10 - i) * DAY));
  // Deleted by an admin right after retention listed it: the bulk delete names it, and ManageIQ answers 404.
  h.sim.state.vanishAfterListing(old[2]!.id);
  const result = await h.execute<ManageiqSnapshotResult>('manageiqSnapshot', { endpoint: 'manageiq-sim', resourceId: '10', keep: 3, pollIntervalMs: 100 });
  assert.deepEqual(
    result.retention.deleted.map((d) => [d.name, d.success, d.notFound ?? false, d.taskStatus ?? null]),
    [
      ['bo-20260104T000000-old4', true, false, 'Ok'],
      ['bo-20260103T000000-old3', false, true, null],
      ['bo-20260102T000000-old2', true, false, 'Ok'],
      ['bo-20260101T000000-old1', true, false, 'Ok'],
    ],
  );
  assert.equal(result.retention.othersUntouched, 2);
  const after = (await h.sim.snapshotsOf()).map((s) => s.name).sort();
  assert.deepEqual(after, [...h.sim.demo.foreignSnapshotNames, 'bo-20260105T000000-old5', 'bo-20260106T000000-old6', result.snapshot.name].sort());
});

test('revert on an instance is refused with a clear message and zero vendor calls', async ({ h }) => {
  h.sim.state.seed(h.sim.demo.instanceId, 'bo-instance', Date.now());
  h.sim.simulator.calls.clear();
  const err = await h.execute('manageiqRevert', { endpoint: 'manageiq-sim', collection: 'instances', resourceId: h.sim.demo.instanceId }).catch((e) => e);
  const failure = failureOf(err);
  assert.equal(failure.type, 'RevertNotSupported');
  assert.equal(failure.nonRetryable, true);
  assert.match(failure.message, /revert is supported for VMs only; instance 20 cannot be reverted/);
  assert.equal(h.sim.simulator.calls.all().length, 0);
});

test('examples/manageiqRevert.json reverts the VM to the named snapshot and waits for the task; no name means the newest', async ({ h }) => {
  const result = await h.execute<ManageiqRevertResult>('manageiqRevert', { ...(await example('manageiqRevert')), pollIntervalMs: 100 });
  assert.equal(result.snapshot.name, 'before-upgrade');
  assert.equal(result.task?.status, 'Ok');
  assert.deepEqual(
    (await h.sim.snapshotsOf()).map((s) => [s.name, s.current]),
    [
      ['before-upgrade', 1],
      ['manual-2024', 0],
    ],
  );
  const latest = await h.execute<ManageiqRevertResult>('manageiqRevert', { endpoint: 'manageiq-sim', resourceId: '10', pollIntervalMs: 100 });
  assert.equal(latest.snapshot.name, 'manual-2024');
  assert.deepEqual(
    (await h.sim.snapshotsOf()).map((s) => [s.name, s.current]),
    [
      ['before-upgrade', 0],
      ['manual-2024', 1],
    ],
  );
  const missing = failureOf(await h.execute('manageiqRevert', { endpoint: 'manageiq-sim', resourceId: '10', snapshotName: 'nope', pollIntervalMs: 100 }).catch((e) => e));
  assert.match(missing.message, /step "find" failed: VM 10 has no snapshot named "nope"/);
});

test('a snapshot created but not confirmed when the run fails is deleted by compensation', async ({ h }) => {
  // The second snapshot list (the confirm; the first looks for one to adopt) is refused.
  h.sim.simulator.faults.add({ method: 'GET', path: '/vms/:id/snapshots', nth: 2, action: { kind: 'status', status: 403, message: 'Access to snapshots denied' } });
  const failure = failureOf(await h.execute('manageiqSnapshot', { endpoint: 'manageiq-sim', resourceId: '10', keep: 3, pollIntervalMs: 100 }).catch((e) => e));
  assert.match(failure.message, /step "confirm" failed: ManageIQ GET \/vms\/10\/snapshots → HTTP 403: Access to snapshots denied — compensation: undone: delete snapshot bo-\S+ of web-01/);
  assert.deepEqual(
    (await h.sim.snapshotsOf()).map((s) => s.name),
    [...h.sim.demo.foreignSnapshotNames],
  );
});

test('cancelling while the create task runs waits for it, then deletes the snapshot it made', async ({ h }) => {
  h.sim.state.options.taskMs = 2500;
  const handle = await h.start('manageiqSnapshot', { endpoint: 'manageiq-sim', resourceId: '10', pollIntervalMs: 100 });
  await eventually(
    async () => (await handle.query<Progress>('progress')).step,
    (s) => s === 'task',
  );
  await handle.cancel();
  await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);
  const progress = await handle.query<Progress>('progress');
  assert.equal(progress.state, 'cancelled');
  assert.equal(progress.undone.length, 1);
  assert.match(progress.undone[0]!, /^delete snapshot bo-\S+ of web-01$/);
  // The create task finished during compensation; its snapshot was then removed.
  assert.deepEqual(
    (await h.sim.snapshotsOf()).map((s) => s.name),
    [...h.sim.demo.foreignSnapshotNames],
  );
  assert.equal(h.sim.simulator.calls.matching('POST', /^\/vms\/10\/snapshots$/).length, 2, 'the create, then one (bulk) delete');
});

test('cancelling while the create call is still on its way: the run ends cancelled only after the create landed, and no snapshot of the run is left', async ({ h }) => {
  // The appliance takes 3 s to take the create; its task then runs 0.4 s.
  h.sim.simulator.faults.add({ method: 'POST', path: '/vms/:id/snapshots', action: { kind: 'delay', ms: 3_000 } });
  const handle = await h.start('manageiqSnapshot', { endpoint: 'manageiq-sim', resourceId: '10', pollIntervalMs: 100 });
  // The task query is the create activity's last call before the create: once it is answered, the create is on its way.
  await eventually(
    async () => h.sim.simulator.calls.matching('GET', /^\/tasks$/).length,
    (n) => n > 0,
  );
  await handle.cancel();
  await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);
  const progress = await handle.query<Progress>('progress');
  assert.equal(progress.state, 'cancelled');
  // Had the undo run while the create was on its way, the create would land after it: wait until it
  // has landed and every task has finished, then look at the VM.
  await eventually(
    async () => h.sim.simulator.calls.matching('POST', /^\/vms\/10\/snapshots$/).length,
    (n) => n > 0,
  );
  await eventually(
    async () => [...h.sim.state.tasks.values()].every((t) => Date.now() >= t.finishAt),
    (done) => done,
  );
  const creates = [...h.sim.state.tasks.values()].filter((t) => t.name.startsWith('Creating snapshot'));
  assert.equal(creates.length, 1, 'the create reached the appliance');
  assert.equal(h.sim.simulator.calls.matching('POST', /^\/vms\/10\/snapshots$/)[0]!.status, 200);
  assert.deepEqual(
    (await h.sim.snapshotsOf()).map((s) => s.name),
    [...h.sim.demo.foreignSnapshotNames],
    'no snapshot of the run is left',
  );
  assert.match(progress.undone.join('\n'), /^delete snapshot bo-\S+ of web-01$/);
});

test('a create whose reply was lost is retried: the retry adopts the queued create task, no second snapshot is made', async ({ h }) => {
  h.sim.state.options.taskMs = 4000;
  h.sim.simulator.faults.add({ method: 'POST', path: '/vms/:id/snapshots', action: { kind: 'drop', afterHandling: true } });
  const result = await h.execute<ManageiqSnapshotResult>('manageiqSnapshot', { endpoint: 'manageiq-sim', resourceId: '10', pollIntervalMs: 100 });
  // The task still runs when the retry looks (4 s > the 1 s retry): the snapshot is not listed yet, its task is.
  assert.deepEqual(
    h.sim.simulator.calls.matching('POST', /^\/vms\/10\/snapshots$/).map((c) => c.status),
    ['dropped'],
    'the create was sent once',
  );
  assert.equal([...h.sim.state.tasks.values()].filter((t) => t.name.startsWith('Creating snapshot')).length, 1, 'one create task at the appliance');
  const ours = (await h.sim.snapshotsOf()).filter((s) => s.name === result.snapshot.name);
  assert.equal(ours.length, 1);
  assert.equal(ours[0]!.id, result.snapshot.id);
  assert.deepEqual(result.duplicatesRemoved, []);
});

test('two runs started in the same second on two VMs each make and keep their own snapshot', async ({ h }) => {
  // Snapshot names once carried the run id's head, which UUIDv7 runs started together share: the
  // second run then adopted the first one's create task (another VM) and failed at confirm.
  while (Date.now() % 1000 > 300) await new Promise((r) => setTimeout(r, 20));
  const vms = [h.sim.demo.vmId, h.sim.demo.otherVmId];
  const handles = await Promise.all(vms.map((resourceId) => h.start('manageiqSnapshot', { endpoint: 'manageiq-sim', resourceId, pollIntervalMs: 100 })));
  const results = await Promise.all(handles.map((handle) => handle.result() as Promise<ManageiqSnapshotResult>));
  assert.notEqual(results[0]!.snapshot.name, results[1]!.snapshot.name);
  for (const [i, resourceId] of vms.entries()) {
    const snapshots = (await h.sim.snapshotsOf(resourceId)).map((snap) => snap.name);
    assert.ok(snapshots.includes(results[i]!.snapshot.name), `VM ${resourceId} holds its run's snapshot: ${snapshots.join(', ')}`);
    assert.ok(!snapshots.includes(results[1 - i]!.snapshot.name), `and not the other run's`);
  }
});

test('a garbled reply to the create fails the run at create; the snapshot its still-queued task makes is removed too', async ({ h }) => {
  h.sim.state.options.taskMs = 2000;
  h.sim.simulator.faults.add({ method: 'POST', path: '/vms/:id/snapshots', action: { kind: 'malformed' } });
  const failure = failureOf(await h.execute('manageiqSnapshot', { endpoint: 'manageiq-sim', resourceId: '10', pollIntervalMs: 100 }).catch((e) => e));
  assert.match(failure.message, /step "create" failed: ManageIQ POST \/vms\/10\/snapshots → HTTP 200: unexpected response body/);
  assert.match(failure.message, /compensation: undone: delete snapshot bo-\S+ of web-01/);
  // The appliance queued the create before its reply was cut: the undo found the task by the run's snapshot name and waited for it.
  assert.ok(
    [...h.sim.state.tasks.values()].every((t) => Date.now() >= t.finishAt),
    'no task still running',
  );
  assert.deepEqual(
    (await h.sim.snapshotsOf()).map((s) => s.name),
    [...h.sim.demo.foreignSnapshotNames],
  );
});

test('transient appliance trouble (503 on the task poll, 500 twice on the bulk delete) is retried; the run completes', async ({ h }) => {
  h.sim.state.seed(h.sim.demo.vmId, 'bo-20200101T000000-old', Date.now() - 100 * DAY);
  h.sim.simulator.faults.add({ method: 'GET', path: '/tasks/:id', nth: 2, action: { kind: 'status', status: 503, message: 'Service Unavailable' } });
  h.sim.simulator.faults.add({ method: 'POST', path: '/vms/:id/snapshots', nth: 2, times: 2, action: { kind: 'status', status: 500, message: 'Internal Server Error' } });
  const result = await h.execute<ManageiqSnapshotResult>('manageiqSnapshot', { endpoint: 'manageiq-sim', resourceId: '10', keep: 1, pollIntervalMs: 100 });
  assert.deepEqual(
    result.retention.deleted.map((d) => [d.name, d.success, d.taskStatus]),
    [['bo-20200101T000000-old', true, 'Ok']],
  );
  assert.deepEqual((await h.sim.snapshotsOf()).map((s) => s.name).sort(), [...h.sim.demo.foreignSnapshotNames, result.snapshot.name].sort());
  assert.deepEqual(
    h.sim.simulator.calls.matching('POST', /^\/vms\/10\/snapshots$/).map((c) => c.status),
    [200, 500, 500, 200],
  );
});

test('a create task that ends in Error fails the run with the task message; nothing is left', async ({ h }) => {
  h.sim.state.script.next('create', { status: 'Error', message: 'Snapshot creation failed: datastore full' });
  const failure = failureOf(await h.execute('manageiqSnapshot', { endpoint: 'manageiq-sim', resourceId: '10', pollIntervalMs: 100 }).catch((e) => e));
  assert.match(failure.message, /step "task" failed: creating snapshot bo-\S+: ManageIQ task \d+ finished with status Error: Snapshot creation failed: datastore full/);
  assert.deepEqual(
    (await h.sim.snapshotsOf()).map((s) => s.name),
    [...h.sim.demo.foreignSnapshotNames],
  );
});

test('bad input fails at once listing every problem, with no vendor call', async ({ h }) => {
  const failure = failureOf(await h.execute('manageiqSnapshot', { endpoint: 'manageiq-sim', resourceId: 'web-01', namePrefix: '', keep: 0, token: 'x' }).catch((e) => e));
  assert.equal(failure.type, 'InvalidInput');
  for (const field of ['resourceId', 'namePrefix', 'keep', 'token']) assert.match(failure.message, new RegExp(field));
  const del = failureOf(await h.execute('manageiqDeleteSnapshots', { endpoint: 'manageiq-sim', resourceId: '11', snapshotIds: [] }).catch((e) => e));
  assert.match(del.message, /snapshotIds must name at least one snapshot/);
  const neither = failureOf(await h.execute('manageiqDeleteSnapshots', { endpoint: 'manageiq-sim', resourceId: '11' }).catch((e) => e));
  assert.match(neither.message, /give snapshotIds or namePrefix \(exactly one\)/);
  assert.equal(h.sim.simulator.calls.all().length, 0);
});

test("every run of this file replays against today's workflow code (determinism)", async ({ h }) => {
  const histories = await namespaceHistories(h.client);
  assert.ok(histories.length >= 5, `only ${histories.length} runs found`);
  await assertReplays(histories);
});
