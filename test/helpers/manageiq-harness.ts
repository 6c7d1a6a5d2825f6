/**
 * ManageIQ test fixtures: the simulator on a free port, a client per auth type, a look at the
 * appliance through its own API, and (for end-to-end tests) the Temporal harness with a
 * `manageiq-sim` profile pointing at it.
 */
import { ManageiqClient } from '../../activities/manageiq/client';
import type { ManageiqProfile } from '../../lib/config/endpoints';
import { manageiqProfile } from '../../lib/config/profiles/manageiq';
import { createManageiqSimulator, MANAGEIQ_DEMO, type ManageiqSimulatorOptions } from '../../simulators/manageiq';
import { startHarness } from './harness';

export const MANAGEIQ_TEST_PASSWORD = 'miq-test-Pa55';

export async function startManageiqSimulator(options: ManageiqSimulatorOptions = {}) {
  const { simulator, state } = createManageiqSimulator({ username: 'admin', password: MANAGEIQ_TEST_PASSWORD, taskMs: 300, ...options });
  await simulator.start(0);
  const profile = (type: 'token' | 'basic' = 'token'): ManageiqProfile =>
    manageiqProfile.parse({ vendor: 'manageiq', url: simulator.apiUrl, auth: { type, username: 'admin', password: { env: 'TEST_MIQ_PASSWORD' } } });
  const env = { TEST_MIQ_PASSWORD: MANAGEIQ_TEST_PASSWORD };
  const basic = `Basic ${Buffer.from(`admin:${MANAGEIQ_TEST_PASSWORD}`).toString('base64')}`;
  return {
    simulator,
    state,
    demo: MANAGEIQ_DEMO,
    profile,
    env,
    client: (type: 'token' | 'basic' = 'token') => new ManageiqClient(profile(type), env),
    /** The resource's snapshots as the appliance lists them (name, id), oldest first. */
    async snapshotsOf(resourceId: string = MANAGEIQ_DEMO.vmId, collection: 'vms' | 'instances' = 'vms') {
      const res = await fetch(`${simulator.apiUrl}/${collection}/${resourceId}/snapshots?expand=resources&sort_by=create_time&sort_order=asc`, { headers: { authorization: basic } });
      if (res.status !== 200) throw new Error(`GET snapshots → ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { resources: Array<{ id: string; name: string; current: number }> }).resources;
    },
    /** Calls the workflows made to the vendor API (the control API and our own look-ups excluded). */
    vendorCalls() {
      return simulator.calls.all();
    },
  };
}

export async function startManageiqHarness(options: ManageiqSimulatorOptions = {}) {
  const sim = await startManageiqSimulator(options);
  const harness = await startHarness({
    endpoints: { 'manageiq-sim': sim.profile('token') },
    secrets: sim.env,
    issuedSecrets: () => [...sim.state.tokens.keys()],
    onStop: () => sim.simulator.stop(),
  });
  return { ...harness, sim, endpoint: 'manageiq-sim' };
}

export type ManageiqHarness = Awaited<ReturnType<typeof startManageiqHarness>>;
export type ManageiqSim = Awaited<ReturnType<typeof startManageiqSimulator>>;
