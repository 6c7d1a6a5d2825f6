/**
 * (c) History events per backup, for every workflow registered in workflows/index.ts that has an
 * example in examples/ whose endpoint a simulator of simulators/serve.ts serves; and events per
 * hour of a long vendor job (the oVirt snapshot-ready wait, the one long-job poller measured here).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { EndpointRegistry } from '../lib/config/endpoints';
import { copyTaskQueueFor } from '../lib/temporal/task-queues';
import { OVIRT_DEMO } from '../simulators/ovirt';
import { startSimulators } from '../simulators/serve';
import { createCopyWorker, createMainWorker } from '../workers/worker-factory';
import { benchDataConverter, startBenchOvirt, tempDir } from './lib/env';
import { profileRun } from './lib/history';
import { countActions } from './lib/actions';
import { benchLongJobEvents, type LongJobEventsRow } from './long-job-events';
import { round } from './lib/stats';
import { rm } from 'node:fs/promises';
import type { Worker } from '@temporalio/worker';

const root = resolve(new URL('..', import.meta.url).pathname);

/** Workflow names registered in workflows/index.ts (importing it runs no workflow code: each loads on first call). */
export async function registeredWorkflows(): Promise<string[]> {
  return Object.keys(await import('../workflows/index'));
}

export interface HistoryEventsResult {
  /** `actions`: billable actions on Temporal Cloud as the history shows them (bench/lib/actions.ts; heartbeats and queries not included). */
  perWorkflow: Array<{ workflowType: string; status: string; events?: number; activities?: number; actions?: number; note?: string }>;
  /** Every workflow with a vendor job of a minute and of a day (Azure's jobs: a week), time-skipped. */
  longJobs: LongJobEventsRow[];
  longJob: { workflowType: string; shortJobSeconds: number; longJobSeconds: number; eventsShort: number; eventsLong: number; eventsPerHourOfJob: number; pollIntervalMs: number };
}

async function runWorkers(workers: Worker[]) {
  const running = workers.map((w) => w.run());
  return async () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(running);
  };
}

export async function benchHistoryEvents(
  env: TestWorkflowEnvironment,
  bundles: { main: WorkflowBundleWithSourceMap },
  options: { quick: boolean; tmp: string },
  log: (line: string) => void,
): Promise<HistoryEventsResult> {
  const namespace = env.namespace ?? 'default';
  const suffix = Math.random().toString(36).slice(2, 8);
  const perWorkflow: HistoryEventsResult['perWorkflow'] = [];

  // Every example against the demo simulators, as `npm start` runs them.
  const dataDir = await tempDir('bench-sims-');
  const sims = await startSimulators({ dataDir, freePorts: true });
  const repo = await tempDir('bench-repo-');
  const queue = `bench-examples-${suffix}`;
  const main = await createMainWorker({
    connection: env.nativeConnection,
    namespace,
    taskQueue: queue,
    endpoints: EndpointRegistry.fromObject({ endpoints: sims.endpoints }),
    env: { ...process.env, ...sims.secrets },
    workflowBundle: bundles.main,
    dataConverter: benchDataConverter,
  });
  const copyWorkers = sims.extra.ovirtDeviceByIdDir
    ? await createCopyWorker({
        connection: env.nativeConnection,
        namespace,
        taskQueue: copyTaskQueueFor(OVIRT_DEMO.proxyVmId),
        copy: { repositoryRoot: repo, deviceByIdDir: sims.extra.ovirtDeviceByIdDir, chunkBytes: 8 * 1024 * 1024, maxBytesPerSecond: 0 },
        dataConverter: benchDataConverter,
      })
    : [];
  const stopWorkers = await runWorkers([main.worker, ...copyWorkers]);
  try {
    // Examples of different endpoints at once; of the same endpoint one after the other (they may
    // back up the same demo VM, which takes one snapshot at a time).
    const groups = new Map<string, string[]>();
    for (const workflowType of await registeredWorkflows()) {
      // --quick only checks that the harness works: one example is enough.
      if (options.quick && workflowType !== 'ovirtSnapshotBackup') {
        perWorkflow.push({ workflowType, status: 'skipped', note: '--quick measures ovirtSnapshotBackup only' });
        continue;
      }
      const key = exampleEndpoint(workflowType) ?? workflowType;
      groups.set(key, [...(groups.get(key) ?? []), workflowType]);
    }
    const measuredGroups = await Promise.all(
      [...groups.values()].map(async (types) => {
        const out: HistoryEventsResult['perWorkflow'] = [];
        for (const t of types) out.push(await measureExample(env, t, queue, suffix, sims.endpoints));
        return out;
      }),
    );
    const measured = measuredGroups.flat();
    for (const m of measured) {
      perWorkflow.push(m);
      log(`  ${m.workflowType}: ${m.status}${m.events !== undefined ? `, ${m.events} events` : ''}${m.actions !== undefined ? `, ${m.actions} billable actions` : ''}${m.note ? ` (${m.note})` : ''}`);
    }
  } finally {
    await stopWorkers();
    await main.close();
    await sims.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(repo, { recursive: true, force: true });
  }

  // The long job: the same backup with a snapshot that is ready at once, and one that takes a while.
  const pollIntervalMs = 100;
  const shortJobSeconds = 0;
  const longJobSeconds = options.quick ? 1 : 20;
  const events = await Promise.all([shortJobSeconds, longJobSeconds].map((seconds) => longJobEvents(env, bundles.main, seconds, pollIntervalMs, suffix)));
  const [eventsShort, eventsLong] = events as [number, number];
  const eventsPerHourOfJob = round(((eventsLong - eventsShort) / (longJobSeconds - shortJobSeconds)) * 3600, 1);
  log(`  long job: ${eventsShort} events with a ready-at-once snapshot, ${eventsLong} with a ${longJobSeconds} s one → ${eventsPerHourOfJob} events per hour of job`);
  log('  every workflow with a day-long vendor job (time-skipping test server, stubbed activities):');
  const longJobs = await benchLongJobEvents(bundles.main, benchDataConverter, log, { quick: options.quick });
  return { perWorkflow, longJobs, longJob: { workflowType: 'ovirtSnapshotBackup', shortJobSeconds, longJobSeconds, eventsShort, eventsLong, eventsPerHourOfJob, pollIntervalMs } };
}

