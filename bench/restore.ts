/**
 * (g) The restore. Write throughput: writeImageToDevice (the restore's write, SHA-256 on, through
 * MockActivityEnvironment) against copyDiskToRepository (the backup's copy) of the same image in the
 * same run, order alternating, the ratio the median of the per-run ratios. And a drill's time beside
 * its backup's: ovirtSnapshotBackup of the demo VM, then ovirtRestoreDrill of that backup, against the
 * zero-latency simulator on the bench's dev server, several runs, medians.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, open, rm, symlink, truncate } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { copySettingsFromEnv } from '../activities/copy/activities';
import { copyDiskToRepository, type CopyDiskInput, type CopyDiskResult, type CopySettings } from '../activities/copy/copy-disk';
import { writeImageToDevice, type WriteImageInput, type WriteImageResult } from '../activities/copy/write-image';
import type { OvirtBackupManifest } from '../contracts/ovirt/results';
import { EndpointRegistry } from '../lib/config/endpoints';
import { OVIRT_DEMO } from '../simulators/ovirt';
import { createCopyWorker, createMainWorker } from '../workers/worker-factory';
import { benchDataConverter, startBenchOvirt } from './lib/env';
import { median, round } from './lib/stats';

const SOURCE_DISK = 'bbbbbbbb-0001-4c8e-9a10-00000000beef';
const RESTORED_DISK = 'bbbbbbbb-0002-4c8e-9a10-00000000beef';
const MiB = 1024 * 1024;

export interface RestoreBenchResult {
  write: {
    mib: number;
    chunkBytes: number;
    runs: Array<{ order: string; writeMs: number; copyMs: number; ratio: number }>;
    /**
     * Runs 2k-1 and 2k (one in each order) taken together: Σ copyMs / Σ writeMs. The second contender
     * of a run is much slower than the first here (below), so a single run's ratio mostly says who went first.
     */
    pairs: number[];
    writeMiBps: number;
    copyMiBps: number;
    /** Median of the pairs' ratios (of the one run's, with one run): the restore's write as fast as the backup's copy is 1. */
    ratioMedian: number;
    /** Medians by position in the run (MiB/s). */
    byPosition: { first: { write: number; copy: number }; second: { write: number; copy: number } };
  };
  drill: {
    diskMiB: { os: number; data: number };
    runs: Array<{ backupMs: number; drillMs: number; ratio: number }>;
    backupMsMedian: number;
    drillMsMedian: number;
    /** Median of drillMs / backupMs. */
    ratioMedian: number;
  };
}

