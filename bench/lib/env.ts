/**
 * The benchmark's own Temporal dev server (the CLI the project resolves, like the tests), the
 * workflow bundles, and a zero-latency oVirt simulator with N VMs.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { dataConverterFromEnv } from '../../lib/codec/keys';
import { resolveTemporalCli } from '../../lib/temporal/cli-path';
import { allSearchAttributes } from '../../contracts/search-attributes';
import { createOvirtSimulator, OVIRT_DEMO, type OvirtSimulatorOptions } from '../../simulators/ovirt';
import { bundlerLogger, bundleWorkflows, workflowsPath } from '../../workers/workflow-bundle';

export const BENCH_OVIRT_PASSWORD = 'bench-ovirt-Pa55word';
export const noopWorkflowsPath = fileURLToPath(new URL('../workflows/noop.ts', import.meta.url));

/**
 * Payloads are encrypted as in production (lib/codec): a key of the benchmark's own unless
 * BACKUP_CODEC_KEYS is set; the child worker of (f) inherits it through the environment.
 */
if (!process.env.BACKUP_CODEC_KEYS) {
  process.env.BACKUP_CODEC_KEYS = JSON.stringify({ activeKeyId: 'bench', keys: { bench: randomBytes(32).toString('base64') } });
}
export const benchDataConverter = dataConverterFromEnv();

export async function startDevServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    client: { dataConverter: benchDataConverter },
    server: {
      executable: { type: 'existing-path', path: resolveTemporalCli() },
      searchAttributes: allSearchAttributes,
      // The dev server turns the search-attribute cache off unless told (so that an attribute created
      // a moment ago is usable at once); every upsert then reads the cluster metadata and the
      // namespace from the database, server CPU no production server pays. Ours
      // are all registered at start, so the bench runs with the production setting.
      extraArgs: ['--log-level', 'error', '--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=false'],
    },
  });
}

export async function bundle(path: string): Promise<WorkflowBundleWithSourceMap> {
  return path === workflowsPath ? bundleWorkflows() : bundleWorkflowCode({ workflowsPath: path, logger: bundlerLogger });
}

/** The main bundle from WORKFLOW_BUNDLE_PATH when `npm test` built one already, else built here. */
export async function bundles(tmp: string) {
  const prebuilt = process.env.WORKFLOW_BUNDLE_PATH;
  const [main, noopBundle] = await Promise.all([
    prebuilt ? readFile(prebuilt, 'utf8').then((code) => ({ code, sourceMap: '' }) as WorkflowBundleWithSourceMap) : bundle(workflowsPath),
    bundle(noopWorkflowsPath),
  ]);
  const mainPath = join(tmp, 'workflow-bundle.js');
  await writeFile(mainPath, main.code);
  return { main, noop: noopBundle, mainPath };
}

export interface BenchOvirt {
  apiUrl: string;
  simulator: Awaited<ReturnType<typeof createOvirtSimulator>>['simulator'];
  state: Awaited<ReturnType<typeof createOvirtSimulator>>['state'];
  deviceByIdDir: string;
  /** The CA of the simulator's imageio (transfer URLs of incremental backups). */
  imageioCaFile: string;
  /** The endpoint profile (secret by env reference) and the env that holds it. */
  endpoints: Record<string, unknown>;
  secrets: Record<string, string>;
  vmIds: string[];
  proxyVmId: string;
  stop(): Promise<void>;
}

/** vm-001.. (one 1 MiB disk each, as the simulator makes them) with zero vendor latency unless told. */
export async function startBenchOvirt(vms: number, options: Partial<OvirtSimulatorOptions> = {}): Promise<BenchOvirt> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-ovirt-'));
  const deviceRoot = join(dir, 'devices');
  const { simulator, state, imageioCaFile } = await createOvirtSimulator({
    dataDir: join(dir, 'data'),
    deviceRoot,
    password: BENCH_OVIRT_PASSWORD,
    snapshotCreateMs: 0,
    snapshotDeleteMs: 0,
    diskSizes: { os: 64 * 1024, data: 64 * 1024 },
    extraVms: vms,
    ...options,
  });
  await simulator.start(0);
  return {
    apiUrl: simulator.apiUrl,
    simulator,
    state,
    deviceByIdDir: join(deviceRoot, 'by-id'),
    imageioCaFile,
    endpoints: {
      'ovirt-bench': {
        vendor: 'ovirt',
        url: simulator.apiUrl,
        apiVersion: 'v4',
        auth: { type: 'sso', username: 'admin@internal', password: { env: 'BENCH_OVIRT_PASSWORD' } },
      },
    },
    secrets: { BENCH_OVIRT_PASSWORD },
    vmIds: extraVmIds(vms),
    proxyVmId: OVIRT_DEMO.proxyVmId,
    async stop() {
      await simulator.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The ids the simulator gives its extra VMs vm-001.. (see simulators/ovirt/state.ts). */
export function extraVmIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const hex = (i + 1).toString(16);
    return `c${hex.padStart(7, '0')}-0000-4c8e-9a10-${hex.padStart(12, '0')}`;
  });
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}
