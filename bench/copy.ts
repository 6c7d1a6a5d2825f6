/**
 * (d) The copy activity (copyDiskToRepository, SHA-256 on, run through MockActivityEnvironment)
 * against `cat src > dst` on the same file in the same run; also against `cat` + fsync, since the
 * activity makes its image durable before it reports it done. The three alternate (the order rotates
 * every run) and each ratio is the median of the per-run ratios.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, open, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { copyDiskToRepository, type CopyDiskInput, type CopyDiskResult, type CopySettings } from '../activities/copy/copy-disk';
import { copySettingsFromEnv } from '../activities/copy/activities';
import { median, round } from './lib/stats';

const DISK_ID = 'bbbbbbbb-0001-4c8e-9a10-00000000beef';

export interface CopyResult {
  mib: number;
  chunkBytes: number;
  runs: Array<{ order: string; activityMs: number; catMs: number; catSyncMs: number; ratioVsCat: number; ratioVsCatSync: number }>;
  activityMiBps: number;
  catMiBps: number;
  ratioVsCatMedian: number;
  ratioVsCatSyncMedian: number;
  /** Spread of the per-run ratios vs cat + fsync. */
  ratioVsCatSyncMin: number;
  ratioVsCatSyncMax: number;
}

function timeShell(script: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync('sh', ['-c', script, 'sh', ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status})`);
  return performance.now() - t0;
}

export async function benchCopy(options: { mib: number; runs: number; tmp: string; settleSeconds?: number }, log: (line: string) => void): Promise<CopyResult> {
  const settleSeconds = options.settleSeconds ?? 2;
  const dir = join(options.tmp, 'copy');
  const byId = join(dir, 'by-id');
  const repo = join(dir, 'repository');
  await mkdir(byId, { recursive: true });
  const src = join(dir, 'disk.img');
  // Incompressible bytes: a 4 MiB random block repeated.
  const block = randomBytes(4 * 1024 * 1024);
  const fh = await open(src, 'w');
  for (let written = 0; written < options.mib * 1024 * 1024; written += block.length) await fh.write(block, 0, Math.min(block.length, options.mib * 1024 * 1024 - written));
  await fh.close();
  await symlink(src, join(byId, `scsi-0QEMU_QEMU_HARDDISK_${DISK_ID}`));
  // The production default chunk size (COPY_CHUNK_BYTES), read the way the copy worker reads it.
  const settings: CopySettings = { ...copySettingsFromEnv({}), repositoryRoot: repo, deviceByIdDir: byId };
  const expectedBytes = options.mib * 1024 * 1024;
  const dstCat = join(dir, 'cat.img');
  const dstCatSync = join(dir, 'cat-sync.img');

  const runs: CopyResult['runs'] = [];
  const contenders = {
    cat: async () => {
      return timeShell('cat "$1" > "$2"', [src, dstCat]);
    },
    catSync: async () => {
      return timeShell('cat "$1" > "$2" && sync "$2"', [src, dstCatSync]);
    },
    activity: async (run: number) => {
      const t0 = performance.now();
      const result: CopyDiskResult = await new MockActivityEnvironment({ attempt: 1 }).run((s: CopySettings, i: CopyDiskInput) => copyDiskToRepository(s, i), settings, {
        diskId: DISK_ID,
        expectedBytes,
        dir: `run-${run}`,
        fileName: 'disk.raw',
      });
      const ms = performance.now() - t0;
      if (result.bytes !== expectedBytes) throw new Error(`copy wrote ${result.bytes} bytes, expected ${expectedBytes}`);
      return ms;
    },
  };
  const names = Object.keys(contenders) as Array<keyof typeof contenders>;
  try {
    // The source is read from the page cache by every contender alike (1 GiB fits); before each one
    // `sync` flushes what an earlier contender left dirty, so nobody pays for another's writeback.
    // (`cat` alone leaves its gigabyte dirty: the sync after it is not timed.)
    timeShell('cat "$1" > /dev/null', [src]);
    for (let run = 1; run <= options.runs; run++) {
      // The order rotates from run to run: none always goes first or right after the others.
      const order = names.map((_, i) => names[(i + run - 1) % names.length]!);
      const ms: Record<string, number> = {};
      for (const name of order) {
        // The disk is left to settle too: right after another contender's gigabyte was fsynced, the
        // activity (which writes back as it goes) is slower than on a rested disk; `cat` + fsync only
        // starts writing after its page-cache phase and is not affected (docs/benchmarks.md, (d)).
        timeShell(`sync && sleep ${settleSeconds}`, []);
        ms[name] = await contenders[name](run);
      }
      // Outputs are deleted only now, then left to settle: the mount has online `discard`, and a
      // contender that ran right after another's 1 GiB was deleted paid for its discard.
      await Promise.all([rm(dstCat, { force: true }), rm(dstCatSync, { force: true }), rm(join(repo, `run-${run}`), { recursive: true, force: true })]);
      timeShell('sync', []);
      const { activity: activityMs, cat: catMs, catSync: catSyncMs } = ms as Record<(typeof names)[number], number>;
      runs.push({
        order: order.join(','),
        activityMs: Math.round(activityMs),
        catMs: Math.round(catMs),
        catSyncMs: Math.round(catSyncMs),
        ratioVsCat: round(catMs / activityMs),
        ratioVsCatSync: round(catSyncMs / activityMs),
      });
      log(
        `  run ${run} (${order.join(', ')}): activity ${(options.mib / (activityMs / 1000)).toFixed(0)} MiB/s, cat ${(options.mib / (catMs / 1000)).toFixed(0)} MiB/s, cat+fsync ${(options.mib / (catSyncMs / 1000)).toFixed(0)} MiB/s → ratio ${(catMs / activityMs).toFixed(3)} (vs cat+fsync ${(catSyncMs / activityMs).toFixed(3)})`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return {
    mib: options.mib,
    chunkBytes: settings.chunkBytes,
    runs,
    activityMiBps: round(options.mib / (median(runs.map((r) => r.activityMs)) / 1000), 1),
    catMiBps: round(options.mib / (median(runs.map((r) => r.catMs)) / 1000), 1),
    ratioVsCatMedian: round(median(runs.map((r) => r.ratioVsCat))),
    ratioVsCatSyncMedian: round(median(runs.map((r) => r.ratioVsCatSync))),
    ratioVsCatSyncMin: round(Math.min(...runs.map((r) => r.ratioVsCatSync))),
    ratioVsCatSyncMax: round(Math.max(...runs.map((r) => r.ratioVsCatSync))),
  };
}
