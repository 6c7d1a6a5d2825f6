/**
 * (i) An incremental chain: `ovirtIncrementalBackup` of the demo VM's OS disk (1 GiB) against the
 * simulator's backup API and imageio on the bench's dev server: a few fulls (`full: true`, timed;
 * the last is the chain's root), then incrementals with 1 % of the disk rewritten before each (in
 * 256 KiB regions aligned to the 64 KiB bitmap blocks, at seeded random places), ten backups in
 * the chain. Per incremental: the bytes imageio served / the bytes rewritten, and its time / the
 * fulls' median time. Every point (a sample in --quick) is composed from the chain and its SHA-256
 * compared with the disk's when the backup started.
 *
 * The simulator freezes a backup's disk by copying its image at the backup's start (a real engine
 * adds a scratch overlay instead): that copy is timed and reported, and the ratio is also given
 * without it (the orchestration and the bytes moved).
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { copySettingsFromEnv } from '../activities/copy/activities';
import type { CopySettings } from '../activities/copy/copy-disk';
import { composeChainImageHere } from '../test/helpers/compose-chain';
import type { OvirtIncrementalManifest } from '../contracts/ovirt/incremental-results';
import { EndpointRegistry } from '../lib/config/endpoints';
import { BITMAP_GRANULARITY, OVIRT_DEMO } from '../simulators/ovirt';
import { createCopyWorker, createMainWorker } from '../workers/worker-factory';
import { benchDataConverter, startBenchOvirt } from './lib/env';
import { median, round } from './lib/stats';

const MiB = 1024 * 1024;
/** A rewritten region: four bitmap blocks. */
const REGION = 4 * BITMAP_GRANULARITY;

export interface IncrementalBenchOptions {
  diskMiB: number;
  /** Backups in the chain: its full and `points - 1` incrementals. */
  points: number;
  /** Fulls timed before the chain (the last is its root). */
  fulls: number;
  rewritePercent: number;
  /** Compose every point (false: the first, one in the middle and the last). */
  restoreAll: boolean;
  tmp: string;
}

export interface IncrementalBenchResult {
  diskMiB: number;
  points: number;
  rewritePercent: number;
  rewrittenBytes: number;
  fulls: Array<{ ms: number; freezeMs: number; bytesRead: number }>;
  incrementals: Array<{ ms: number; freezeMs: number; bytesRead: number; readRatio: number; timeRatio: number; timeRatioWithoutFreeze: number }>;
  fullMsMedian: number;
  incrementalMsMedian: number;
  /** Bytes read from imageio / bytes rewritten: the worst incremental and the median. */
  readRatioMax: number;
  readRatioMedian: number;
  /** An incremental's time / the fulls' median time (median over the incrementals), with and without the simulator's freeze copy. */
  timeRatioMedian: number;
  timeRatioWithoutFreezeMedian: number;
  restores: Array<{ point: number; mode: 'full' | 'incremental'; layers: number; matches: boolean }>;
}

