/**
 * The keep rules against restic itself: a restic repository of snapshots spread over three
 * simulated years (bursts within an hour, quiet weeks, ISO-week year ends, daylight-saving
 * changes), then for many seeded rule combinations `restic forget --dry-run --keep-* --json` and
 * decideRetention must keep the same snapshots for the same reasons.
 *
 * Needs restic ≥ 0.16 (the "keep the oldest while counts are left" rule; Debian 12's package is 0.14):
 * RESTIC_BIN, else RESTIC_PATH, .tools/restic/bin/restic (where scripts/install-restic.sh builds the pinned one), else restic on PATH. Without one the test is skipped and says why.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decideRetention, KEEP_RULES, type KeepRules } from '../../contracts/retention/keep-rules';
import { params, runsFor, SEED } from '../fuzz/kit';

const run = promisify(execFile);
const TIME_ZONE = 'Europe/Berlin';

function findRestic(): { bin?: string; version?: [number, number]; why?: string } {
  // RESTIC_BIN, when set, is the one meant (RESTIC_BIN=none: skip).
  const candidates = process.env.RESTIC_BIN ? [process.env.RESTIC_BIN] : [process.env.RESTIC_PATH, resolve('.tools/restic/bin/restic'), 'restic'].filter((b): b is string => !!b);
  const seen: string[] = [];
  for (const bin of candidates) {
    if (bin.includes('/') && !existsSync(bin)) continue;
    let out: string;
    try {
      out = execFileSync(bin, ['version'], { encoding: 'utf8' });
    } catch {
      continue;
    }
    const m = /restic (\d+)\.(\d+)/.exec(out);
    const version: [number, number] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
    if (version[0] > 0 || version[1] >= 16) return { bin, version };
    seen.push(`${bin} is ${out.trim().split(' ').slice(0, 2).join(' ')}`);
  }
  if (seen.length) return { why: `needs restic ≥ 0.16, which keeps the oldest snapshot while a rule has count left (${seen.join('; ')})` };
  return { why: `restic is not installed (${process.env.RESTIC_BIN ? `RESTIC_BIN=${process.env.RESTIC_BIN}` : 'RESTIC_PATH, .tools/restic/bin/restic, PATH'}); see README: Retention` };
}

const restic = findRestic();
if (!restic.bin) console.log(`restic forget property test skipped: ${restic.why}`);

/** Wall-clock times "YYYY-MM-DD HH:MM:SS" over 2023–2025, distinct, from a fixed seed. */
function snapshotTimes(): string[] {
  const day = 86_400_000;
  const start = Date.UTC(2023, 0, 1);
  const span = 3 * 365 * day;
  const uniform = fc.sample(fc.integer({ min: 0, max: span / 1000 }), { seed: SEED, numRuns: 100 }).map((s) => start + s * 1000);
  // Bursts: several backups within a day, some within one hour.
  const bursts = fc
    .sample(fc.tuple(fc.integer({ min: 0, max: 3 * 365 - 1 }), fc.array(fc.integer({ min: 0, max: 3 * 3600 }), { minLength: 2, maxLength: 6 })), { seed: SEED + 1, numRuns: 14 })
    .flatMap(([d, offsets]) => offsets.map((o) => start + d * day + 8 * 3600_000 + o * 1000));
  // ISO weeks across year ends, and the nights of daylight-saving changes in Berlin.
  const edges = [
    '2023-12-31 23:10:00',
    '2024-01-01 00:20:00',
    '2024-12-29 12:00:00',
    '2024-12-30 12:00:00',
    '2025-01-05 22:00:00',
    '2025-01-06 01:00:00',
    '2024-03-31 01:30:00',
    '2024-03-31 03:30:00',
    '2024-10-27 01:30:00',
    '2024-10-27 03:30:00',
  ];
  const wall = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 19);
  return [...new Set([...uniform, ...bursts].map(wall).concat(edges))].sort();
}

const OPTION: Record<(typeof KEEP_RULES)[number], string> = {
  keepLast: '--keep-last',
  keepHourly: '--keep-hourly',
  keepDaily: '--keep-daily',
  keepWeekly: '--keep-weekly',
  keepMonthly: '--keep-monthly',
  keepYearly: '--keep-yearly',
};

interface ResticSnapshot {
  id: string;
  time: string;
}

