/**
 * (a) throughput of N concurrent oVirt backups against the Temporal limit measured in the same run
 * (the trivial workflow with the same no-op activities on the same worker settings), and
 * (b) orchestration overhead per step, from the runs' own histories.
 */
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { EndpointRegistry } from '../lib/config/endpoints';
import { metricsActivityInterceptor } from '../lib/metrics/activity-interceptor';
import { createCopyWorker, createMainWorker } from '../workers/worker-factory';
import { benchDataConverter, startBenchOvirt, tempDir } from './lib/env';
import { profileRun, type RunProfile } from './lib/history';
import { median, p95, round } from './lib/stats';
import { rm } from 'node:fs/promises';
import { repositoryFilesTaskQueueFor } from '../lib/temporal/task-queues';
import { cpuSince, findDevServerPid, sampleCpu } from './lib/cpu';

/** The worker settings both sides share (the production defaults of workers/worker-factory.ts). */
export const WORKER_SETTINGS = { mainMaxConcurrentActivities: 100, copyMaxConcurrent: 4, copyFilesMaxConcurrent: 16 } as const;

export interface ThroughputOptions {
  n: number;
  runs: number;
  /** Backups run one at a time for the unloaded overhead figure. */
  sequential: number;
}

export interface ThroughputResult {
  n: number;
  runs: Array<{
    oursPerSecond: number;
    limitPerSecond: number;
    ratio: number;
    oursMs: number;
    limitMs: number;
    failed: number;
    /** CPU milliseconds per workflow run: this process (workers, simulator, client) and the dev server. */
    cpuPerRun: { ours: { self: number; server: number }; limit: { self: number; server: number } };
  }>;
  /** Medians over the runs of cpuPerRun: on a saturated machine, throughput follows CPU per run. */
  cpuPerRunMedian: { ours: { self: number; server: number }; limit: { self: number; server: number } };
  activitiesPerBackup: number;
  sequence: string;
  ratioMedian: number;
  oursPerSecondMedian: number;
  limitPerSecondMedian: number;
  overhead: {
    underLoad: { medianMsPerStep: number; p95MsPerStep: number; runs: number };
    unloaded: { medianMsPerStep: number; p95MsPerStep: number; runs: number };
  };
  /** History events per oVirt backup in these runs (median). */
  eventsPerBackup: number;
  /**
   * Per activity type, from the histories of the last run's backups and limit workflows: median and
   * p95 of the wait for a worker slot (scheduled → started) and of the run (started → closed).
   */
  stepsUnderLoad: { ours: StepSummary[]; limit: StepSummary[] };
}

export interface StepSummary {
  type: string;
  queue: string;
  count: number;
  scheduleToStartMedianMs: number;
  scheduleToStartP95Ms: number;
  startToCloseMedianMs: number;
}

function summarizeSteps(profiles: RunProfile[]): StepSummary[] {
  const byType = new Map<string, RunProfile['steps']>();
  for (const p of profiles) for (const s of p.steps) byType.set(`${s.queue}:${s.type}`, [...(byType.get(`${s.queue}:${s.type}`) ?? []), s]);
  return [...byType.values()].map((steps) => ({
    type: steps[0]!.type,
    queue: steps[0]!.queue,
    count: steps.length,
    scheduleToStartMedianMs: Math.round(median(steps.map((s) => s.scheduleToStartMs))),
    scheduleToStartP95Ms: Math.round(p95(steps.map((s) => s.scheduleToStartMs))),
    startToCloseMedianMs: Math.round(median(steps.map((s) => s.startToCloseMs))),
  }));
}

