/**
 * Determinism guard for manageiqSnapshot, manageiqRevert and manageiqDeleteSnapshots: recorded
 * histories (test/manageiq/histories) and fresh ones (completed, cancelled while the create was in
 * flight, cancelled while its task ran, failed task, revert, bulk delete) replay against today's
 * workflow code. The recorded `…-before-forward-create` history is a run cancelled during its create
 * by the code before the patch `manageiq-create-waits-for-cancel`: it must keep replaying until that
 * patch is deprecated. RECORD_HISTORIES=1 records fresh ones beside them (never over them).
 */
import { manageiqTest } from '../helpers/fixtures';
import { fileURLToPath } from 'node:url';
import type { Progress } from '../../contracts/progress';
import type { ManageiqHarness } from '../helpers/manageiq-harness';
import { eventually } from '../helpers/eventually';
import { recordRun, replayFreshAndRecorded } from '../helpers/replay';

const historiesDir = fileURLToPath(new URL('./histories', import.meta.url));
const test = manageiqTest({ taskMs: 400 });
test.beforeEach(({ h }) => {
  h.sim.state.reset();
  h.sim.simulator.faults.clear();
  h.sim.simulator.calls.clear();
});

/** A fresh simulator for each run: its own task time, no faults, an empty call log; then `prepare`. */
async function recordFresh(h: ManageiqHarness, name: string, workflowType: string, args: unknown, { prepare, act }: { prepare?: () => void; act?: (id: string) => Promise<void> } = {}) {
  h.sim.state.reset();
  h.sim.state.options.taskMs = 400;
  h.sim.simulator.faults.clear();
  h.sim.simulator.calls.clear();
  prepare?.();
  return recordRun(h, name, workflowType, args, act);
}

const snapshotInput = { endpoint: 'manageiq-sim', resourceId: '10', keep: 3, pollIntervalMs: 100 };

test('recorded and fresh ManageIQ histories replay without nondeterminism', async ({ h }) => {
  const fresh = [
    await recordFresh(h, 'completed', 'manageiqSnapshot', snapshotInput),
    await recordFresh(h, 'cancelled-in-create', 'manageiqSnapshot', snapshotInput, {
      // The create call is held for 3 s: the cancel arrives while it is in flight (the task query is the last call before it).
      prepare: () => h.sim.simulator.faults.add({ method: 'POST', path: '/vms/:id/snapshots', action: { kind: 'delay', ms: 3_000 } }),
      act: async (id) => {
        await eventually(
          async () => h.sim.simulator.calls.matching('GET', /^\/tasks$/).length,
          (n) => n > 0,
        );
        await h.client.workflow.getHandle(id).cancel();
      },
    }),
    await recordFresh(h, 'cancelled-in-task', 'manageiqSnapshot', snapshotInput, {
      prepare: () => (h.sim.state.options.taskMs = 2_500),
      act: async (id) => {
        const handle = h.client.workflow.getHandle(id);
        await eventually(
          async () => (await handle.query<Progress>('progress')).step,
          (step) => step === 'task',
        );
        await handle.cancel();
      },
    }),
    await recordFresh(h, 'failed-task', 'manageiqSnapshot', snapshotInput, {
      prepare: () => h.sim.state.script.next('create', { status: 'Error', message: 'Snapshot creation failed: datastore full' }),
    }),
    await recordFresh(h, 'revert', 'manageiqRevert', { endpoint: 'manageiq-sim', resourceId: '10', snapshotName: 'before-upgrade', pollIntervalMs: 100 }),
    await recordFresh(h, 'bulk-delete', 'manageiqDeleteSnapshots', { endpoint: 'manageiq-sim', resourceId: '11', snapshotIds: ['1002', '777777', '1003'], pollIntervalMs: 100 }),
  ];
  await replayFreshAndRecorded(historiesDir, h.env.address, fresh);
});