/** Seeded offsets of `count` distinct regions (a small LCG: the same places every bench run). */
function regions(count: number, diskBytes: number, seed: number): number[] {
  const slots = Math.floor(diskBytes / REGION);
  const chosen = new Set<number>();
  let x = seed;
  while (chosen.size < Math.min(count, slots)) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    chosen.add(x % slots);
  }
  return [...chosen].map((slot) => slot * REGION);
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function benchIncremental(
  env: TestWorkflowEnvironment,
  bundle: WorkflowBundleWithSourceMap,
  options: IncrementalBenchOptions,
  log: (line: string) => void,
): Promise<IncrementalBenchResult> {
  const diskBytes = options.diskMiB * MiB;
  const sim = await startBenchOvirt(0, {
    diskSizes: { os: diskBytes, data: MiB },
    backupTimings: { backupStartMs: 0, backupFinalizeMs: 0, transferStartMs: 0, transferFinalizeMs: 0 },
  });
  const { state } = sim;
  const os = OVIRT_DEMO.osDiskId;
  // The simulator's point-in-time copy at each backup's start, timed apart.
  let freezeMs = 0;
  const createBackup = state.backups.createBackup.bind(state.backups);
  state.backups.createBackup = async (...args: Parameters<typeof createBackup>) => {
    const t0 = performance.now();
    try {
      return await createBackup(...args);
    } finally {
      freezeMs += performance.now() - t0;
    }
  };

  const namespace = env.namespace ?? 'default';
  const suffix = Math.random().toString(36).slice(2, 8);
  const queues = { main: `bench-incremental-${suffix}`, copy: `bench-incremental-copy-${suffix}` };
  const copySettings: CopySettings = {
    ...copySettingsFromEnv({}),
    repositoryRoot: join(options.tmp, 'incremental-repository'),
    deviceByIdDir: sim.deviceByIdDir,
    deviceDir: dirname(sim.deviceByIdDir),
    imageioCaFile: sim.imageioCaFile,
  };
  const main = await createMainWorker({
    connection: env.nativeConnection,
    namespace,
    taskQueue: queues.main,
    endpoints: EndpointRegistry.fromObject({ endpoints: sim.endpoints }),
    env: { ...process.env, ...sim.secrets },
    workflowBundle: bundle,
    dataConverter: benchDataConverter,
  });
  const copy = await createCopyWorker({ connection: env.nativeConnection, namespace, taskQueue: queues.copy, copy: copySettings, dataConverter: benchDataConverter });
  const workers = [main.worker, ...copy];
  const running = workers.map((w) => w.run());

  let n = 0;
  const backup = async (full: boolean) => {
    const served = state.backups.bytesServed;
    freezeMs = 0;
    const t0 = performance.now();
    const m = (await env.client.workflow.execute('ovirtIncrementalBackup', {
      taskQueue: queues.main,
      workflowId: `bench-incremental-${++n}-${suffix}`,
      args: [{ endpoint: 'ovirt-bench', vmId: OVIRT_DEMO.vmId, copyTaskQueue: queues.copy, pollIntervalMs: 50, full, description: 'bench' }],
    })) as OvirtIncrementalManifest;
    return { m, ms: performance.now() - t0, freezeMs, bytesRead: state.backups.bytesServed - served };
  };

  const rewriteRegions = Math.round((diskBytes * options.rewritePercent) / 100 / REGION);
  const rewrittenBytes = rewriteRegions * REGION;
  const fulls: IncrementalBenchResult['fulls'] = [];
  const incrementals: Array<Omit<IncrementalBenchResult['incrementals'][number], 'timeRatio' | 'timeRatioWithoutFreeze'>> = [];
  const points: Array<{ dir: string; sha256: string; mode: 'full' | 'incremental' }> = [];
  try {
    for (let i = 0; i < options.fulls; i++) {
      const sha256 = await state.diskContentSha256(os);
      const r = await backup(true);
      if (r.m.backup.mode !== 'full') throw new Error(`full ${i + 1} was a ${r.m.backup.mode}`);
      fulls.push({ ms: Math.round(r.ms), freezeMs: Math.round(r.freezeMs), bytesRead: r.bytesRead });
      log(`  full ${i + 1}: ${Math.round(r.ms)} ms (the simulator's freeze ${Math.round(r.freezeMs)} ms), ${(r.bytesRead / MiB).toFixed(1)} MiB read`);
      if (i === options.fulls - 1) points.push({ dir: r.m.repository.dir, sha256, mode: 'full' });
    }
    for (let p = 1; p < options.points; p++) {
      for (const offset of regions(rewriteRegions, diskBytes, p)) await state.writeDiskRange(os, offset, REGION);
      const sha256 = await state.diskContentSha256(os);
      const r = await backup(false);
      if (r.m.backup.mode !== 'incremental') throw new Error(`point ${p} was a ${r.m.backup.mode}: ${r.m.fallbacks.map((f) => f.reason).join('; ')}`);
      if (r.m.disks[0]!.imageSha256 !== sha256) throw new Error(`point ${p} recorded ${r.m.disks[0]!.imageSha256}, the disk held ${sha256}`);
      incrementals.push({ ms: Math.round(r.ms), freezeMs: Math.round(r.freezeMs), bytesRead: r.bytesRead, readRatio: round(r.bytesRead / rewrittenBytes) });
      points.push({ dir: r.m.repository.dir, sha256, mode: 'incremental' });
      log(`  incremental ${p}: ${(r.bytesRead / MiB).toFixed(2)} MiB read for ${(rewrittenBytes / MiB).toFixed(2)} MiB rewritten (×${(r.bytesRead / rewrittenBytes).toFixed(3)})`);
    }
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(running);
    await main.close();
    await sim.stop();
  }

  // Every point (or a sample) composed from the chain, compared with the disk when its backup started.
  const sample = options.restoreAll ? points.map((_, i) => i) : [...new Set([0, Math.floor(points.length / 2), points.length - 1])];
  const restores: IncrementalBenchResult['restores'] = [];
  for (const i of sample) {
    const targetPath = join(options.tmp, `incremental-restore-${i}.img`);
    const composed = await composeChainImageHere(copySettings, { dir: points[i]!.dir, diskId: os, targetPath });
    const written = await sha256File(targetPath);
    await rm(targetPath, { force: true });
    restores.push({ point: i, mode: points[i]!.mode, layers: composed.layers, matches: written === points[i]!.sha256 && composed.sha256 === written });
  }
  await rm(copySettings.repositoryRoot, { recursive: true, force: true });
  log(`  restores: ${restores.filter((r) => r.matches).length} of ${restores.length} points byte for byte`);

  const fullMsMedian = median(fulls.map((f) => f.ms));
  const fullWithoutFreeze = median(fulls.map((f) => f.ms - f.freezeMs));
  const incs = incrementals.map((x) => ({ ...x, timeRatio: round(x.ms / fullMsMedian), timeRatioWithoutFreeze: round((x.ms - x.freezeMs) / fullWithoutFreeze) }));
  return {
    diskMiB: options.diskMiB,
    points: points.length,
    rewritePercent: options.rewritePercent,
    rewrittenBytes,
    fulls,
    incrementals: incs,
    fullMsMedian: Math.round(fullMsMedian),
    incrementalMsMedian: Math.round(median(incs.map((x) => x.ms))),
    readRatioMax: round(Math.max(...incs.map((x) => x.readRatio))),
    readRatioMedian: round(median(incs.map((x) => x.readRatio))),
    timeRatioMedian: round(median(incs.map((x) => x.timeRatio))),
    timeRatioWithoutFreezeMedian: round(median(incs.map((x) => x.timeRatioWithoutFreeze))),
    restores,
  };
}
