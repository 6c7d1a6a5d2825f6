/**
 * The worker process the chaos runner kills: the main worker (workflows + vendor activities) and,
 * when asked, a copy worker for a proxy VM, in one process, so one SIGKILL takes both down.
 * Env: TEMPORAL_ADDRESS, CHAOS_TASK_QUEUE, CHAOS_ENDPOINTS_JSON ({ name: profile }), CHAOS_BUNDLE_PATH,
 * optional CHAOS_COPY_QUEUE + CHAOS_COPY_SETTINGS_JSON (with CHAOS_COPY_ONLY: the copy worker alone); secrets as the profiles' env references.
 */
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { CopySettings } from '../activities/copy/copy-disk';
import { EndpointRegistry } from '../lib/config/endpoints';
import { temporalConnectionFromEnv, temporalConnectionOptions } from '../lib/temporal/connection';
import { createCopyWorker, createMainWorker } from '../workers/worker-factory';

const need = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`chaos worker: ${name} is not set`);
  return value;
};

Runtime.install({ logger: new DefaultLogger('ERROR') });
const connection = await NativeConnection.connect(temporalConnectionOptions(temporalConnectionFromEnv(process.env, { address: need('TEMPORAL_ADDRESS') })));
// CHAOS_COPY_ONLY: the copy worker's own process (a proxy VM's), no main worker.
const main = process.env.CHAOS_COPY_ONLY
  ? undefined
  : await createMainWorker({
      connection,
      namespace: 'default',
      taskQueue: need('CHAOS_TASK_QUEUE'),
      endpoints: EndpointRegistry.fromObject({ endpoints: JSON.parse(need('CHAOS_ENDPOINTS_JSON')) }),
      env: process.env,
      workflowBundle: { codePath: need('CHAOS_BUNDLE_PATH') },
    });
const workers: Worker[] = main ? [main.worker] : [];
if (process.env.CHAOS_COPY_QUEUE) {
  const copy = JSON.parse(need('CHAOS_COPY_SETTINGS_JSON')) as CopySettings;
  workers.push(...(await createCopyWorker({ connection, namespace: 'default', taskQueue: process.env.CHAOS_COPY_QUEUE, copy })));
}
process.stdout.write('chaos-worker-ready\n');
process.on('SIGTERM', () => workers.forEach((w) => w.shutdown()));
await Promise.all(workers.map((w) => w.run()));
await main?.close();
await connection.close();
