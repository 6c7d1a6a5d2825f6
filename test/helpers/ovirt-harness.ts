/**
 * Everything an oVirt end-to-end test needs: a dev server, the oVirt simulator with real disk
 * bytes, the main worker and (optionally) an in-process copy worker, all on free ports.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { CopySettings } from '../../activities/copy/copy-disk';
import { EndpointRegistry } from '../../lib/config/endpoints';
import { copyTaskQueueFor } from '../../lib/temporal/task-queues';
import { createOvirtSimulator, OVIRT_DEMO, type OvirtSimulatorOptions } from '../../simulators/ovirt';
import { createCopyWorker, createMainWorker } from '../../workers/worker-factory';
import { startTemporal, workflowBundle } from './temporal';

export const SIM_PASSWORD = 'sim-secret-Pa55word';

export interface OvirtHarnessOptions {
  apiVersion?: 'v4' | 'v3';
  auth?: 'sso' | 'basic';
  /** false: the test runs the copy worker itself (e.g. as a child process it can kill). */
  inProcessCopyWorker?: boolean;
  sim?: Partial<OvirtSimulatorOptions>;
  copy?: Partial<CopySettings>;
}

export async function startOvirtHarness(options: OvirtHarnessOptions = {}) {
  const tmp = await mkdtemp(join(tmpdir(), 'ovirt-harness-'));
  const dirs = { data: join(tmp, 'sim-data'), devices: join(tmp, 'devices'), repository: join(tmp, 'repository') };
  const { simulator, state } = await createOvirtSimulator({
    dataDir: dirs.data,
    deviceRoot: dirs.devices,
    password: SIM_PASSWORD,
    snapshotCreateMs: 300,
    snapshotDeleteMs: 200,
    diskSizes: { os: 3 * 1024 * 1024 + 12345, data: 1024 * 1024 },
    ...options.sim,
  });
  await simulator.start(0);
  const env: TestWorkflowEnvironment = await startTemporal();
  const endpoints = EndpointRegistry.fromObject({
    endpoints: {
      'ovirt-sim': {
        vendor: 'ovirt',
        url: simulator.apiUrl,
        apiVersion: options.apiVersion ?? 'v4',
        auth: { type: options.auth ?? 'sso', username: 'admin@internal', password: { env: 'TEST_OVIRT_PASSWORD' } },
      },
    },
  });
  const workerEnv = { ...process.env, TEST_OVIRT_PASSWORD: SIM_PASSWORD };
  const taskQueue = `test-${Math.random().toString(36).slice(2, 8)}`;
  const copyQueue = copyTaskQueueFor(OVIRT_DEMO.proxyVmId);
  const copySettings = { repositoryRoot: dirs.repository, deviceByIdDir: join(dirs.devices, 'by-id'), chunkBytes: 256 * 1024, maxBytesPerSecond: 0, ...options.copy };

  const main = await createMainWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    endpoints,
    env: workerEnv,
    workflowBundle: await workflowBundle(),
  });
  const workers: Worker[] = [main.worker];
  if (options.inProcessCopyWorker !== false) {
    workers.push(await createCopyWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue: copyQueue, copy: copySettings }));
  }
  const running = workers.map((w) => w.run());

  return {
    env,
    client: env.client,
    simulator,
    state,
    demo: OVIRT_DEMO,
    dirs,
    taskQueue,
    copyQueue,
    copySettings,
    endpoint: 'ovirt-sim',
    /** A valid input for the demo VM; override fields per test. */
    input(overrides: Record<string, unknown> = {}) {
      return { endpoint: 'ovirt-sim', vmId: OVIRT_DEMO.vmId, proxyVmId: OVIRT_DEMO.proxyVmId, pollIntervalMs: 100, ...overrides };
    },
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
      await main.close();
      await env.teardown();
      await simulator.stop();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

export type OvirtHarness = Awaited<ReturnType<typeof startOvirtHarness>>;
