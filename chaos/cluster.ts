/**
 * What the chaos runner can break: a Temporal dev server it starts itself on a SQLite file (so it
 * can be restarted on the same file and port), and the worker as a child process (so it can be
 * SIGKILLed and started again).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { resolveTemporalCli } from '../lib/temporal/cli-path';
import { TEMPORAL_CREDENTIAL_ENV, temporalConnectionFromEnv, temporalConnectionOptions } from '../lib/temporal/connection';
import { searchAttributeArgs } from '../lib/temporal/search-attributes';
import { bundleWorkflows } from '../workers/workflow-bundle';
import { freePort } from '../test/helpers/ports';

const workerChildPath = fileURLToPath(new URL('./worker-child.ts', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface WorkerSpec {
  endpoints: Record<string, unknown>;
  secrets: Record<string, string>;
  /** `ownProcess`: the copy worker runs in a process of its own (killed alone or with the main one), as on a proxy VM. */
  copy?: { taskQueue: string; settings: unknown; ownProcess?: boolean };
}

/** One of the worker processes; absent: every one. */
export type WorkerRole = 'main' | 'copy';

async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

export class ChaosCluster {
  private server?: ChildProcess;
  private worker?: ChildProcess;
  /** The copy worker's own process (WorkerSpec.copy.ownProcess). */
  private copyWorker?: ChildProcess;
  private connection?: Connection;
  client!: Client;
  address = '';
  readonly taskQueue = `chaos-${Math.random().toString(36).slice(2, 8)}`;
  workerStarts = 0;

  private constructor(
    private readonly dir: string,
    private readonly port: number,
    private readonly bundlePath: string,
  ) {}

  /** Bundles the workflows once and starts a dev server on `dir/temporal.db`. */
  static async start(dir: string): Promise<ChaosCluster> {
    await mkdir(dir, { recursive: true });
    // The test run's global setup bundles once for the whole suite; alone, the runner bundles for itself.
    let bundlePath = process.env.WORKFLOW_BUNDLE_PATH;
    if (!bundlePath) {
      const bundle = await bundleWorkflows();
      bundlePath = join(dir, 'workflow-bundle.js');
      await writeFile(bundlePath, bundle.code);
    }
    const cluster = new ChaosCluster(dir, await freePort(), bundlePath);
    await cluster.startServer();
    return cluster;
  }

  private async startServer(): Promise<void> {
    this.address = `127.0.0.1:${this.port}`;
    const args = [
      'server',
      'start-dev',
      '--db-filename',
      join(this.dir, 'temporal.db'),
      '--port',
      String(this.port),
      '--ip',
      '127.0.0.1',
      '--headless',
      '--log-level',
      'error',
      '--namespace',
      'default',
      ...searchAttributeArgs(),
    ];
    this.server = spawn(resolveTemporalCli(), args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        // After a restart the same connection is kept: its channel reconnects to the same port by
        // itself, while closing it under the runner's in-flight calls once crashed the runner.
        const connection = this.connection ?? (await Connection.connect({ ...temporalConnectionOptions(temporalConnectionFromEnv({}, { address: this.address })), connectTimeout: 2_000 }));
        await connection.workflowService.getSystemInfo({});
        this.connection = connection;
        this.client ??= new Client({ connection, namespace: 'default' });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`Temporal dev server on ${this.address} did not come up: ${(err as Error).message}`);
        await sleep(300);
      }
    }
  }

  /** Stops the dev server (SIGTERM) and starts it again on the same SQLite file and port. */
  async restartServer(): Promise<void> {
    await stopChild(this.server, 'SIGTERM');
    await this.startServer();
  }

  private spec?: WorkerSpec;

  /** Starts the worker process(es) for these profiles (replacing running ones; only `role`'s, if given) and waits until they poll. */
  async startWorker(spec: WorkerSpec = this.spec!, role?: WorkerRole): Promise<void> {
    this.spec = spec;
    if (!spec.copy?.ownProcess) {
      await stopChild(this.worker, 'SIGTERM');
      this.worker = await this.spawnWorker(spec);
      return;
    }
    if (role !== 'copy') {
      await stopChild(this.worker, 'SIGTERM');
      this.worker = await this.spawnWorker(spec, 'main');
    }
    if (role !== 'main') {
      await stopChild(this.copyWorker, 'SIGTERM');
      this.copyWorker = await this.spawnWorker(spec, 'copy');
    }
  }

  private async spawnWorker(spec: WorkerSpec, role?: WorkerRole): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', workerChildPath], {
      env: {
        ...process.env,
        ...spec.secrets,
        // The harness's own plaintext dev server, whatever credentials the shell carries.
        ...Object.fromEntries(TEMPORAL_CREDENTIAL_ENV.map((name) => [name, ''])),
        TEMPORAL_ADDRESS: this.address,
        // The worker's host state (Altaro's session ledger) survives its SIGKILL, as on a real host.
        BACKUP_DATA_DIR: join(this.dir, 'worker-data'),
        CHAOS_TASK_QUEUE: this.taskQueue,
        CHAOS_ENDPOINTS_JSON: JSON.stringify(spec.endpoints),
        CHAOS_BUNDLE_PATH: this.bundlePath,
        ...(spec.copy && role !== 'main' ? { CHAOS_COPY_QUEUE: spec.copy.taskQueue, CHAOS_COPY_SETTINGS_JSON: JSON.stringify(spec.copy.settings) } : {}),
        ...(role === 'copy' ? { CHAOS_COPY_ONLY: '1' } : {}),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.workerStarts++;
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('chaos-worker-ready')) resolve();
      });
      child.once('exit', (code, signal) => reject(new Error(`chaos worker exited before it was ready (${code ?? signal})`)));
    });
    return child;
  }

  /** SIGKILL: no shutdown, no last heartbeat, tasks in flight are lost until their timeouts. */
  async killWorker(role?: WorkerRole): Promise<void> {
    if (role !== 'copy') await stopChild(this.worker, 'SIGKILL');
    if (role !== 'main') await stopChild(this.copyWorker, 'SIGKILL');
  }

  async stop(): Promise<void> {
    await stopChild(this.worker, 'SIGTERM');
    await stopChild(this.copyWorker, 'SIGTERM');
    await this.connection?.close().catch(() => undefined);
    await stopChild(this.server, 'SIGTERM');
  }
}
