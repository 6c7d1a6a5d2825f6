/** backupctl's exit code 4: a run that completed but reports failed items is not a success. */
import { manageiqTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { runBackupctl } from '../helpers/backupctl';

const test = manageiqTest({ taskMs: 200 });
test.beforeEach(({ h }) => h.sim.state.reset());

test('exit 4: a bulk delete whose snapshots are not there completes with failed: 2, and says so', async ({ h }) => {
  const env = { TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: h.taskQueue };
  const input = { endpoint: 'manageiq-sim', resourceId: h.sim.demo.otherVmId, snapshotIds: ['777777', '777778'], pollIntervalMs: 100 };
  const r = await runBackupctl(env, 'start', 'manageiqDeleteSnapshots', '--input', JSON.stringify(input), '--wait');
  assert.equal(r.code, 4, r.stderr);
  assert.deepEqual([JSON.parse(r.stdout).succeeded, JSON.parse(r.stdout).failed], [0, 2]);
  assert.match(r.stderr, /completed, but 2 of its items failed/);
  const id = /started manageiqDeleteSnapshots as (\S+)/.exec(r.stderr)![1]!;
  assert.equal((await runBackupctl(env, 'result', id)).code, 4);

  const byPrefix = await runBackupctl(env, 'start', 'manageiqDeleteSnapshots', '--input', JSON.stringify({ ...input, snapshotIds: undefined, namePrefix: 'bo-' }), '--wait');
  assert.equal(byPrefix.code, 0, byPrefix.stderr);
  assert.deepEqual([JSON.parse(byPrefix.stdout).succeeded, JSON.parse(byPrefix.stdout).failed], [2, 0]);
});
