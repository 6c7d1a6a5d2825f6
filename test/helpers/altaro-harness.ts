/**
 * Everything an Altaro end-to-end test needs: the generic harness with the Altaro simulator (short
 * operations), the profile `altaro-sim`, and a look at the simulator through its own REST API.
 */
import { createAltaroSimulator, ALTARO_DEMO, type AltaroSimulatorOptions } from '../../simulators/altaro';
import { startHarness } from './harness';

export const ALTARO_SIM_PASSWORD = 'altaro-Test-Pa55word!';

export interface AltaroHarnessOptions {
  productVersion?: string;
  sim?: AltaroSimulatorOptions;
  /** Extra profiles on the same simulator: profile name → product version. */
  extraVersions?: Record<string, string>;
}

export async function startAltaroHarness(options: AltaroHarnessOptions = {}) {
  const { simulator, state } = createAltaroSimulator({
    password: ALTARO_SIM_PASSWORD,
    operationMs: { 'take-backup': 1_200, 'take-offsitecopy': 900, restore: 900, 'seed-to-disk': 900, 'sandbox-restore': 900, verification: 900 },
    lingerMs: 300,
    abortMs: 200,
    ...options.sim,
  });
  await simulator.start(0);
  const profile = (productVersion: string) => ({
    vendor: 'altaro',
    url: simulator.url,
    productVersion,
    auth: { username: ALTARO_DEMO.username, password: { env: 'TEST_ALTARO_PASSWORD' } },
  });
  const harness = await startHarness({
    endpoints: {
      'altaro-sim': profile(options.productVersion ?? '9.1'),
      ...Object.fromEntries(Object.entries(options.extraVersions ?? {}).map(([name, version]) => [name, profile(version)])),
    },
    secrets: { TEST_ALTARO_PASSWORD: ALTARO_SIM_PASSWORD },
    issuedSecrets: () => state.issuedTokens,
    onStop: async () => simulator.stop(),
  });
  return {
    ...harness,
    simulator,
    state,
    demo: ALTARO_DEMO,
    profile,
    /** A valid altaroBackup input for the demo VM with fast polling; override per test. */
    input(overrides: Record<string, unknown> = {}) {
      return { endpoint: 'altaro-sim', vmRef: ALTARO_DEMO.vmRef, pollIntervalMs: 100, maxPollIntervalMs: 400, ...overrides };
    },
    /** Open sessions as the API shows them: POST /sessions/end (all) lists what it closed. */
    async openSessions(): Promise<number> {
      const res = await fetch(`${simulator.url}/api/rest/sessions/end`, { method: 'POST' });
      const body = (await res.json()) as { Success: boolean; ClosedSessions: unknown[] };
      if (!body.Success) throw new Error(`POST /sessions/end: ${JSON.stringify(body)}`);
      return body.ClosedSessions.length;
    },
    /** Calls of one kind the simulator served, e.g. calls('POST', /abort-operation/). */
    calls(method: string | undefined, path: RegExp) {
      return simulator.calls.matching(method, path);
    },
  };
}

export type AltaroHarness = Awaited<ReturnType<typeof startAltaroHarness>>;

/** Reads the VM's reports through the vendor API, with a session of its own. */
export async function vendorReports(h: AltaroHarness, type: 'backup' | 'restore', vmRef: string): Promise<Array<Record<string, unknown>>> {
  const base = `${h.simulator.url}/api/rest`;
  const start = await fetch(`${base}/sessions/start`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ServerAddress: 'LOCALHOST', ServerPort: 35107, Username: ALTARO_DEMO.username, Password: ALTARO_SIM_PASSWORD, Domain: '' }),
  });
  const token = ((await start.json()) as { Data: string }).Data;
  try {
    const res = await fetch(`${base}/reports/${type}/${token}/${vmRef}`);
    const body = (await res.json()) as Record<string, unknown>;
    return (body[type === 'backup' ? 'BackupReports' : 'RestoreReports'] as Array<Record<string, unknown>>) ?? [];
  } finally {
    await fetch(`${base}/sessions/end/${token}`, { method: 'POST' });
  }
}
