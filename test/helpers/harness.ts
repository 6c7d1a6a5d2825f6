/**
 * The generic end-to-end fixture every vendor test builds on: a real Temporal dev server, the main
 * worker with the given endpoint profiles (secrets passed as worker environment only), and any
 * extra workers; `stop()` tears it all down.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { EndpointRegistry } from '../../lib/config/endpoints';
import { createMainWorker } from '../../workers/worker-factory';
import { allHistories, findSecrets, plaintextFailures, recordScan } from './secret-scan';
import { capturedLogs, startTemporal, testDataConverter, workflowBundle } from './temporal';

export interface HarnessOptions {
  /** `{ name: profile }`, as in config/endpoints.json. */
  endpoints: Record<string, unknown>;
  /** Environment variables the profiles' secrets refer to (and other worker secrets: ALERT_WEBHOOK_URL). */
  secrets?: Record<string, string>;
  /** Further worker environment that is no secret (BACKUP_DATA_DIR, ALERT_WEBHOOK_FORMAT, …). */
  workerEnv?: Record<string, string>;
  /** Further workers (a copy worker, say), created once the server is up. */
  extraWorkers?: (env: TestWorkflowEnvironment) => Promise<Worker[]>;
  /** Runs last in stop(): stop simulators, remove temp folders. */
  onStop?: () => Promise<void>;
  /** Secrets issued while the tests ran (tokens, session ids, recovery passwords), for the scan at stop. */
  issuedSecrets?: () => string[];
  /** More `temporal server start-dev` flags (`--metrics-port N`). */
  serverArgs?: string[];
  /** The Temporal server to run on (default: a dev server of the file's own; the engine lane passes its PostgreSQL engine's). */
  temporal?: () => Promise<TestWorkflowEnvironment>;
}

export async function startHarness(options: HarnessOptions) {
  const env = await (options.temporal ?? (() => startTemporal(options.serverArgs)))();
  const taskQueue = `test-${Math.random().toString(36).slice(2, 8)}`;
  const main = await createMainWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    endpoints: EndpointRegistry.fromObject({ endpoints: options.endpoints }),
    env: { ...process.env, ...options.workerEnv, ...options.secrets },
    dataConverter: testDataConverter,
    workflowBundle: await workflowBundle(),
  });
  const workers = [main.worker, ...((await options.extraWorkers?.(env)) ?? [])];
  const running = workers.map((w) => w.run());

  return {
    env,
    client: env.client,
    taskQueue,
    /** Starts a workflow on the harness's queue with a unique id and waits for its result. */
    async execute<T = unknown>(workflowType: string, input: unknown, idPrefix = workflowType): Promise<T> {
      return (await env.client.workflow.execute(workflowType, { taskQueue, workflowId: `${idPrefix}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`, args: [input] })) as T;
    },
    async start(workflowType: string, input: unknown, idPrefix = workflowType) {
      return env.client.workflow.start(workflowType, { taskQueue, workflowId: `${idPrefix}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`, args: [input] });
    },
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
      await main.close();
      // Before the server goes: nothing secret may be in what it stored, nor in the worker logs.
      const secrets = [...Object.values(options.secrets ?? {}), ...(options.issuedSecrets?.() ?? [])];
      const histories = await allHistories(env.client);
      const logs = capturedLogs.map((entry, i) => ({ where: `log entry ${i}: ${entry.message}`, text: JSON.stringify({ message: entry.message, meta: entry.meta }) }));
      const hits = [...findSecrets([...histories, ...logs], secrets), ...plaintextFailures(histories)];
      await recordScan(taskQueue, { histories: histories.length, logEntries: logs.length, secrets: secrets.length, hits });
      await env.teardown();
      await options.onStop?.();
      if (hits.length) throw new Error(`secrets found where they must not be: ${hits.map((h) => `${h.form} in ${h.where}`).join('; ')}`);
    },
  };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;
