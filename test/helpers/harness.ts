/**
 * The generic end-to-end fixture every vendor test builds on: a real Temporal dev server, the main
 * worker with the given endpoint profiles (secrets passed as worker environment only), and any
 * extra workers; `stop()` tears it all down.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { EndpointRegistry } from '../../lib/config/endpoints';
import { createMainWorker } from '../../workers/worker-factory';
import { startTemporal, workflowBundle } from './temporal';

export interface HarnessOptions {
  /** `{ name: profile }`, as in config/endpoints.json. */
  endpoints: Record<string, unknown>;
  /** Environment variables the profiles' secrets refer to. */
  secrets?: Record<string, string>;
  /** Further workers (a copy worker, say), created once the server is up. */
  extraWorkers?: (env: TestWorkflowEnvironment) => Promise<Worker[]>;
  /** Runs last in stop(): stop simulators, remove temp folders. */
  onStop?: () => Promise<void>;
}

export async function startHarness(options: HarnessOptions) {
  const env = await startTemporal();
  const taskQueue = `test-${Math.random().toString(36).slice(2, 8)}`;
  const main = await createMainWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    endpoints: EndpointRegistry.fromObject({ endpoints: options.endpoints }),
    env: { ...process.env, ...options.secrets },
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
      await env.teardown();
      await options.onStop?.();
    },
  };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;
