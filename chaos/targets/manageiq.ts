/**
 * manageiqSnapshot against the ManageIQ simulator (token auth): VM db-01 already has two snapshots
 * this tool made; the run adds one and retention keeps 2, so a clean run also deletes the oldest.
 */
import { createManageiqSimulator, MANAGEIQ_DEMO } from '../../simulators/manageiq';
import { MANAGEIQ_SNAPSHOT_STEPS } from '../../contracts/manageiq/steps';
import type { ChaosTarget } from '../types';
import { CreationCounter } from './count';

const PASSWORD = 'chaos-miq-Pa55word';
const TIMEOUT_MS = 2_500;
const PREFIX = 'bo-';
const KEEP = 2;
const VM = MANAGEIQ_DEMO.otherVmId;

export async function manageiqTarget(): Promise<ChaosTarget> {
  // A create task takes longer than the first activity retry (1 s): a lost create reply is retried while it still runs.
  const { simulator, state } = createManageiqSimulator({ username: 'admin', password: PASSWORD, taskMs: 1_500 });
  await simulator.start(0);
  const created = new CreationCounter();
  created.watch(state, 'createSnapshot', (collection: string, resourceId: string, init: { name: string }) => `snapshot ${init.name} of ${collection}/${resourceId}`);
  let seeded = new Set<string>();

  return {
    workflow: 'manageiqSnapshot',
    simulator,
    clientTimeoutMs: TIMEOUT_MS,
    worker: {
      endpoints: { 'manageiq-chaos': { vendor: 'manageiq', url: simulator.apiUrl, timeoutMs: TIMEOUT_MS, auth: { type: 'token', username: 'admin', password: { env: 'CHAOS_MIQ_PASSWORD' } } } },
      secrets: { CHAOS_MIQ_PASSWORD: PASSWORD },
    },
    input: () => ({ endpoint: 'manageiq-chaos', resourceId: VM, namePrefix: PREFIX, keep: KEEP, pollIntervalMs: 100, taskTimeoutSeconds: 60 }),
    steps: MANAGEIQ_SNAPSHOT_STEPS,
    longSteps: { task: 700 },
    creates: [{ method: 'POST', path: '/vms/:p1/snapshots' }],
    expireSessions: () => state.expireTokens(),
    async leftovers(run) {
      state.tick();
      const queued = [...state.tasks.values()].filter((t) => !t.applied && t.name.startsWith('Creating snapshot')).map((t) => `create task ${t.id} still queued (${t.name})`);
      const mine = state.snapshotsOf(VM).filter((s) => !seeded.has(s.id));
      if (!run.completed) return [...queued, ...mine.map((s) => `snapshot ${s.id} "${s.name}" of a failed run`)];
      // A completed run keeps its one snapshot, and at most KEEP tool-made snapshots stay on the VM.
      const extra = mine.slice(1).map((s) => `second snapshot ${s.id} "${s.name}" of the run`);
      const owned = state.snapshotsOf(VM).filter((s) => s.name.startsWith(PREFIX));
      const overKept = owned.length > KEEP ? [`${owned.length} tool-made snapshots on VM ${VM}, retention keeps ${KEEP}`] : [];
      return [...queued, ...extra, ...overKept];
    },
    duplicates: async () => created.duplicates(),
    async reset() {
      simulator.faults.clear();
      simulator.calls.clear();
      state.reset();
      // Every case starts with the worker's cached token expired: each run logs in again (GET /auth), so faults on it fire.
      state.expireTokens();
      created.reset();
      seeded = new Set(state.snapshotsOf(VM).map((s) => s.id));
    },
    stop: () => simulator.stop(),
  };
}