export async function benchThroughput(
  env: TestWorkflowEnvironment,
  bundles: { main: WorkflowBundleWithSourceMap; noop: WorkflowBundleWithSourceMap },
  options: ThroughputOptions,
  log: (line: string) => void,
): Promise<ThroughputResult> {
  const sim = await startBenchOvirt(Math.max(options.n, options.sequential));
  // The simulator writes a disk's image on first use: vendor-side work that would otherwise land on
  // the first measured run of ours (and only ours).
  for (const vmId of sim.vmIds) for (const disk of sim.state.liveDisksOf(vmId)) if (disk.storageType === 'image') await sim.state.diskContentSha256(disk.id);
  const repo = await tempDir('bench-repo-');
  const namespace = env.namespace ?? 'default';
  const suffix = Math.random().toString(36).slice(2, 8);
  const queues = { main: `bench-main-${suffix}`, copy: `bench-copy-${suffix}`, noop: `bench-noop-${suffix}`, noopCopy: `bench-noop-copy-${suffix}` };
  // The copy worker's second queue (workers/worker-factory.ts), and the limit's counterpart of it.
  const noopFiles = repositoryFilesTaskQueueFor(queues.noopCopy);

  const main = await createMainWorker({
    connection: env.nativeConnection,
    namespace,
    taskQueue: queues.main,
    endpoints: EndpointRegistry.fromObject({ endpoints: sim.endpoints }),
    env: { ...process.env, ...sim.secrets },
    workflowBundle: bundles.main,
    dataConverter: benchDataConverter,
    maxConcurrentActivityTaskExecutions: WORKER_SETTINGS.mainMaxConcurrentActivities,
  });
  const copy = await createCopyWorker({
    connection: env.nativeConnection,
    namespace,
    taskQueue: queues.copy,
    copy: { repositoryRoot: repo, deviceByIdDir: sim.deviceByIdDir, chunkBytes: 8 * 1024 * 1024, maxBytesPerSecond: 0 },
    maxConcurrentCopies: WORKER_SETTINGS.copyMaxConcurrent,
    maxConcurrentFileWrites: WORKER_SETTINGS.copyFilesMaxConcurrent,
    dataConverter: benchDataConverter,
  });
  const noopActivities = { async noop() {} };
  const limitMain = await Worker.create({
    connection: env.nativeConnection,
    namespace,
    taskQueue: queues.noop,
    workflowBundle: bundles.noop,
    dataConverter: benchDataConverter,
    activities: noopActivities,
    maxConcurrentActivityTaskExecutions: WORKER_SETTINGS.mainMaxConcurrentActivities,
    interceptors: { activity: [metricsActivityInterceptor] },
  });
  const limitCopy = await Worker.create({
    connection: env.nativeConnection,
    namespace,
    taskQueue: queues.noopCopy,
    activities: noopActivities,
    dataConverter: benchDataConverter,
    maxConcurrentActivityTaskExecutions: WORKER_SETTINGS.copyMaxConcurrent,
    maxHeartbeatThrottleInterval: '2 seconds',
    defaultHeartbeatThrottleInterval: '2 seconds',
    interceptors: { activity: [metricsActivityInterceptor] },
  });
  const limitFiles = await Worker.create({
    connection: env.nativeConnection,
    namespace,
    taskQueue: noopFiles,
    activities: noopActivities,
    dataConverter: benchDataConverter,
    maxConcurrentActivityTaskExecutions: WORKER_SETTINGS.copyFilesMaxConcurrent,
    interceptors: { activity: [metricsActivityInterceptor] },
  });
  const workers = [main.worker, ...copy, limitMain, limitCopy, limitFiles];
  const running = workers.map((w) => w.run());

  const input = (vmId: string) => ({ endpoint: 'ovirt-bench', vmId, proxyVmId: sim.proxyVmId, copyTaskQueue: queues.copy, pollIntervalMs: 50, description: 'bench' });
  const id = (kind: string, run: number, i: number) => `bench-${kind}-${suffix}-${run}-${i}`;

  try {
    // One backup first: warms the worker and tells how many activities a backup runs, on which queue.
    const warm = await env.client.workflow.start('ovirtSnapshotBackup', { taskQueue: queues.main, workflowId: id('warm', 0, 0), args: [input(sim.vmIds[0]!)] });
    await warm.result();
    const shape = await profileRun(warm);
    const warmLimit = await env.client.workflow.start('benchNoopWorkflow', {
      taskQueue: queues.noop,
      workflowId: id('warm-limit', 0, 0),
      args: [{ sequence: shape.sequence, copyQueue: queues.noopCopy, filesQueue: noopFiles }],
    });
    await warmLimit.result();
    log(`  a backup runs ${shape.activities} activities (${shape.sequence}), ${shape.events} history events`);

    const serverPid = findDevServerPid();
    if (serverPid === undefined) log('  (the dev server process was not found: its CPU is reported as NaN)');
    const runs: ThroughputResult['runs'] = [];
    const loaded: RunProfile[] = [];
    const loadedLimit: RunProfile[] = [];
    for (let run = 1; run <= options.runs; run++) {
      // Alternate which side goes first so that neither always gets the warmer machine.
      const order = run % 2 === 1 ? (['ours', 'limit'] as const) : (['limit', 'ours'] as const);
      const measured: Record<string, { ms: number; failed: number; cpu: { self: number; server: number }; handles: Awaited<ReturnType<typeof env.client.workflow.start>>[] }> = {};
      for (const side of order) {
        // bench/perf-side.sh attaches a profiler between these two lines.
        log(`  run ${run} ${side}: start`);
        const cpu0 = sampleCpu(serverPid);
        const t0 = performance.now();
        const handles = await Promise.all(
          Array.from({ length: options.n }, (_, i) =>
            side === 'ours'
              ? env.client.workflow.start('ovirtSnapshotBackup', { taskQueue: queues.main, workflowId: id('ours', run, i), args: [input(sim.vmIds[i]!)] })
              : env.client.workflow.start('benchNoopWorkflow', {
                  taskQueue: queues.noop,
                  workflowId: id('limit', run, i),
                  args: [{ sequence: shape.sequence, copyQueue: queues.noopCopy, filesQueue: noopFiles }],
                }),
          ),
        );
        const results = await Promise.allSettled(handles.map((h) => h.result()));
        const ms = performance.now() - t0;
        const cpu = cpuSince(cpu0, serverPid);
        log(`  run ${run} ${side}: end`);
        measured[side] = {
          ms,
          failed: results.filter((r) => r.status === 'rejected').length,
          cpu: { self: Math.round(cpu.selfMs / options.n), server: Math.round(cpu.serverMs / options.n) },
          handles,
        };
        const firstFailure = results.find((r) => r.status === 'rejected');
        if (firstFailure) log(`  ${side}: ${measured[side].failed} of ${options.n} failed, e.g. ${(firstFailure as PromiseRejectedResult).reason?.cause?.message ?? firstFailure.reason}`);
      }
      const ours = measured.ours!;
      const limit = measured.limit!;
      const oursPerSecond = (options.n - ours.failed) / (ours.ms / 1000);
      const limitPerSecond = options.n / (limit.ms / 1000);
      const cpuPerRun = { ours: ours.cpu, limit: limit.cpu };
      runs.push({
        oursPerSecond: round(oursPerSecond),
        limitPerSecond: round(limitPerSecond),
        ratio: round(oursPerSecond / limitPerSecond),
        oursMs: Math.round(ours.ms),
        limitMs: Math.round(limit.ms),
        failed: ours.failed,
        cpuPerRun,
      });
      log(
        `  run ${run}: ours ${oursPerSecond.toFixed(2)}/s, limit ${limitPerSecond.toFixed(2)}/s, ratio ${(oursPerSecond / limitPerSecond).toFixed(3)}; ` +
          `CPU ms per run (this process + server): ours ${ours.cpu.self} + ${ours.cpu.server}, limit ${limit.cpu.self} + ${limit.cpu.server}`,
      );
      if (run === options.runs) {
        loaded.push(...(await Promise.all(ours.handles.map((h) => profileRun(h)))));
        loadedLimit.push(...(await Promise.all(limit.handles.map((h) => profileRun(h)))));
      }
    }

    const unloaded: RunProfile[] = [];
    for (let i = 0; i < options.sequential; i++) {
      const h = await env.client.workflow.start('ovirtSnapshotBackup', { taskQueue: queues.main, workflowId: id('seq', 0, i), args: [input(sim.vmIds[i]!)] });
      await h.result();
      unloaded.push(await profileRun(h));
    }
    const perStep = (profiles: RunProfile[]) => profiles.map((p) => (p.runMs - p.activityMs) / Math.max(1, p.activities));
    const summarize = (profiles: RunProfile[]) => ({ medianMsPerStep: round(median(perStep(profiles)), 1), p95MsPerStep: round(p95(perStep(profiles)), 1), runs: profiles.length });

    const stepsUnderLoad = { ours: summarizeSteps(loaded), limit: summarizeSteps(loadedLimit) };
    for (const [side, steps] of Object.entries(stepsUnderLoad)) {
      log(
        `  ${side}, last run, per activity (queue:type wait for a slot median/p95, run median): ${steps.map((x) => `${x.queue}:${x.type} ${x.scheduleToStartMedianMs}/${x.scheduleToStartP95Ms}/${x.startToCloseMedianMs} ms`).join('; ')}`,
      );
    }
    return {
      n: options.n,
      runs,
      activitiesPerBackup: shape.activities,
      sequence: shape.sequence,
      ratioMedian: round(median(runs.map((r) => r.ratio))),
      oursPerSecondMedian: round(median(runs.map((r) => r.oursPerSecond))),
      limitPerSecondMedian: round(median(runs.map((r) => r.limitPerSecond))),
      cpuPerRunMedian: {
        ours: { self: median(runs.map((r) => r.cpuPerRun.ours.self)), server: median(runs.map((r) => r.cpuPerRun.ours.server)) },
        limit: { self: median(runs.map((r) => r.cpuPerRun.limit.self)), server: median(runs.map((r) => r.cpuPerRun.limit.server)) },
      },
      overhead: { underLoad: summarize(loaded), unloaded: summarize(unloaded) },
      eventsPerBackup: median(loaded.map((p) => p.events)),
      stepsUnderLoad,
    };
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(running);
    await main.close();
    await sim.stop();
    await rm(repo, { recursive: true, force: true });
  }
}
