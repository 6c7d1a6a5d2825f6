/**
 * OnApp test fixtures: the simulator on a free port, a client for each format, and (for the
 * end-to-end tests) the generic Temporal harness with an `onapp-sim` profile pointing at it.
 */
import { OnappClient } from '../../activities/onapp/client';
import type { OnappProfile } from '../../lib/config/endpoints';
import { onappProfile } from '../../lib/config/profiles/onapp';
import { createOnappSimulator, ONAPP_DEMO, type OnappSimulatorOptions } from '../../simulators/onapp';
import { startHarness } from './harness';

export const ONAPP_TEST_PASSWORD = 'onapp-test-Pa55';

export async function startOnappSimulator(options: OnappSimulatorOptions = {}) {
  const { simulator, state } = createOnappSimulator({ username: 'admin', password: ONAPP_TEST_PASSWORD, buildMs: 600, restoreMs: 300, ...options });
  await simulator.start(0);
  const profile = (format: 'json' | 'xml' = 'json'): OnappProfile =>
    onappProfile.parse({ vendor: 'onapp', url: simulator.apiUrl, format, auth: { username: 'admin', password: { env: 'TEST_ONAPP_PASSWORD' } } });
  const env = { TEST_ONAPP_PASSWORD: ONAPP_TEST_PASSWORD };
  return {
    simulator,
    state,
    demo: ONAPP_DEMO,
    profile,
    env,
    client: (format: 'json' | 'xml' = 'json') => new OnappClient(profile(format), env),
    /** What an admin sees: the server's backups, read straight from the API (JSON). */
    async backupsOf(vmId: number = ONAPP_DEMO.vmId) {
      const res = await fetch(`${simulator.apiUrl}/virtual_machines/${vmId}/backups.json`, {
        headers: { accept: 'application/json', authorization: `Basic ${Buffer.from(`admin:${ONAPP_TEST_PASSWORD}`).toString('base64')}` },
      });
      if (res.status !== 200) throw new Error(`GET backups → ${res.status}: ${await res.text()}`);
      return ((await res.json()) as Array<{ backup: { id: number; built: boolean; note: string | null; backup_type: string } }>).map((b) => b.backup);
    },
  };
}

export type OnappSim = Awaited<ReturnType<typeof startOnappSimulator>>;

export async function startOnappHarness(options: OnappSimulatorOptions & { format?: 'json' | 'xml' } = {}) {
  const sim = await startOnappSimulator(options);
  const harness = await startHarness({
    // The same simulator through both of OnApp's formats.
    endpoints: { 'onapp-sim': sim.profile(options.format ?? 'json'), 'onapp-sim-xml': sim.profile('xml') },
    secrets: sim.env,
    onStop: () => sim.simulator.stop(),
  });
  return { ...harness, sim, endpoint: 'onapp-sim' };
}

export type OnappHarness = Awaited<ReturnType<typeof startOnappHarness>>;
