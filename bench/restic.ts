/**
 * (h) The restic repository against the directory repository: the copy activity of each kind
 * (copyDiskToRestic, copyDiskToRepository; SHA-256 on, MockActivityEnvironment) on the same disk
 * (random bytes: nothing to deduplicate or compress) in the same run, order alternating, restic into
 * a fresh repository every run (a first backup: the most restic has to store). The ratio is
 * directory time / restic time per run, its median reported (goal ≥ 0.6; a miss is reported, not
 * failed). Then the repository's growth, measured as the bytes its folder gains: a second backup of
 * the unchanged disk (bytes added / disk size; goal ≤ 1 %), and one after ten regions of 4 MiB were
 * rewritten (bytes added / changed bytes; goal ≤ 1.5 × the changed bytes + 1 % of the disk).
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdir, open, readdir, rm, stat, symlink } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { copySettingsFromEnv, resticCompressionFromEnv } from '../activities/copy/activities';
import { copyDiskToRepository, type CopyDiskInput, type CopyDiskResult, type CopySettings } from '../activities/copy/copy-disk';
import { copyDiskToRestic } from '../activities/copy/restic/restic-backup';
import { runRestic, type ResticSettings } from '../activities/copy/restic/restic-cli';
import { findPinnedRestic, resticVersion } from '../activities/copy/restic/restic-path';
import { median, round } from './lib/stats';

const DISK_ID = 'bbbbbbbb-0002-4c8e-9a10-00000000beef';
const MIB = 1024 * 1024;
const REGIONS = 10;

export interface ResticRun {
  order: string;
  directoryMs: number;
  resticMs: number;
  /** directory time / restic time: ≥ 1 when restic is as fast. */
  ratio: number;
  /** `restic backup --stdin < disk file` alone, into a fresh repository of its own: what restic takes without us. */
  aloneMs: number;
  /** restic alone / our restic copy: 1 when our stream (device read, SHA-256, progress) adds nothing to restic's time. */
  oursVsAlone: number;
}

export interface ResticBenchResult {
  skipped?: string;
  restic?: string;
  mib: number;
  runs: ResticRun[];
  directoryMiBps: number;
  resticMiBps: number;
  ratioMedian: number;
  ratioGoal: number;
  ratioMet: boolean;
  /** Median of restic alone / our restic copy (the part of the restic figure this project controls). */
  oursVsAloneMedian: number;
  /** RESTIC_COMPRESSION as the bench ran it (unset: restic's default, auto). */
  compression: string;
  growth: {
    /** The first backup: bytes the repository gained / disk size (compression off random bytes: about 1). */
    firstAddedPerDisk: number;
    unchangedAddedBytes: number;
    unchangedAddedPerDisk: number;
    unchangedGoalMet: boolean;
    regionBytes: number;
    changedBytes: number;
    changedAddedBytes: number;
    changedAddedPerChanged: number;
    /** ≤ 1.5 × changed + 1 % of the disk. */
    changedGoalMet: boolean;
    /** restic's own data_added for the three backups (before its index and snapshot files). */
    resticDataAdded: number[];
  };
  loadAverage: { before: number[]; after: number[] };
}