describe.skipIf(!restic.bin)('keep rules match restic forget', () => {
  // tmpfs where there is one: restic fsyncs every file it writes.
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'restic-forget-'));
  const env = { ...process.env, TZ: TIME_ZONE, RESTIC_REPOSITORY: join(dir, 'repo'), RESTIC_PASSWORD: 'property-test', RESTIC_CACHE_DIR: join(dir, 'cache') };
  const resticRun = async (args: string[], input?: string) => {
    const child = run(restic.bin!, args, { env, maxBuffer: 64 * 1024 * 1024 });
    if (input !== undefined) {
      child.child.stdin!.end(input);
    }
    return (await child).stdout;
  };
  let snapshots: ResticSnapshot[] = [];

  beforeAll(async () => {
    await resticRun(['init', '--quiet']);
    // Each restic call derives its key (scrypt, most of a second): a few at a time; backups share the repository's lock.
    const times = snapshotTimes();
    const backupOne = async (): Promise<void> => {
      const time = times.pop();
      if (time === undefined) return;
      await resticRun(['backup', '--quiet', '--no-scan', '--host', 'vm-1', '--stdin', '--stdin-filename', 'disk.img', '--time', time], time);
      return backupOne();
    };
    await Promise.all([backupOne(), backupOne(), backupOne()]);
    snapshots = (JSON.parse(await resticRun(['snapshots', '--json'])) as ResticSnapshot[]).map(({ id, time }) => ({ id, time }));
  }, 600_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the same snapshots are kept, for the same reasons, for seeded random rules', async () => {
    expect(snapshots.length).toBeGreaterThan(130);
    const counts = fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined, freq: 2 });
    const rules = fc.record({
      keepLast: counts,
      keepHourly: counts,
      keepDaily: counts,
      keepWeekly: counts,
      keepMonthly: counts,
      keepYearly: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    });
    // Which backup is the newest good one (the newer ones are incomplete), the newest verified one, the one whose run is open: by age.
    const safetyFlags = fc.record({ goodFrom: fc.nat(5), verifiedAt: fc.nat(snapshots.length - 1), openAt: fc.nat(snapshots.length - 1) });
    const candidates = snapshots.map((s) => ({ id: s.id, time: s.time, vmId: 'vm-1', good: false, verified: false, runOpen: false }));
    // Reasons are compared from restic 0.18, which says "oldest daily snapshot" where 0.16 says "daily snapshot".
    const sameReasons = restic.version![0] > 0 || restic.version![1] >= 18;
    await fc.assert(
      fc.asyncProperty(rules, safetyFlags, async (raw, safety) => {
        const keep = Object.fromEntries(Object.entries(raw).filter(([, n]) => n !== undefined)) as KeepRules;
        fc.pre(Object.keys(keep).length > 0);
        const args = Object.entries(keep).flatMap(([rule, n]) => [OPTION[rule as keyof typeof OPTION], String(n)]);
        const groups = JSON.parse(await resticRun(['forget', '--dry-run', '--json', ...args])) as Array<{ keep: ResticSnapshot[]; reasons: Array<{ snapshot: ResticSnapshot; matches: string[] }> }>;
        const theirs = new Map(groups.flatMap((g) => g.reasons.map((r) => [r.snapshot.id, r.matches.map((m) => m.replace(/ snapshot$/, ' backup'))] as const)));
        const ours = decideRetention(candidates, keep, { timeZone: TIME_ZONE });
        expect(ours.kept.map((k) => k.id).sort(), `kept for ${args.join(' ')}`).toEqual([...theirs.keys()].sort());
        if (sameReasons) for (const k of ours.kept) expect(k.reasons, `reasons for ${k.time} with ${args.join(' ')}`).toEqual(theirs.get(k.id));

        // The safety rules add exactly the newest good, the newest verified and the open backups to what restic keeps.
        const byAge = [...candidates].sort((x, y) => Date.parse(y.time) - Date.parse(x.time));
        const pick = (n: number) => byAge[Math.min(n, byAge.length - 1)]!.id;
        const [goodFrom, verifiedAt, openAt] = [safety.goodFrom, safety.verifiedAt, safety.openAt].map(pick) as [string, string, string];
        const goodFromIndex = byAge.findIndex((c) => c.id === goodFrom);
        const flagged = candidates.map((c) => ({
          ...c,
          good: byAge.indexOf(c) >= goodFromIndex,
          verified: c.id === verifiedAt || byAge.indexOf(c) > byAge.findIndex((x) => x.id === verifiedAt) + 40,
          runOpen: c.id === openAt,
        }));
        const safe = decideRetention(flagged, keep, { timeZone: TIME_ZONE });
        expect(safe.kept.map((k) => k.id).sort(), `kept with safety rules for ${args.join(' ')}`).toEqual([...new Set([...theirs.keys(), goodFrom, verifiedAt, openAt])].sort());
      }),
      params(runsFor(30)),
    );
  }, 600_000);
});