function exampleEndpoint(workflowType: string): string | undefined {
  const path = join(root, 'examples', `${workflowType}.json`);
  if (!existsSync(path)) return undefined;
  try {
    const endpoint = JSON.parse(readFileSync(path, 'utf8')).endpoint;
    return typeof endpoint === 'string' ? endpoint : undefined;
  } catch {
    return undefined;
  }
}

async function measureExample(
  env: TestWorkflowEnvironment,
  workflowType: string,
  queue: string,
  suffix: string,
  endpoints: Record<string, unknown>,
): Promise<HistoryEventsResult['perWorkflow'][number]> {
  const examplePath = join(root, 'examples', `${workflowType}.json`);
  if (!existsSync(examplePath)) return { workflowType, status: 'skipped', note: 'no example in examples/' };
  const example = JSON.parse(readFileSync(examplePath, 'utf8'));
  if (typeof example.endpoint === 'string' && !(example.endpoint in endpoints)) {
    return { workflowType, status: 'skipped', note: `endpoint ${example.endpoint} is not served by simulators/serve.ts` };
  }
  const handle = await env.client.workflow.start(workflowType, { taskQueue: queue, workflowId: `bench-events-${workflowType}-${suffix}`, args: [example] });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no result within 90 s')), 90_000)));
  try {
    await Promise.race([handle.result(), timeout]);
    const p = await profileRun(handle);
    return { workflowType, status: 'completed', events: p.events, activities: p.activities, actions: countActions(await handle.fetchHistory()).total };
  } catch (err) {
    await handle.terminate('bench: no result').catch(() => undefined);
    const p = await profileRun(handle).catch(() => undefined);
    return { workflowType, status: 'failed', events: p?.events, note: (err as any)?.cause?.message ?? (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** One oVirt backup whose snapshot takes `seconds` to be ready: its history event count. */
async function longJobEvents(env: TestWorkflowEnvironment, bundle: WorkflowBundleWithSourceMap, seconds: number, pollIntervalMs: number, suffix: string): Promise<number> {
  const namespace = env.namespace ?? 'default';
  const sim = await startBenchOvirt(1, { snapshotCreateMs: seconds * 1000 });
  const q = `bench-long-${seconds}-${suffix}`;
  const dir = await tempDir('bench-repo-');
  const m = await createMainWorker({
    connection: env.nativeConnection,
    namespace,
    taskQueue: q,
    endpoints: EndpointRegistry.fromObject({ endpoints: sim.endpoints }),
    env: { ...process.env, ...sim.secrets },
    workflowBundle: bundle,
    dataConverter: benchDataConverter,
  });
  const c = await createCopyWorker({
    connection: env.nativeConnection,
    namespace,
    taskQueue: `${q}-copy`,
    copy: { repositoryRoot: dir, deviceByIdDir: sim.deviceByIdDir, chunkBytes: 8 * 1024 * 1024, maxBytesPerSecond: 0 },
    dataConverter: benchDataConverter,
  });
  const stop = await runWorkers([m.worker, ...c]);
  try {
    const h = await env.client.workflow.start('ovirtSnapshotBackup', {
      taskQueue: q,
      workflowId: `bench-long-${seconds}-${suffix}`,
      args: [{ endpoint: 'ovirt-bench', vmId: sim.vmIds[0], proxyVmId: sim.proxyVmId, copyTaskQueue: `${q}-copy`, pollIntervalMs }],
    });
    await h.result();
    return (await profileRun(h)).events;
  } finally {
    await stop();
    await m.close();
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
