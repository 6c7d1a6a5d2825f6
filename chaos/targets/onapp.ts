/** onappBackup (incremental backup of the demo server) against the OnApp simulator. */
import { createOnappSimulator, ONAPP_DEMO } from '../../simulators/onapp';
import { ONAPP_BACKUP_STEPS } from '../../contracts/onapp/steps';
import type { ChaosTarget } from '../types';
import { CreationCounter } from './count';

const PASSWORD = 'chaos-onapp-Pa55word';
const TIMEOUT_MS = 2_500;

export async function onappTarget(): Promise<ChaosTarget> {
  const { simulator, state } = createOnappSimulator({ username: 'admin', password: PASSWORD, buildMs: 800, restoreMs: 300 });
  await simulator.start(0);
  const created = new CreationCounter();
  created.watch(state, 'takeIncrementalBackup', (vmId: number) => `incremental backup of server ${vmId}`);
  created.watch(state, 'takeDiskBackup', (diskId: number) => `backup of disk ${diskId}`);
  let before = new Set<number>();

  return {
    workflow: 'onappBackup',
    simulator,
    clientTimeoutMs: TIMEOUT_MS,
    worker: {
      endpoints: { 'onapp-chaos': { vendor: 'onapp', url: simulator.apiUrl, format: 'json', timeoutMs: TIMEOUT_MS, auth: { username: 'admin', password: { env: 'CHAOS_ONAPP_PASSWORD' } } } },
      secrets: { CHAOS_ONAPP_PASSWORD: PASSWORD },
    },
    input: () => ({ endpoint: 'onapp-chaos', virtualServerId: ONAPP_DEMO.vmId, pollIntervalMs: 100, note: 'chaos' }),
    steps: ONAPP_BACKUP_STEPS,
    longSteps: { build: 300 },
    creates: [{ method: 'POST', path: '/virtual_machines/:p1/backups.json' }],
    // No expireSessions: HTTP Basic on every call, there is no token or session to expire.
    async leftovers(run) {
      const mine = [...state.backups.values()].filter((b) => !before.has(b.id));
      const unbuilt = mine.filter((b) => !state.isBuilt(b)).map((b) => `backup ${b.id} still building`);
      // A completed run keeps its one backup (the product); a failed run must have removed it.
      const kept = run.completed ? [] : mine.filter((b) => state.isBuilt(b)).map((b) => `backup ${b.id} of a failed run`);
      return [...unbuilt, ...kept];
    },
    duplicates: async () => created.duplicates(),
    async reset() {
      simulator.faults.clear();
      simulator.calls.clear();
      state.reset();
      created.reset();
      before = new Set(state.backups.keys());
    },
    stop: () => simulator.stop(),
  };
}
