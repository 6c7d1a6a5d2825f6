/**
 * (d) The copy activity (copyDiskToRepository, SHA-256 on, run through MockActivityEnvironment) on a
 * file in the page cache, against the same activity writing through the page cache (no O_DIRECT),
 * the same with its hash on the main thread (and so buffered too), and four contenders on the same file in the same run: a plain
 * read → hash → write loop in Node with the activity's buffers (then fsync), SHA-256 alone (the file
 * read from the page cache and hashed), `cat src > dst`, and `cat` + fsync (the activity makes its
 * image durable before it reports it done). Each contender starts once the kernel's dirty and
 * writeback pages have drained; the order rotates every run. Wall time and CPU-seconds per GiB for
 * each; a run whose `cat` + fsync is far from the median of all runs' is flagged disturbed, and the
 * medians are over the undisturbed runs. The headline pair (the activity and `cat` + fsync) is
 * measured `samples` times in each run (once in the rotation, then back to back, alternating which
 * goes first), and the run's figure for each is the median of its samples: one sample of either
 * swings ±15 % with the disk alone (docs/benchmarks.md, (d)). A sample during which the machine
 * spent much CPU on anything else (/proc/stat against the contender's own) is left out of the
 * medians and marked in the log.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rm, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { copyDiskToRepository, type CopyDiskInput, type CopyDiskResult, type CopySettings } from '../activities/copy/copy-disk';
import { copySettingsFromEnv } from '../activities/copy/activities';
import { hashRange } from '../activities/copy/hash-read';
import { checkHugePageBuffers } from '../activities/copy/huge-pages';
import { median, round } from './lib/stats';

const DISK_ID = 'bbbbbbbb-0001-4c8e-9a10-00000000beef';
const GIB = 1024 * 1024 * 1024;

export const CONTENDERS = ['activity', 'activityBuffered', 'activityMainThread', 'loop', 'sha256', 'cat', 'catSync'] as const;
export type Contender = (typeof CONTENDERS)[number];
const HEADLINE_PAIR = ['activity', 'catSync'] as const;
type HeadlinePair = (typeof HEADLINE_PAIR)[number];

interface Measured {
  ms: number;
  cpuMs: number;
}

export interface CopyRun {
  order: string;
  /** Wall ms and CPU ms (user + system, this process's threads or the shell's children) per contender. */
  ms: Record<Contender, number>;
  cpuMs: Record<Contender, number>;
  /** How long each contender waited for the dirty and writeback pages to drain before it started (its first sample). */
  drainMs: Record<Contender, number>;
  /** Every sample of the headline pair, wall ms, in the order taken (`ms` holds their medians). */
  samples: Record<HeadlinePair, number[]>;
  /** The disk's write requests during each activity sample: their mean size, KiB (/proc/diskstats). */
  activityRequestKiB: number[];
  ratioVsCat: number;
  ratioVsCatSync: number;
  mainThreadVsCatSync: number;
  loopVsCatSync: number;
  /** CPU of the activity / CPU of SHA-256 alone. */
  cpuVsSha256: number;
  /** The same for the activity writing through the page cache (COPY_DIRECT_WRITES=false). */
  bufferedCpuVsSha256: number;
  /** The machine's CPU ms beyond the contender's own during each headline sample, in the order taken. */
  othersCpuMs: Record<HeadlinePair, number[]>;
  /** Headline samples left out of the run's medians because others used the CPU meanwhile. */
  disturbedSamples: number;
  /** cat + fsync far off the other runs', or every sample of a headline contender disturbed. */
  disturbed: boolean;
}