function timeShell(script: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync('sh', ['-c', script, 'sh', ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status})`);
  return performance.now() - t0;
}

async function benchWrite(options: { mib: number; runs: number; tmp: string; settleSeconds: number }, log: (line: string) => void): Promise<RestoreBenchResult['write']> {
  const dir = join(options.tmp, 'restore-write');
  const byId = join(dir, 'by-id');
  await mkdir(byId, { recursive: true });
  const bytes = options.mib * MiB;
  // Incompressible bytes, as in (d): a 4 MiB random block repeated.
  const src = join(dir, 'disk.img');
  const block = randomBytes(4 * MiB);
  const fh = await open(src, 'w');
  for (let written = 0; written < bytes; written += block.length) await fh.write(block, 0, Math.min(block.length, bytes - written));
  await fh.close();
  const restored = join(dir, 'restored.img');
  await symlink(src, join(byId, `scsi-0QEMU_QEMU_HARDDISK_${SOURCE_DISK}`));
  await symlink(restored, join(byId, `scsi-0QEMU_QEMU_HARDDISK_${RESTORED_DISK}`));
  const settings: CopySettings = { ...copySettingsFromEnv({}), repositoryRoot: join(dir, 'repository'), deviceByIdDir: byId };
  const copy = (run: string): Promise<CopyDiskResult> =>
    new MockActivityEnvironment({ attempt: 1 }).run((s: CopySettings, i: CopyDiskInput) => copyDiskToRepository(s, i), settings, {
      diskId: SOURCE_DISK,
      expectedBytes: bytes,
      dir: run,
      fileName: 'disk.raw',
    });
  // The image every run restores: the backup's copy of the same disk, made once before the runs.
  const backup = await copy('backup');
  const write = (): Promise<WriteImageResult> =>
    new MockActivityEnvironment({ attempt: 1 }).run((s: CopySettings, i: WriteImageInput) => writeImageToDevice(s, i), settings, {
      dir: 'backup',
      fileName: 'disk.raw',
      diskId: RESTORED_DISK,
      expectedBytes: bytes,
      expectedSha256: backup.sha256,
    });

  const runs: RestoreBenchResult['write']['runs'] = [];
  try {
    timeShell('cat "$1" "$2" > /dev/null', [src, backup.path]);
    for (let run = 1; run <= options.runs; run++) {
      const order = run % 2 === 1 ? (['write', 'copy'] as const) : (['copy', 'write'] as const);
      // A fresh target each run, as a new disk is: the write allocates its blocks as the copy does its file's.
      await rm(restored, { force: true });
      await open(restored, 'w').then((f) => f.close());
      await truncate(restored, bytes);
      const ms: Record<string, number> = {};
      for (const side of order) {
        // As in (d): nobody pays for another's writeback.
        timeShell(`sync && sleep ${options.settleSeconds}`, []);
        const t0 = performance.now();
        const result = side === 'write' ? await write() : await copy(`run-${run}`);
        ms[side] = performance.now() - t0;
        if (result.bytes !== bytes) throw new Error(`${side} moved ${result.bytes} bytes, expected ${bytes}`);
      }
      await rm(join(settings.repositoryRoot, `run-${run}`), { recursive: true, force: true });
      timeShell('sync', []);
      const { write: writeMs, copy: copyMs } = ms as { write: number; copy: number };
      runs.push({ order: order.join(','), writeMs: Math.round(writeMs), copyMs: Math.round(copyMs), ratio: round(copyMs / writeMs) });
      log(
        `  run ${run} (${order.join(', ')}): restore write ${(options.mib / (writeMs / 1000)).toFixed(0)} MiB/s, backup copy ${(options.mib / (copyMs / 1000)).toFixed(0)} MiB/s → ratio ${(copyMs / writeMs).toFixed(3)}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const pairs: number[] = [];
  for (let i = 0; i + 1 < runs.length; i += 2) pairs.push(round((runs[i]!.copyMs + runs[i + 1]!.copyMs) / (runs[i]!.writeMs + runs[i + 1]!.writeMs)));
  const mibps = (ms: number[]) => round(options.mib / (median(ms) / 1000), 1);
  const at = (first: 'write' | 'copy') => runs.filter((r) => r.order.startsWith(first));
  return {
    mib: options.mib,
    chunkBytes: settings.chunkBytes,
    runs,
    pairs,
    writeMiBps: mibps(runs.map((r) => r.writeMs)),
    copyMiBps: mibps(runs.map((r) => r.copyMs)),
    ratioMedian: pairs.length ? round(median(pairs)) : runs[0]!.ratio,
    byPosition: {
      first: { write: mibps(at('write').map((r) => r.writeMs)), copy: mibps(at('copy').map((r) => r.copyMs)) },
      second: { write: mibps(at('copy').map((r) => r.writeMs)), copy: mibps(at('write').map((r) => r.copyMs)) },
    },
  };
}

