/**
 * Everything an oVirt end-to-end test needs: the generic harness, the oVirt simulator with real
 * disk bytes, and (optionally) an in-process copy worker for the demo proxy VM.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CopySettings } from '../../activities/copy/copy-disk';
import { copyTaskQueueFor } from '../../lib/temporal/task-queues';
import { createOvirtSimulator, OVIRT_DEMO, type EngineVersion, type OvirtSimulatorOptions } from '../../simulators/ovirt';
import { createCopyWorker } from '../../workers/worker-factory';
import { startHarness, type HarnessOptions } from './harness';
import { testDataConverter } from './temporal';

export const SIM_PASSWORD = 'sim-secret-Pa55word';

export interface OvirtHarnessOptions {
  /** Default v4; v3 talks to a 3.6 engine, as no 4.4+ engine serves v3. */
  apiVersion?: 'v4' | 'v3';
  /** The engine the simulator plays; default 3.6 for v3, 4.5 for v4. */
  engine?: EngineVersion;
  auth?: 'sso' | 'basic';
  /** false: the test runs the copy worker itself (e.g. as a child process it can kill). */
  inProcessCopyWorker?: boolean;
  sim?: Partial<OvirtSimulatorOptions>;
  copy?: Partial<CopySettings>;
  /** Worker secrets besides the engine's password (the alert webhook URL), scanned for at stop. */
  secrets?: Record<string, string>;
  workerEnv?: Record<string, string>;
  /** More `temporal server start-dev` flags (`--metrics-port N`). */
  serverArgs?: string[];
  /** The Temporal server (default: a dev server of the file's own), see HarnessOptions.temporal. */
  temporal?: HarnessOptions['temporal'];
}

export async function startOvirtHarness(options: OvirtHarnessOptions = {}) {
  const tmp = await mkdtemp(join(tmpdir(), 'ovirt-harness-'));
  const dirs = { data: join(tmp, 'sim-data'), devices: join(tmp, 'devices'), repository: join(tmp, 'repository') };
  const apiVersion = options.apiVersion ?? 'v4';
  const engine = options.engine ?? (apiVersion === 'v3' ? '3.6' : '4.5');
  const { simulator, state, imageio, imageioCaFile } = await createOvirtSimulator({
    engineVersion: engine,
    dataDir: dirs.data,
    deviceRoot: dirs.devices,
    password: SIM_PASSWORD,
    snapshotCreateMs: 300,
    snapshotDeleteMs: 200,
    diskSizes: { os: 3 * 1024 * 1024 + 12345, data: 1024 * 1024 },
    ...options.sim,
  });
  await simulator.start(0);
  const copyQueue = copyTaskQueueFor(OVIRT_DEMO.proxyVmId);
  const copySettings: CopySettings = {
    repositoryRoot: dirs.repository,
    deviceByIdDir: join(dirs.devices, 'by-id'),
    deviceDir: dirs.devices,
    chunkBytes: 256 * 1024,
    maxBytesPerSecond: 0,
    imageioCaFile,
    ...options.copy,
  };

  const harness = await startHarness({
    endpoints: {
      'ovirt-sim': {
        vendor: 'ovirt',
        // A 3.6 engine's plain path (/api); a 4.5 engine's /ovirt-engine/api.
        url: simulator.apiUrl,
        apiVersion,
        auth: { type: options.auth ?? 'sso', username: 'admin@internal', password: { env: 'TEST_OVIRT_PASSWORD' } },
      },
    },
    secrets: { TEST_OVIRT_PASSWORD: SIM_PASSWORD, ...options.secrets },
    workerEnv: options.workerEnv,
    serverArgs: options.serverArgs,
    temporal: options.temporal,
    issuedSecrets: () => state.tokens.issuedTokens,
    extraWorkers: async (env) =>
      options.inProcessCopyWorker === false
        ? []
        : await createCopyWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue: copyQueue, copy: copySettings, dataConverter: testDataConverter }),
    onStop: async () => {
      await simulator.stop();
      await rm(tmp, { recursive: true, force: true });
    },
  });

  return {
    ...harness,
    simulator,
    state,
    /** The engine's imageio server (transfer URLs): its faults and call log. */
    imageio,
    engine,
    demo: OVIRT_DEMO,
    dirs,
    copyQueue,
    copySettings,
    endpoint: 'ovirt-sim',
    /** A valid input for the demo VM; override fields per test. */
    input(overrides: Record<string, unknown> = {}) {
      return { endpoint: 'ovirt-sim', vmId: OVIRT_DEMO.vmId, proxyVmId: OVIRT_DEMO.proxyVmId, pollIntervalMs: 100, ...overrides };
    },
  };
}

export type OvirtHarness = Awaited<ReturnType<typeof startOvirtHarness>>;