async function folderBytes(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    total += entry.isDirectory() ? await folderBytes(full) : (await stat(full)).size;
  }
  return total;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export async function benchRestic(options: { mib: number; runs: number; tmp: string }, log: (line: string) => void): Promise<ResticBenchResult | { skipped: string }> {
  const binary = findPinnedRestic();
  if (!binary) return { skipped: 'no restic (RESTIC_PATH, .tools/restic, PATH): scripts/install-restic.sh' };
  // As the copy worker would run it (RESTIC_COMPRESSION).
  const compression = resticCompressionFromEnv(process.env);
  const dir = join(options.tmp, 'restic-bench');
  const byId = join(dir, 'by-id');
  await mkdir(byId, { recursive: true });
  const src = join(dir, 'disk.img');
  const bytes = options.mib * MIB;
  // Random throughout: restic finds nothing to deduplicate or compress inside one disk.
  const fh = await open(src, 'w');
  for (let written = 0; written < bytes; written += 4 * MIB) await fh.write(randomBytes(Math.min(4 * MIB, bytes - written)));
  await fh.sync();
  await fh.close();
  await symlink(src, join(byId, `scsi-0QEMU_QEMU_HARDDISK_${DISK_ID}`));
  const settings: CopySettings = { ...copySettingsFromEnv({}), repositoryRoot: join(dir, 'repository'), deviceByIdDir: byId };
  const repository = async (name: string): Promise<ResticSettings> => {
    const r: ResticSettings = { repository: join(dir, name), password: 'bench-restic-Pa55phrase', binary, host: 'bench', ...compression };
    await rm(r.repository, { recursive: true, force: true });
    await runRestic(r, ['init']);
    return r;
  };
  const input = (run: string): CopyDiskInput => ({ diskId: DISK_ID, expectedBytes: bytes, dir: `bench/${run}`, fileName: 'disk.raw' });
  // restic alone: `restic backup --stdin < disk file`, the file as restic's stdin, nothing of ours in between.
  const alone = async (restic: ResticSettings, run: string): Promise<void> => {
    const file = await open(src, 'r');
    try {
      const flags = restic.compression ? ['--compression', restic.compression] : [];
      const args = [...flags, 'backup', '--stdin', '--stdin-filename', `bench/${run}/alone.raw`, '--host', 'bench', '--quiet'];
      const env = { ...process.env, RESTIC_REPOSITORY: restic.repository, RESTIC_PASSWORD: restic.password };
      const child = spawn(binary, args, { env, stdio: [file.fd, 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      if (code !== 0) throw new Error(`restic backup --stdin alone: exit ${code}: ${stderr}`);
    } finally {
      await file.close();
    }
  };
  const env = () => new MockActivityEnvironment({ attempt: 1 });
  const toDirectory = (run: string): Promise<CopyDiskResult> => env().run((s: CopySettings, i: CopyDiskInput) => copyDiskToRepository(s, i), settings, input(run));
  const toRestic = (restic: ResticSettings, run: string): Promise<CopyDiskResult> =>
    env().run((s: CopySettings, r: ResticSettings, i: CopyDiskInput) => copyDiskToRestic(s, r, i), settings, restic, input(run));
  const before = loadavg();
  log(`  restic ${resticVersion(binary)} (${binary}), compression ${compression.compression ?? 'restic default (auto)'}, ${options.mib} MiB disk, ${options.runs} runs`);

  const runs: ResticRun[] = [];
  try {
    for (let run = 1; run <= options.runs; run++) {
      const restic = await repository('throughput');
      const aloneRepository = await repository('alone');
      // The order rotates, so that none of the three always runs first (or after the other two warmed the cache).
      const order = [
        ['directory', 'restic', 'alone'],
        ['restic', 'alone', 'directory'],
        ['alone', 'directory', 'restic'],
      ][(run - 1) % 3]!;
      const ms: Record<string, number> = {};
      const sha: string[] = [];
      for (const kind of order) {
        const { ms: took, value } = await timed(() =>
          kind === 'directory' ? toDirectory(`run-${run}`) : kind === 'restic' ? toRestic(restic, `run-${run}`) : alone(aloneRepository, `run-${run}`).then(() => undefined),
        );
        ms[kind] = Math.round(took);
        if (value) sha.push(value.sha256);
      }
      if (sha[0] !== sha[1]) throw new Error(`run ${run}: the directory copy hashed ${sha[0]}, restic's ${sha[1]}`);
      await rm(settings.repositoryRoot, { recursive: true, force: true });
      await rm(aloneRepository.repository, { recursive: true, force: true });
      const r: ResticRun = {
        order: order.join(','),
        directoryMs: ms.directory!,
        resticMs: ms.restic!,
        ratio: round(ms.directory! / ms.restic!),
        aloneMs: ms.alone!,
        oursVsAlone: round(ms.alone! / ms.restic!),
      };
      runs.push(r);
      log(`  run ${run} (${order.join(', ')}): directory ${r.directoryMs} ms, restic ${r.resticMs} ms, ratio ${r.ratio}; restic alone ${r.aloneMs} ms, ours vs alone ${r.oursVsAlone}`);
    }

    // Growth: three backups into one repository: the disk, the same disk again, the disk with ten regions rewritten.
    const restic = await repository('growth');
    const added: number[] = [];
    const sizes = [await folderBytes(restic.repository)];
    const backup = async (name: string) => {
      added.push((await toRestic(restic, name)).bytesAdded ?? NaN);
      sizes.push(await folderBytes(restic.repository));
    };
    await backup('first');
    await backup('unchanged');
    // Ten regions spread over the disk (smaller on a small disk, so that they stay apart), each rewritten with new random bytes.
    const regionBytes = Math.min(4 * MIB, Math.floor(bytes / (REGIONS * 2) / MIB) * MIB || MIB / 2);
    const disk = await open(src, 'r+');
    for (let i = 0; i < REGIONS; i++) await disk.write(randomBytes(regionBytes), 0, regionBytes, Math.floor((i * bytes) / REGIONS));
    await disk.sync();
    await disk.close();
    await backup('changed');
    const [s0, s1, s2, s3] = sizes as [number, number, number, number];
    const changedBytes = REGIONS * regionBytes;
    const unchangedAdded = s2 - s1;
    const changedAdded = s3 - s2;
    const ratioMedian = round(median(runs.map((r) => r.ratio)));
    const result: ResticBenchResult = {
      restic: resticVersion(binary),
      mib: options.mib,
      runs,
      directoryMiBps: round(options.mib / (median(runs.map((r) => r.directoryMs)) / 1000), 1),
      resticMiBps: round(options.mib / (median(runs.map((r) => r.resticMs)) / 1000), 1),
      ratioMedian,
      ratioGoal: 0.6,
      ratioMet: ratioMedian >= 0.6,
      oursVsAloneMedian: round(median(runs.map((r) => r.oursVsAlone))),
      compression: compression.compression ?? 'auto (restic default)',
      growth: {
        firstAddedPerDisk: round((s1 - s0) / bytes, 4),
        unchangedAddedBytes: unchangedAdded,
        unchangedAddedPerDisk: round(unchangedAdded / bytes, 5),
        unchangedGoalMet: unchangedAdded <= 0.01 * bytes,
        regionBytes,
        changedBytes,
        changedAddedBytes: changedAdded,
        changedAddedPerChanged: round(changedAdded / changedBytes, 3),
        changedGoalMet: changedAdded <= 1.5 * changedBytes + 0.01 * bytes,
        resticDataAdded: added,
      },
      loadAverage: { before, after: loadavg() },
    };
    if (!result.ratioMet) log(`  restic vs directory ${ratioMedian}: below the goal of 0.6 (reported, not failed)`);
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
