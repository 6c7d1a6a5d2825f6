/** onappBackup and onappListBackups end to end: a real Temporal dev server, the worker, the OnApp simulator. */
import { onappTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { OnappBackupResult, OnappListBackupsResult } from '../../contracts/onapp/results';
import type { Progress } from '../../contracts/progress';
import type { OnappHarness } from '../helpers/onapp-harness';
import { assertReplays, namespaceHistories } from '../helpers/replay';
import { eventually } from '../helpers/eventually';

const test = onappTest({ buildMs: 3500 });
test.beforeEach(({ h }) => {
  h.sim.state.reset();
  h.sim.simulator.faults.clear();
  h.sim.simulator.calls.clear();
});

const listPolls = (h: OnappHarness) => h.sim.simulator.calls.matching('GET', /^\/virtual_machines\/\d+\/backups\.json$/).length;

test('examples/onappBackup.json completes after several polls, with the built backup and its fields', async ({ h }) => {
  const input = JSON.parse(await readFile(new URL('../../examples/onappBackup.json', import.meta.url), 'utf8'));
  const result = await h.execute<OnappBackupResult>('onappBackup', input);
  assert.equal(result.virtualServer.id, 101);
  assert.equal(result.backup.built, true);
  assert.equal(result.backup.backupType, 'incremental');
  assert.equal(result.backup.targetType, 'VirtualMachine');
  assert.ok(result.polls >= 3, `polled ${result.polls} times`);
  assert.equal(result.summary.type, 'incremental');
  assert.equal(result.summary.sizeKb, result.backup.backupSizeKb);
  assert.ok(result.summary.sizeKb! > 0);
  assert.equal(result.summary.builtAt, result.backup.builtAt);
  assert.match(result.backup.note!, /^\[backup-orchestrator [^\]]+\] nightly backup$/);
  // What the admin sees at the vendor: exactly one backup, built, the one reported.
  const atVendor = await h.sim.backupsOf();
  assert.deepEqual(
    atVendor.map((b) => [b.id, b.built]),
    [[result.backup.id, true]],
  );
  // Every poll the run counted is a list read the vendor served (one more read looked for a backup to adopt).
  assert.ok(listPolls(h) >= result.polls + 1, `vendor served ${listPolls(h)} list reads, run counted ${result.polls} polls`);
});

test('a normal backup of the primary disk (default) over XML', async ({ h }) => {
  const result = await h.execute<OnappBackupResult>('onappBackup', { endpoint: 'onapp-sim-xml', virtualServerId: 101, backupType: 'normal', pollIntervalMs: 200 });
  assert.ok(
    h.sim.simulator.calls.all().every((c) => c.path.endsWith('.xml')),
    'every call went to an .xml resource',
  );
  assert.equal(result.disk?.id, h.sim.demo.primaryDiskId);
  assert.equal(result.backup.targetType, 'Disk');
  assert.equal(result.backup.targetId, h.sim.demo.primaryDiskId);
  assert.equal(result.backup.built, true);
});

test('cancelling while the backup is being built deletes it: no unfinished backup is left', async ({ h }) => {
  const handle = await h.start('onappBackup', { endpoint: 'onapp-sim', virtualServerId: 101, pollIntervalMs: 200 });
  await eventually(
    async () => (await handle.query<Progress>('progress')).step,
    (s) => s === 'build',
  );
  await eventually(
    async () => listPolls(h),
    (n) => n >= 3,
  );
  assert.equal((await h.sim.backupsOf()).filter((b) => !b.built).length, 1, 'the backup is being built when the cancel lands');
  await handle.cancel();
  await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);
  const progress = await handle.query<Progress>('progress');
  assert.equal(progress.state, 'cancelled');
  assert.deepEqual(progress.undone, ['delete unfinished backup of shop-web-01']);
  assert.deepEqual(await h.sim.backupsOf(), []);
  assert.deepEqual((await handle.describe()).searchAttributes.BackupOutcome, ['cancelled']);
});

test('cancelling during a slow take waits for it to land, then deletes it: no backup of the run is left', async ({ h }) => {
  // The engine takes 3 s to answer the take; the cancel arrives while it is still on its way.
  h.sim.simulator.faults.add({ method: 'POST', path: '/virtual_machines/:id/backups.json', action: { kind: 'delay', ms: 3000 } });
  const handle = await h.start('onappBackup', { endpoint: 'onapp-sim', virtualServerId: 101, pollIntervalMs: 200 });
  // The take reads the list (to adopt a backup of this run) just before it posts.
  await eventually(
    async () => (await handle.query<Progress>('progress')).step === 'take' && listPolls(h) >= 1,
    (taking) => taking,
  );
  await handle.cancel();
  await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);
  // However late the take lands, the run has already seen it land and removed it.
  await eventually(
    async () => h.sim.simulator.calls.matching('POST', /backups/).length,
    (n) => n === 1,
  );
  assert.deepEqual(await h.sim.backupsOf(), [], 'no backup of the cancelled run is left');
  const progress = await handle.query<Progress>('progress');
  assert.equal(progress.state, 'cancelled');
  assert.deepEqual(progress.undone, ['delete unfinished backup of shop-web-01']);
});