export interface CopyResult {
  mib: number;
  chunkBytes: number;
  runs: CopyRun[];
  undisturbedRuns: number;
  /** Medians over the undisturbed runs (over all when every run was disturbed). */
  medianMs: Record<Contender, number>;
  miBps: Record<Contender, number>;
  cpuSecondsPerGiB: Record<Contender, number>;
  activityMiBps: number;
  catMiBps: number;
  ratioVsCatMedian: number;
  ratioVsCatSyncMedian: number;
  mainThreadVsCatSyncMedian: number;
  loopVsCatSyncMedian: number;
  cpuVsSha256Median: number;
  bufferedCpuVsSha256Median: number;
  /** Spread of the undisturbed runs' ratios vs cat + fsync. */
  ratioVsCatSyncMin: number;
  ratioVsCatSyncMax: number;
  /** Samples of the headline pair per run. */
  samplesPerRun: number;
  /** Whether this process's copy buffers were on huge pages, and the start-up line that says so. */
  hugePages: { onHugePages: boolean; notice: string };
  /** Headline samples left out because others used the CPU meanwhile, over all runs. */
  disturbedSamples: number;
  /** Median over every activity sample of the mean write request size, KiB (0 where the kernel does not tell). */
  activityRequestKiBMedian: number;
  /**
   * How far the undisturbed runs are from their median, at most, as a fraction (0.12: all within
   * ±12 %): the activity's wall time per GiB, its ratio vs cat + fsync, its CPU-seconds per GiB, and
   * cat + fsync's wall time.
   */
  agreement: { activity: number; ratioVsCatSync: number; activityCpu: number; catSync: number };
}

/**
 * A sample is disturbed when the machine spent more CPU than this share of the sample's wall time
 * on anything but the contender itself (another process, or the kernel on its behalf). Undisturbed,
 * the activity's others were 3–7 % of its wall time and `cat` + fsync's up to 27 % (the kernel's
 * flush threads write its pages back); one other busy core is 100 %.
 */
const OTHERS_SHARE_LIMIT: Record<HeadlinePair, number> = { activity: 0.2, catSync: 0.45 };

/** A run is disturbed when its `cat` + fsync took this much longer (or shorter) than the median of all runs'. */
const DISTURBED_FACTOR = 1.5;
/** Dirty + Writeback below this counts as drained. */
const DRAINED_BYTES = 32 * 1024 * 1024;
const DRAIN_CAP_MS = 60_000;

/** The largest distance of any value from the values' median, as a fraction of the median. */
function spread(values: number[]): number {
  const m = median(values);
  return m > 0 ? round(Math.max(...values.map((v) => Math.abs(v - m) / m))) : 0;
}

async function dirtyBytes(): Promise<number> {
  const meminfo = await readFile('/proc/meminfo', 'utf8');
  let kib = 0;
  for (const field of ['Dirty', 'Writeback']) kib += Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1] ?? 0);
  return kib * 1024;
}

/** The major and minor numbers of the block device `dir` is on (Linux's encoding of st_dev). */
async function blockDevice(dir: string): Promise<{ major: number; minor: number }> {
  const dev = (await stat(dir)).dev;
  return { major: Math.floor(dev / 256) & 0xfff, minor: (dev & 0xff) | ((dev >> 12) & 0xfff00) };
}

/** The block device's in-flight request counts (reads, writes: discards count as writes), when the kernel exposes them. */
async function inflightPath(dir: string): Promise<string | undefined> {
  const { major, minor } = await blockDevice(dir);
  const path = `/sys/dev/block/${major}:${minor}/inflight`;
  return readFile(path).then(
    () => path,
    () => undefined,
  );
}

async function diskIdle(inflight: string | undefined): Promise<boolean> {
  if (!inflight) return true;
  return (await readFile(inflight, 'utf8'))
    .trim()
    .split(/\s+/)
    .every((n) => n === '0');
}

/** The disk's completed writes and sectors written so far (/proc/diskstats), when the kernel exposes them. */
async function writesDone(dir: string): Promise<{ requests: number; sectors: number } | undefined> {
  const { major, minor } = await blockDevice(dir);
  const line = (await readFile('/proc/diskstats', 'utf8').catch(() => ''))
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => Number(f[0]) === major && Number(f[1]) === minor);
  return line ? { requests: Number(line[7]), sectors: Number(line[9]) } : undefined;
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** CPU time the whole machine has spent busy so far, ms (/proc/stat: every state but idle and iowait). */
async function machineBusyMs(): Promise<number | undefined> {
  const cpu = (await readFile('/proc/stat', 'utf8').catch(() => '')).split('\n')[0]?.trim().split(/\s+/);
  if (cpu?.[0] !== 'cpu') return undefined;
  const [user, nice, system, , , irq, softirq, steal] = cpu.slice(1).map(Number);
  return (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1000) / CLOCK_TICKS;
}

