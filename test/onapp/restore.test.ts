/** onappRestore end to end: a real Temporal dev server, the worker, the OnApp simulator. */
import { onappTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { Progress } from '../../contracts/progress';
import { eventually } from '../helpers/eventually';
import type { OnappBackupResult, OnappRestoreResult } from '../../contracts/onapp/results';
import type { OnappHarness } from '../helpers/onapp-harness';
import { assertReplays, namespaceHistories } from '../helpers/replay';

// A restore outlasts the first retry of a start whose reply was lost (the retry finds it running).
const test = onappTest({ buildMs: 600, restoreMs: 2500 });
test.beforeEach(({ h }) => {
  h.sim.state.options.buildMs = 600;
  h.sim.state.options.restoreMs = 2500;
  h.sim.state.reset();
  h.sim.simulator.faults.clear();
  h.sim.simulator.calls.clear();
});

const example = async (name: string) => JSON.parse(await readFile(new URL(`../../examples/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
const restorePosts = (h: OnappHarness) => h.sim.simulator.calls.matching('POST', /^\/backups\/\d+\/restore\.(json|xml)$/).length;
const restorePolls = (h: OnappHarness) => h.sim.simulator.calls.matching('GET', /^\/virtual_machines\/101\.json$/).length;
/** What an admin sees of the server at the vendor. */
const serverLocked = async (h: OnappHarness) => (await h.sim.client().getVirtualServer(h.sim.demo.vmId)).locked;

async function failure(h: OnappHarness, input: Record<string, unknown>): Promise<string> {
  let message = '';
  await assert.rejects(h.execute('onappRestore', input), (err: WorkflowFailedError) => ((message = String(err.cause?.message)), true));
  return message;
}

test('examples/onappRestore.json right after examples/onappBackup.json restores that backup; the server is unlocked after', async ({ h }) => {
  const backup = await h.execute<OnappBackupResult>('onappBackup', await example('onappBackup'));
  const result = await h.execute<OnappRestoreResult>('onappRestore', await example('onappRestore'));
  assert.equal(result.chosen, 'latest');
  assert.equal(result.backup.id, backup.backup.id);
  assert.deepEqual(result.virtualServer, { id: 101, label: 'shop-web-01', identifier: h.sim.demo.vmIdentifier });
  assert.equal(result.adopted, false);
  assert.ok(result.polls >= 1, `polled ${result.polls} times`);
  assert.equal(restorePosts(h), 1);
  assert.equal(await serverLocked(h), false);
  const restored = h.sim.state.backup(backup.backup.id);
  assert.ok(restored.restoringUntil !== undefined && restored.restoringUntil <= h.sim.state.now(), 'the appliance ran the restore to its end');
});

test('a start whose reply was lost is adopted on retry: one restore, not two', async ({ h }) => {
  await h.execute<OnappBackupResult>('onappBackup', { endpoint: 'onapp-sim', virtualServerId: 101, pollIntervalMs: 200 });
  h.sim.simulator.faults.add({ method: 'POST', path: '/backups/:id/restore.json', action: { kind: 'drop', afterHandling: true } });
  const result = await h.execute<OnappRestoreResult>('onappRestore', { endpoint: 'onapp-sim', virtualServerId: 101, backupId: 'latest', pollIntervalMs: 200 });
  assert.equal(result.adopted, true);
  assert.equal(restorePosts(h), 1, 'the retry did not ask for a second restore');
  assert.equal(await serverLocked(h), false);
});

test('cancelled while the restore runs: the run waits until the restore has unlocked the server, then ends saying it may have run to its end', async ({ h }) => {
  h.sim.state.options.buildMs = 0;
  h.sim.state.options.restoreMs = 3_600_000;
  const backup = await h.sim.client().takeIncrementalBackup(101);
  const handle = await h.start('onappRestore', { endpoint: 'onapp-sim', virtualServerId: 101, backupId: backup.id, pollIntervalMs: 200 });
  await eventually(
    async () => (await handle.query<Progress>('progress')).step,
    (s) => s === 'wait',
  );
  await handle.cancel();
  await eventually(
    async () => (await handle.query<Progress>('progress')).state,
    (s) => s === 'compensating',
  );
  const polls = restorePolls(h);
  await eventually(
    async () => restorePolls(h),
    (n) => n >= polls + 2,
  );
  assert.equal((await handle.describe()).status.name, 'RUNNING', 'the run waits while the restore keeps the server locked');
  assert.equal(await serverLocked(h), true);

  h.sim.state.clock.advance(3_600_000);
  await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);
  assert.equal(await serverLocked(h), false);
  const progress = await handle.query<Progress>('progress');
  assert.equal(progress.state, 'cancelled');
  assert.match(progress.message ?? '', /OnApp cannot undo a restore: the restore of backup \d+ onto shop-web-01 may have run to its end; shop-web-01 is unlocked/);
  assert.equal(restorePosts(h), 1);
});

test('a server locked by a running restore is refused in one line before any restore is asked for', async ({ h }) => {
  h.sim.state.options.buildMs = 0;
  const [first, second] = [await h.sim.client().takeIncrementalBackup(101), await h.sim.client().takeIncrementalBackup(101)];
  await h.sim.client().restoreBackup(first.id);
  h.sim.simulator.calls.clear();
  const message = await failure(h, { endpoint: 'onapp-sim', virtualServerId: 101, backupId: second.id, pollIntervalMs: 200 });
  assert.equal(message, 'step "preflight" failed: virtual server shop-web-01 (101) is locked by another operation: nothing was restored; restore once it is unlocked — compensation: nothing to undo');
  assert.equal(restorePosts(h), 0);
});

test('a bad backup id is one line, before any change: unknown, of another server, not built yet, none to pick', async ({ h }) => {
  const refused = (input: Record<string, unknown>) => failure(h, { endpoint: 'onapp-sim', virtualServerId: 101, pollIntervalMs: 200, ...input });
  assert.equal(await refused({ backupId: 424242 }), 'step "preflight" failed: backup 424242 does not exist on endpoint "onapp-sim" — compensation: nothing to undo');
  assert.match(await refused({ backupId: 9001 }), /^step "preflight" failed: backup 9001 is not a backup of virtual server shop-web-01 \(101\): .*'s backups: none — compensation: nothing to undo$/);
  assert.equal(
    await refused({ backupId: 'latest' }),
    'step "preflight" failed: virtual server shop-web-01 (101) has no built backup to restore on endpoint "onapp-sim" — compensation: nothing to undo',
  );
  h.sim.state.options.buildMs = 600_000;
  const building = await h.sim.client().takeIncrementalBackup(101);
  assert.match(await refused({ backupId: building.id }), new RegExp(`^step "preflight" failed: backup ${building.id} of virtual server shop-web-01 \\(101\\) is not built yet`));
  assert.match(await failure(h, { endpoint: 'onapp-sim', virtualServerId: 101, backupId: 'newest' }), /^invalid input for onappRestore: .*backupId/);
  assert.equal(restorePosts(h), 0);
});

test("every run of this file replays against today's workflow code (determinism)", async ({ h }) => {
  const histories = await namespaceHistories(h.client);
  assert.ok(histories.length >= 3, `only ${histories.length} runs found`);
  await assertReplays(histories);
});