test('a take whose reply was lost is adopted on retry: one backup, not two', async ({ h }) => {
  h.sim.simulator.faults.add({ method: 'POST', path: '/virtual_machines/:id/backups.json', action: { kind: 'drop', afterHandling: true } });
  const result = await h.execute<OnappBackupResult>('onappBackup', { endpoint: 'onapp-sim', virtualServerId: 101, pollIntervalMs: 200 });
  assert.equal(result.adopted, true);
  assert.equal((await h.sim.backupsOf()).length, 1);
});

test('a 503 while polling is retried; the run completes with the built backup', async ({ h }) => {
  h.sim.simulator.faults.add({ method: 'GET', path: '/virtual_machines/:id/backups.json', nth: 3, action: { kind: 'status', status: 503, message: 'Service Unavailable' } });
  const result = await h.execute<OnappBackupResult>('onappBackup', { endpoint: 'onapp-sim', virtualServerId: 101, pollIntervalMs: 300 });
  assert.equal(result.backup.built, true);
  assert.ok(
    h.sim.simulator.calls.all().some((c) => c.status === 503),
    'the fault fired',
  );
  assert.deepEqual(
    (await h.sim.backupsOf()).map((b) => b.built),
    [true],
  );
});

test('a backup that vanishes while being built fails the run clearly and leaves nothing behind', async ({ h }) => {
  const handle = await h.start('onappBackup', { endpoint: 'onapp-sim', virtualServerId: 101, pollIntervalMs: 200 });
  await eventually(
    async () => (await handle.query<Progress>('progress')).step,
    (s) => s === 'build',
  );
  const [building] = await h.sim.backupsOf();
  h.sim.state.deleteBackup(building!.id);
  await assert.rejects(handle.result(), (err: WorkflowFailedError) => {
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.match(err.cause.message, /step "build" failed: backup \d+ disappeared from virtual server 101 while being built — compensation: undone: delete unfinished backup of shop-web-01/);
    return true;
  });
  assert.deepEqual(await h.sim.backupsOf(), []);
});

test('a refused take (422) fails at once with the vendor words, nothing left behind', async ({ h }) => {
  h.sim.simulator.faults.add({ method: 'POST', path: '/virtual_machines/:id/backups.json', action: { kind: 'status', status: 422, message: 'Virtual server is being migrated' } });
  await assert.rejects(h.execute('onappBackup', { endpoint: 'onapp-sim', virtualServerId: 101, pollIntervalMs: 200 }), (err: WorkflowFailedError) => {
    assert.match(String(err.cause?.message), /step "take" failed: OnApp POST \/virtual_machines\/101\/backups\.json → HTTP 422: Virtual server is being migrated/);
    return true;
  });
  assert.equal(h.sim.simulator.calls.matching('POST', /backups/).length, 1, 'a 422 is not retried');
  assert.deepEqual(await h.sim.backupsOf(), []);
});

test('bad input fails at once listing every problem, with no vendor call', async ({ h }) => {
  await assert.rejects(h.execute('onappBackup', { endpoint: 'onapp-sim', virtualServerId: '101x', diskId: 5, password: 'x' }), (err: WorkflowFailedError) => {
    const cause = err.cause as ApplicationFailure;
    assert.equal(cause.type, 'InvalidInput');
    assert.match(cause.message, /virtualServerId/);
    assert.match(cause.message, /password/);
    return true;
  });
  await assert.rejects(h.execute('onappBackup', { endpoint: 'onapp-sim', virtualServerId: 101, backupType: 'incremental', diskId: 501 }), (err: WorkflowFailedError) => {
    assert.match(String(err.cause?.message), /diskId: diskId applies to normal/);
    return true;
  });
  assert.equal(h.sim.simulator.calls.all().length, 0);
});

test('onappListBackups returns the typed catalogue of a server (and of one kind)', async ({ h }) => {
  const input = JSON.parse(await readFile(new URL('../../examples/onappListBackups.json', import.meta.url), 'utf8'));
  const all = await h.execute<OnappListBackupsResult>('onappListBackups', input);
  assert.equal(all.count, 2);
  assert.deepEqual(all.backups, await h.sim.client('xml').listBackups(102));
  const images = await h.execute<OnappListBackupsResult>('onappListBackups', { ...input, kind: 'normal' });
  assert.deepEqual(
    images.backups.map((b) => b.backupType),
    ['normal'],
  );
  await assert.rejects(h.execute('onappListBackups', { endpoint: 'onapp-sim', virtualServerId: 999 }), (err: WorkflowFailedError) => {
    assert.match(String(err.cause?.message), /virtual server 999 does not exist on endpoint "onapp-sim"/);
    return true;
  });
});

test("every run of this file replays against today's workflow code (determinism)", async ({ h }) => {
  const histories = await namespaceHistories(h.client);
  assert.ok(histories.length >= 5, `only ${histories.length} runs found`);
  await assertReplays(histories);
});