/**
 * Flushes, then waits until the kernel's dirty and writeback pages are below DRAINED_BYTES and the
 * disk has had no request in flight for two samples in a row (a delete's online discard shows only
 * there), at most capMs.
 */
async function drain(capMs: number, inflight: string | undefined): Promise<number> {
  const t0 = performance.now();
  spawnSync('sync');
  for (let quiet = 0; quiet < 2 && performance.now() - t0 < capMs;) {
    quiet = (await dirtyBytes()) <= DRAINED_BYTES && (await diskIdle(inflight)) ? quiet + 1 : 0;
    if (quiet < 2) await new Promise((r) => setTimeout(r, 50));
  }
  return performance.now() - t0;
}

const SHELL_TIME = /(\d+)m([\d.]+)s/g;

/** Runs a shell script; CPU is its children's user + system time, as the shell's `times` reports it. */
function timeShell(script: string, args: string[]): Measured {
  const t0 = performance.now();
  const r = spawnSync('sh', ['-c', `${script}\ntimes >&3`, 'sh', ...args], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${script} failed (${r.status})`);
  const children = String(r.output[3]).trim().split('\n')[1] ?? '';
  const cpuMs = [...children.matchAll(SHELL_TIME)].reduce((sum, m) => sum + (Number(m[1]) * 60 + Number(m[2])) * 1000, 0);
  return { ms, cpuMs };
}

/** Wall and CPU time (every thread of this process) of an in-process contender. */
async function timeInProcess(fn: () => Promise<void>): Promise<Measured> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** The plain loop: one buffer at a time, read, hash, write; fsync at the end like the activity. */
async function plainLoop(src: string, dst: string, chunk: number): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafeSlow(chunk);
  const [input, output] = await Promise.all([open(src, 'r'), open(dst, 'w')]);
  try {
    for (let position = 0; ;) {
      const { bytesRead } = await input.read(buffer, 0, chunk, position);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      for (let done = 0; done < bytesRead;) done += (await output.write(buffer, done, bytesRead - done, position + done)).bytesWritten;
      position += bytesRead;
    }
    await output.sync();
  } finally {
    await Promise.all([input.close(), output.close()]);
  }
  return hash.digest('hex');
}

async function sha256Alone(src: string, chunk: number): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(src, 'r');
  try {
    await hashRange(handle, 0, undefined, hash, chunk);
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** drainCapMs: how long a contender waits at most for the drain (default 60 s; --quick: 0, only a `sync`). */
export async function benchCopy(options: { mib: number; runs: number; tmp: string; drainCapMs?: number; samples?: number }, log: (line: string) => void): Promise<CopyResult> {
  const dir = join(options.tmp, 'copy');
  const byId = join(dir, 'by-id');
  const repo = join(dir, 'repository');
  await mkdir(byId, { recursive: true });
  const src = join(dir, 'disk.img');
  const bytes = options.mib * 1024 * 1024;
  // Incompressible bytes: a 4 MiB random block repeated.
  const block = randomBytes(4 * 1024 * 1024);
  const fh = await open(src, 'w');
  for (let written = 0; written < bytes; written += block.length) await fh.write(block, 0, Math.min(block.length, bytes - written));
  await fh.close();
  await symlink(src, join(byId, `scsi-0QEMU_QEMU_HARDDISK_${DISK_ID}`));
  // The production default chunk size (COPY_CHUNK_BYTES), read the way the copy worker reads it.
  const settings: CopySettings = { ...copySettingsFromEnv({}), repositoryRoot: repo, deviceByIdDir: byId };
  const dstCat = join(dir, 'cat.img');
  const dstCatSync = join(dir, 'cat-sync.img');
  const dstLoop = join(dir, 'loop.img');
  let expectedSha256 = '';
  const check = (sha256: string, who: string) => {
    if (sha256 !== expectedSha256) throw new Error(`${who} hashed ${sha256}, expected ${expectedSha256}`);
  };

  const activity = (run: number, name: string, overrides: Partial<CopySettings> = {}) =>
    timeInProcess(async () => {
      const result: CopyDiskResult = await new MockActivityEnvironment({ attempt: 1 }).run(
        (s: CopySettings, i: CopyDiskInput) => copyDiskToRepository(s, i),
        { ...settings, ...overrides },
        {
          diskId: DISK_ID,
          expectedBytes: bytes,
          dir: `run-${run}-${name}`,
          fileName: 'disk.raw',
        },
      );
      if (result.bytes !== bytes) throw new Error(`copy wrote ${result.bytes} bytes, expected ${bytes}`);
      check(result.sha256, name);
    });
  const contenders: Record<Contender, (run: number) => Promise<Measured>> = {
    activity: (run) => activity(run, 'activity'),
    // The same activity writing its image through the page cache, as before direct writes (#20).
    activityBuffered: (run) => activity(run, 'activityBuffered', { directWrites: false }),
    // The same activity with its hash on the main thread, as copies smaller than hashThreadMinBytes run.
    activityMainThread: (run) => activity(run, 'activityMainThread', { hashThreadMinBytes: Number.POSITIVE_INFINITY }),
    loop: () => timeInProcess(async () => check(await plainLoop(src, dstLoop, settings.chunkBytes), 'the plain loop')),
    sha256: () => timeInProcess(async () => check(await sha256Alone(src, settings.chunkBytes), 'SHA-256 alone')),
    cat: async () => timeShell('cat "$1" > "$2"', [src, dstCat]),
    catSync: async () => timeShell('cat "$1" > "$2" && sync "$2"', [src, dstCatSync]),
  };

  const samplesPerRun = Math.max(1, options.samples ?? 1);
  // The activity's direct writes leave in requests as large as the buffers' physical pages allow.
  const hugePages = checkHugePageBuffers();
  log(`  ${hugePages.notice}`);
  const raw: Array<Omit<CopyRun, 'disturbed'> & { allSamplesDisturbed: boolean }> = [];
  try {
    // The source is read from the page cache by every contender alike (1 GiB fits).
    expectedSha256 = await sha256Alone(src, settings.chunkBytes);
    const inflight = await inflightPath(dir);
    // Run 0 warms up and is not counted: the first run of an invocation was the slow one in every
    // invocation (its activity 0.75–0.83 s per GiB against 0.66–0.69 s in the next seven, even
    // after one copy to warm the JIT), for a reason not found (docs/benchmarks.md, (d)).
    for (let run = 0; run <= options.runs; run++) {
      // The order rotates from run to run: none always goes first or right after the same other.
      const order = CONTENDERS.map((_, i) => CONTENDERS[(i + run + CONTENDERS.length - 1) % CONTENDERS.length]!);
      const ms = {} as Record<Contender, number>;
      const cpuMs = {} as Record<Contender, number>;
      const drainMs = {} as Record<Contender, number>;
      const samples: Record<HeadlinePair, number[]> = { activity: [], catSync: [] };
      const cpuSamples: Record<HeadlinePair, number[]> = { activity: [], catSync: [] };
      const activityRequestKiB: number[] = [];
      // The machine's CPU time during each sample beyond the contender's own: the kernel's writeback for it, and anyone else.
      const othersCpu: Record<HeadlinePair, number[]> = { activity: [], catSync: [] };
      const quiet: Record<HeadlinePair, boolean[]> = { activity: [], catSync: [] };
      const measure = async (name: Contender, sample: number) => {
        // Nobody pays for another's writeback: a contender right after another's fsynced gigabyte
        // took up to 3× its time while the kernel still wrote it back.
        // cat + fsync's last output goes before the drain: written over during the timed cat, its
        // blocks were freed (and discarded by the mount) meanwhile, and later samples took 0.8–1.0 s
        // where the first took 0.6; written to new files each time, later samples took 5–7 s (new
        // page-cache pages are the slow ones on this VM: docs/benchmarks.md, (d)).
        if (name === 'catSync') await rm(dstCatSync, { force: true });
        const drained = Math.round(await drain(options.drainCapMs ?? DRAIN_CAP_MS, inflight));
        if (sample === 0) drainMs[name] = drained;
        const writes0 = name === 'activity' ? await writesDone(dir) : undefined;
        const busy0 = await machineBusyMs();
        const m = await contenders[name](run * 100 + sample);
        const busy1 = await machineBusyMs();
        const writes1 = writes0 && (await writesDone(dir));
        const others = busy0 !== undefined && busy1 !== undefined ? Math.round(busy1 - busy0 - m.cpuMs) : undefined;
        if (writes0 && writes1 && writes1.requests > writes0.requests) activityRequestKiB.push(Math.round(((writes1.sectors - writes0.sectors) * 512) / 1024 / (writes1.requests - writes0.requests)));
        if (name === 'activity' || name === 'catSync') {
          samples[name].push(Math.round(m.ms));
          cpuSamples[name].push(Math.round(m.cpuMs));
          if (others !== undefined) othersCpu[name].push(others);
          quiet[name].push(others === undefined || others <= OTHERS_SHARE_LIMIT[name] * m.ms);
        } else {
          ms[name] = Math.round(m.ms);
          cpuMs[name] = Math.round(m.cpuMs);
        }
      };
      for (const name of order) await measure(name, 0);
      for (let sample = 1; sample < samplesPerRun; sample++) {
        for (const name of sample % 2 ? [...HEADLINE_PAIR] : [...HEADLINE_PAIR].reverse()) await measure(name, sample);
      }
      // A run's figure is the median of its undisturbed samples (of all, when none was).
      let allSamplesDisturbed = false;
      for (const name of HEADLINE_PAIR) {
        const kept = (values: number[]) => (quiet[name].some(Boolean) ? values.filter((_, i) => quiet[name][i]) : values);
        if (!quiet[name].some(Boolean)) allSamplesDisturbed = true;
        ms[name] = Math.round(median(kept(samples[name])));
        cpuMs[name] = Math.round(median(kept(cpuSamples[name])));
      }
      const disturbedSamples = HEADLINE_PAIR.reduce((n, name) => n + quiet[name].filter((q) => !q).length, 0);
      // Outputs are deleted only now (the mount has online `discard`: a delete costs the next writer;
      // the next run's first drain waits for it).
      await Promise.all([
        rm(dstCat, { force: true }),
        rm(dstCatSync, { force: true }),
        rm(dstLoop, { force: true }),
        ...Array.from({ length: samplesPerRun }, (_, sample) => rm(join(repo, `run-${run * 100 + sample}-activity`), { recursive: true, force: true })),
        rm(join(repo, `run-${run * 100}-activityBuffered`), { recursive: true, force: true }),
        rm(join(repo, `run-${run * 100}-activityMainThread`), { recursive: true, force: true }),
      ]);
      const counted = run > 0;
      if (counted)
        raw.push({
          order: order.join(','),
          ms,
          cpuMs,
          drainMs,
          samples,
          othersCpuMs: othersCpu,
          disturbedSamples,
          allSamplesDisturbed,
          activityRequestKiB,
          ratioVsCat: round(ms.cat / ms.activity),
          ratioVsCatSync: round(ms.catSync / ms.activity),
          mainThreadVsCatSync: round(ms.catSync / ms.activityMainThread),
          loopVsCatSync: round(ms.catSync / ms.loop),
          cpuVsSha256: round(cpuMs.activity / cpuMs.sha256),
          bufferedCpuVsSha256: round(cpuMs.activityBuffered / cpuMs.sha256),
        });
      const perGiB = (name: Contender) => `${(ms[name] / 1000 / (bytes / GIB)).toFixed(2)} s (${(cpuMs[name] / 1000 / (bytes / GIB)).toFixed(2)} CPU)`;
      const sampled = samplesPerRun > 1 ? ` (medians of ${samplesPerRun}: activity ${samples.activity.join('/')} ms, cat+fsync ${samples.catSync.join('/')} ms)` : '';
      const requests = activityRequestKiB.length ? `; the activity's write requests ${activityRequestKiB.join('/')} KiB on average` : '';
      const mark = (name: HeadlinePair) => othersCpu[name].map((v, i) => `${v}${quiet[name][i] ? '' : '*'}`).join('/');
      const others = othersCpu.activity.length
        ? `; others' CPU ms during the activity ${mark('activity')}, during cat+fsync ${mark('catSync')}${disturbedSamples ? ' (* disturbed: left out)' : ''}`
        : '';
      log(
        `  run ${run}${counted ? '' : ' (warm-up, not counted)'} (${order.join(', ')}), per GiB: ${CONTENDERS.map((n) => `${n} ${perGiB(n)}`).join(', ')}; activity vs cat+fsync ${(ms.catSync / ms.activity).toFixed(3)}${sampled}${requests}${others}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const catSyncMedian = median(raw.map((r) => r.ms.catSync));
  const runs: CopyRun[] = raw.map(({ allSamplesDisturbed, ...r }) => ({
    ...r,
    disturbed: allSamplesDisturbed || r.ms.catSync > catSyncMedian * DISTURBED_FACTOR || r.ms.catSync < catSyncMedian / DISTURBED_FACTOR,
  }));
  const steady = runs.some((r) => !r.disturbed) ? runs.filter((r) => !r.disturbed) : runs;
  const med = (f: (r: CopyRun) => number) => median(steady.map(f));
  const per = <T>(f: (name: Contender) => T) => Object.fromEntries(CONTENDERS.map((n) => [n, f(n)])) as Record<Contender, T>;
  const medianMs = per((n) => Math.round(med((r) => r.ms[n])));
  if (runs.some((r) => r.disturbed))
    log(
      `  disturbed (cat+fsync off the median ${Math.round(catSyncMedian)} ms by > ${DISTURBED_FACTOR}×, or every sample of the activity or of cat+fsync disturbed): run ${runs.flatMap((r, i) => (r.disturbed ? [i + 1] : [])).join(', ')}`,
    );
  return {
    mib: options.mib,
    chunkBytes: settings.chunkBytes,
    runs,
    undisturbedRuns: runs.filter((r) => !r.disturbed).length,
    medianMs,
    miBps: per((n) => round(options.mib / (medianMs[n] / 1000), 1)),
    cpuSecondsPerGiB: per((n) => round(med((r) => r.cpuMs[n]) / 1000 / (bytes / GIB))),
    activityMiBps: round(options.mib / (medianMs.activity / 1000), 1),
    catMiBps: round(options.mib / (medianMs.cat / 1000), 1),
    ratioVsCatMedian: round(med((r) => r.ratioVsCat)),
    ratioVsCatSyncMedian: round(med((r) => r.ratioVsCatSync)),
    mainThreadVsCatSyncMedian: round(med((r) => r.mainThreadVsCatSync)),
    loopVsCatSyncMedian: round(med((r) => r.loopVsCatSync)),
    cpuVsSha256Median: round(med((r) => r.cpuVsSha256)),
    bufferedCpuVsSha256Median: round(med((r) => r.bufferedCpuVsSha256)),
    ratioVsCatSyncMin: round(Math.min(...steady.map((r) => r.ratioVsCatSync))),
    ratioVsCatSyncMax: round(Math.max(...steady.map((r) => r.ratioVsCatSync))),
    samplesPerRun,
    hugePages,
    disturbedSamples: runs.reduce((n, r) => n + r.disturbedSamples, 0),
    activityRequestKiBMedian: Math.round(median(runs.flatMap((r) => r.activityRequestKiB)) || 0),
    agreement: {
      activity: spread(steady.map((r) => r.ms.activity)),
      ratioVsCatSync: spread(steady.map((r) => r.ratioVsCatSync)),
      activityCpu: spread(steady.map((r) => r.cpuMs.activity)),
      // The baseline's own spread: a ratio cannot agree better than what it is divided by.
      catSync: spread(steady.map((r) => r.ms.catSync)),
    },
  };
}