async function benchDrill(
  env: TestWorkflowEnvironment,
  bundle: WorkflowBundleWithSourceMap,
  options: { runs: number; diskMiB: { os: number; data: number }; tmp: string },
  log: (line: string) => void,
): Promise<RestoreBenchResult['drill']> {
  // Zero vendor latency, as in (a): what is measured is the orchestration and the bytes.
  const sim = await startBenchOvirt(0, {
    diskSizes: { os: options.diskMiB.os * MiB, data: options.diskMiB.data * MiB },
    diskCreateMs: 0,
    vmCreateMs: 0,
    vmBootMs: 0,
  });
  const namespace = env.namespace ?? 'default';
  const suffix = Math.random().toString(36).slice(2, 8);
  const queues = { main: `bench-restore-${suffix}`, copy: `bench-restore-copy-${suffix}` };
  const main = await createMainWorker({
    connection: env.nativeConnection,
    namespace,
    taskQueue: queues.main,
    endpoints: EndpointRegistry.fromObject({ endpoints: sim.endpoints }),
    env: { ...process.env, ...sim.secrets },
    workflowBundle: bundle,
    dataConverter: benchDataConverter,
  });
  const copy = await createCopyWorker({
    connection: env.nativeConnection,
    namespace,
    taskQueue: queues.copy,
    copy: { ...copySettingsFromEnv({}), repositoryRoot: join(options.tmp, 'restore-repository'), deviceByIdDir: sim.deviceByIdDir, deviceDir: dirname(sim.deviceByIdDir) },
    dataConverter: benchDataConverter,
  });
  const workers = [main.worker, ...copy];
  const running = workers.map((w) => w.run());
  const common = { endpoint: 'ovirt-bench', vmId: OVIRT_DEMO.vmId, proxyVmId: sim.proxyVmId, copyTaskQueue: queues.copy, pollIntervalMs: 50 };
  const timed = async <T>(workflow: string, id: string, input: Record<string, unknown>): Promise<{ ms: number; result: T }> => {
    const t0 = performance.now();
    const result = (await env.client.workflow.execute(workflow, { taskQueue: queues.main, workflowId: `bench-${id}-${suffix}`, args: [input] })) as T;
    return { ms: performance.now() - t0, result };
  };
  const backupThenDrill = async (n: number) => {
    const backup = await timed<OvirtBackupManifest>('ovirtSnapshotBackup', `restore-backup-${n}`, { ...common, description: 'bench' });
    const drill = await timed('ovirtRestoreDrill', `drill-${n}`, { ...common, backup: backup.result.repository.dir, cluster: OVIRT_DEMO.clusterName });
    return { backupMs: backup.ms, drillMs: drill.ms };
  };

  const runs: RestoreBenchResult['drill']['runs'] = [];
  try {
    // One pair first: warms the workers and writes the simulator's disk images (not measured).
    await backupThenDrill(0);
    for (let run = 1; run <= options.runs; run++) {
      const { backupMs, drillMs } = await backupThenDrill(run);
      runs.push({ backupMs: Math.round(backupMs), drillMs: Math.round(drillMs), ratio: round(drillMs / backupMs) });
      log(`  run ${run}: backup ${Math.round(backupMs)} ms, drill of it ${Math.round(drillMs)} ms → ×${(drillMs / backupMs).toFixed(2)}`);
    }
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(running);
    await main.close();
    await sim.stop();
  }
  return {
    diskMiB: options.diskMiB,
    runs,
    backupMsMedian: Math.round(median(runs.map((r) => r.backupMs))),
    drillMsMedian: Math.round(median(runs.map((r) => r.drillMs))),
    ratioMedian: round(median(runs.map((r) => r.ratio))),
  };
}

export async function benchRestore(
  env: TestWorkflowEnvironment,
  bundle: WorkflowBundleWithSourceMap,
  options: { mib: number; runs: number; drillRuns: number; drillDiskMiB: { os: number; data: number }; tmp: string; settleSeconds: number },
  log: (line: string) => void,
): Promise<RestoreBenchResult> {
  const write = await benchWrite(options, log);
  const drill = await benchDrill(env, bundle, { runs: options.drillRuns, diskMiB: options.drillDiskMiB, tmp: options.tmp }, log);
  return { write, drill };
}
