/**
 * A restic repository for the chaos targets, and what they read back after each case: `restic check`,
 * the locks left, the snapshots a case made. The copy worker runs restic through a wrapper script that
 * is the real restic (`exec`) except in the one case armed for a kill point (ResticMode):
 *  - `started:<command>`: e.g. a disk's `restic backup --stdin` has started (it marks, then execs restic);
 *  - `done:<command>`: e.g. restic saved the snapshot of a disk (or the manifest), or a forget or a prune
 *    ended, and exited 0, and the wrapper holds that exit back: the copy worker has not seen it, the
 *    activity has not completed.
 * An armed mode fires once (the wrapper claims it by renaming the file), so the retry runs restic plainly.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runRestic, type ResticSettings } from '../../activities/copy/restic/restic-cli';
import { parseResticPath } from '../../activities/copy/restic/restic-locator';
import { findPinnedRestic } from '../../activities/copy/restic/restic-path';
import { sizeInSnapshot } from '../../activities/copy/restic/restic-store';
import type { OvirtIncrementalManifest } from '../../contracts/ovirt/incremental-results';
import type { OvirtBackupManifest } from '../../contracts/ovirt/results';
import type { ChaosTarget, KillPoint } from '../types';

export const CHAOS_RESTIC_PASSWORD = 'chaos-restic-Pa55phrase';

/** What the wrapper tells apart: a disk's or a manifest's backup, a dump of an image, a forget, a prune. */
export type ResticCommand = 'backup-disk' | 'backup-manifest' | 'dump-image' | 'forget' | 'prune';
/** `started:` marks as restic starts (then runs it plainly); `done:` marks once it exited 0, and holds that exit back. */
export type ResticMode = `started:${ResticCommand}` | `done:${ResticCommand}`;

export interface ResticSnapshot {
  id: string;
  short_id: string;
  time: string;
  paths: string[];
  tags?: string[];
  summary?: { total_bytes_processed?: number };
}

const tag = (s: ResticSnapshot, name: string): string | undefined => s.tags?.find((t) => t.startsWith(`${name}:`))?.slice(name.length + 1);

export interface ChaosResticRepository {
  /** What the copy worker gets: the wrapper as its binary. */
  settings: ResticSettings;
  /** The same repository with the real restic, for the runner's own reads. */
  direct: ResticSettings;
  arm(mode: ResticMode | undefined): Promise<void>;
  reached(): Promise<boolean>;
  /** Lock files in the repository (read from its folder: no restic run, no lock of its own). */
  lockFiles(): Promise<number>;
  snapshots(): Promise<ResticSnapshot[]>;
  /** Undefined when `restic check` is clean, else what it said. */
  check(): Promise<string | undefined>;
  /** Lock files in the repository, as "id (pid P)". */
  locks(): Promise<Array<{ id: string; pid: number }>>;
  /** A live restic (a `backup --stdin` kept open) holding a lock; `release` ends it normally. */
  holdLiveLock(): Promise<{ lockId: string; pid: number; release(): Promise<void> }>;
  /** Snapshots made since `mark` (the chaos holder's aside). */
  mark(): Promise<void>;
  since(): Promise<ResticSnapshot[]>;
  remove(): Promise<void>;
}

export async function chaosResticRepository(dir: string): Promise<ChaosResticRepository> {
  const real = findPinnedRestic();
  if (!real) throw new Error('the restic chaos targets need restic (RESTIC_PATH, PATH or .tools/restic; scripts/install-restic.sh)');
  const ctrl = join(dir, 'restic-ctrl');
  await mkdir(ctrl, { recursive: true });
  const wrapper = join(dir, 'restic-chaos.sh');
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  await writeFile(
    wrapper,
    `#!/bin/sh
# chaos: the real restic, marked at the kill point armed in $CTRL/mode (fires once)
REAL=${q(real)}
CTRL=${q(ctrl)}
claim() { [ -f "$CTRL/mode" ] && [ "$(cat "$CTRL/mode")" = "$1" ] && mv "$CTRL/mode" "$CTRL/fired" 2>/dev/null; }
cmd=$1
case "$1 $*" in
  "backup "*kind:disk*) cmd=backup-disk ;;
  "backup "*kind:manifest*) cmd=backup-manifest ;;
  "dump "*.raw|"dump "*.qcow2) cmd=dump-image ;;
esac
if claim "started:$cmd"; then touch "$CTRL/reached"; fi
if claim "done:$cmd"; then
  /usr/bin/setpriv --pdeathsig KILL -- "$REAL" "$@"
  rc=$?
  if [ $rc -ne 0 ]; then exit $rc; fi
  touch "$CTRL/reached"
  exec sleep 120
fi
exec "$REAL" "$@"
`,
  );
  await chmod(wrapper, 0o755);
  const direct: ResticSettings = { repository: join(dir, 'restic-repo'), password: CHAOS_RESTIC_PASSWORD, binary: real, host: 'chaos-proxy' };
  await runRestic(direct, ['init']);
  const exists = (path: string) =>
    stat(path).then(
      () => true,
      () => false,
    );
  let baseline = new Set<string>();

  const locks = async () => {
    const ids = (await runRestic(direct, ['list', 'locks', '--no-lock'])).split('\n').filter(Boolean);
    const found: Array<{ id: string; pid: number }> = [];
    for (const id of ids) {
      try {
        found.push({ id, pid: (JSON.parse(await runRestic(direct, ['cat', 'lock', id, '--no-lock'])) as { pid: number }).pid });
      } catch {
        // Gone between the list and the read: its process ended.
      }
    }
    return found;
  };
  const snapshots = async () => (JSON.parse((await runRestic(direct, ['snapshots', '--json', '--no-lock'])) || '[]') as ResticSnapshot[] | null) ?? [];
  return {
    settings: { ...direct, binary: wrapper },
    direct,
    async arm(mode) {
      await rm(join(ctrl, 'reached'), { force: true });
      await rm(join(ctrl, 'fired'), { force: true });
      if (mode) await writeFile(join(ctrl, 'mode.tmp'), mode).then(() => rename(join(ctrl, 'mode.tmp'), join(ctrl, 'mode')));
      else await rm(join(ctrl, 'mode'), { force: true });
    },
    reached: () => exists(join(ctrl, 'reached')),
    lockFiles: () =>
      readdir(join(direct.repository, 'locks')).then(
        (f) => f.length,
        () => 0,
      ),
    snapshots,
    async check() {
      try {
        await runRestic(direct, ['check']);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
    locks,
    async holdLiveLock() {
      const child = spawn(real, ['backup', '--stdin', '--stdin-filename', 'chaos/live-lock-holder', '--tag', 'kind:chaos-holder', '--host', 'chaos-proxy', '--quiet'], {
        env: { ...process.env, RESTIC_REPOSITORY: direct.repository, RESTIC_PASSWORD: CHAOS_RESTIC_PASSWORD },
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      child.stderr.resume();
      const exited = once(child, 'close');
      const deadline = Date.now() + 20_000;
      for (;;) {
        const mine = (await locks()).find((l) => l.pid === child.pid);
        if (mine) {
          return {
            lockId: mine.id,
            pid: child.pid!,
            async release() {
              child.stdin.end('held\n');
              const [code] = (await exited) as [number | null];
              if (code !== 0) throw new Error(`the live lock holder (restic pid ${child.pid}) ended with ${code}: its lock was taken from it`);
            },
          };
        }
        if (Date.now() > deadline || child.exitCode !== null) {
          child.kill('SIGKILL');
          throw new Error('the live lock holder did not take its lock');
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async mark() {
      baseline = new Set((await snapshots()).map((s) => s.id));
    },
    async since() {
      return (await snapshots()).filter((s) => !baseline.has(s.id) && tag(s, 'kind') !== 'chaos-holder');
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The size of the snapshot's one file: restic's summary (≥ 0.17), else `restic ls` (older snapshots have no summary). */
export async function storedBytes(repo: ChaosResticRepository, s: ResticSnapshot): Promise<number | undefined> {
  return s.summary?.total_bytes_processed ?? sizeInSnapshot(repo.direct, { snapshotId: s.id, file: s.paths[0]! });
}

export function describeSnapshot(s: ResticSnapshot): string {
  const bytes = s.summary?.total_bytes_processed;
  return `${tag(s, 'kind') ?? '?'} snapshot ${s.short_id} of run ${tag(s, 'run')?.slice(-12) ?? '?'}${tag(s, 'disk') ? ` disk ${tag(s, 'disk')}` : ''} (${s.paths[0]}${bytes !== undefined ? `, ${bytes} bytes` : ''})`;
}

type RepositoryChecks = Pick<ChaosTarget, 'killPoints' | 'repository'>;

/** The locks and `restic check` after a case; the live holder's lock must have survived the run. */
async function lockAndCheckProblems(repo: ChaosResticRepository, holder: LiveLock | undefined): Promise<string[]> {
  const problems: string[] = [];
  if (holder) {
    if (!(await repo.locks()).some((l) => l.id === holder.lockId)) problems.push(`the lock of a live restic (pid ${holder.pid}) was removed`);
    await holder.release().catch((err: Error) => problems.push(err.message));
  }
  for (const lock of await repo.locks()) problems.push(`restic lock ${lock.id.slice(0, 8)} of pid ${lock.pid} left in the repository`);
  const check = await repo.check();
  if (check) problems.push(`restic check: ${check}`);
  return problems;
}

/** The part of a backup's manifest the checks read: its config file and its disks' snapshots. */
interface StoredManifest {
  config?: { path?: string };
  disks: Array<{ id: string; resticSnapshotId?: string }>;
}

/**
 * A case's snapshots against its run's outcome: a failed run left no manifest; a completed run's
 * newest manifest names snapshots this run made, each image `imageBytes` long; what no manifest
 * names is listed (a complete image among them said to be one).
 */
async function manifestChecks<M extends StoredManifest>(repo: ChaosResticRepository, completed: boolean, problems: string[], imageBytes: (disk: M['disks'][number]) => number) {
  const made = await repo.since();
  const manifests = made.filter((s) => tag(s, 'kind') === 'manifest').sort((a, b) => b.time.localeCompare(a.time));
  if (!completed) {
    for (const m of manifests) problems.push(`a failed run left a manifest: ${describeSnapshot(m)}`);
    return { problems, left: made.map(describeSnapshot) };
  }
  const newest = manifests[0];
  if (!newest) return { problems: [...problems, 'the completed run stored no manifest'], left: made.map(describeSnapshot) };
  const manifest = JSON.parse(await runRestic(repo.direct, ['dump', '--no-lock', newest.id, newest.paths[0]!])) as M;
  const named = new Set<string>([newest.id]);
  const config = parseResticPath(manifest.config?.path)?.snapshotId;
  const configSnapshot = config ? made.find((s) => s.id.startsWith(config)) : undefined;
  if (configSnapshot) named.add(configSnapshot.id);
  for (const disk of manifest.disks) {
    const snapshot = disk.resticSnapshotId ? made.find((s) => s.id.startsWith(disk.resticSnapshotId!)) : undefined;
    if (!snapshot) problems.push(`the manifest names snapshot ${disk.resticSnapshotId ?? 'none'} for disk ${disk.id}, which this run did not make`);
    else if ((await storedBytes(repo, snapshot)) !== imageBytes(disk)) problems.push(`the manifest names ${describeSnapshot(snapshot)} for disk ${disk.id} of ${imageBytes(disk)} bytes`);
    else named.add(snapshot.id);
  }
  const left: string[] = [];
  for (const s of made.filter((x) => !named.has(x.id))) {
    const disk = manifest.disks.find((d) => d.id === tag(s, 'disk'));
    left.push(`${describeSnapshot(s)}${disk && (await storedBytes(repo, s)) === imageBytes(disk) ? ', a complete copy the manifest does not name' : ''}`);
  }
  return { problems, left };
}

type LiveLock = Awaited<ReturnType<ChaosResticRepository['holdLiveLock']>>;

/**
 * For the backup target: SIGKILL of the copy worker when a disk's `restic backup --stdin` starts,
 * while it streams with a live restic holding a lock (its lock must survive the retry's unlock),
 * once a disk's snapshot and once the manifest's snapshot is saved (before the activity completes);
 * after each case the repository: no lock left, `restic check` clean, a completed run's manifest
 * names complete images, a failed run left no manifest, and what no manifest names is listed.
 */
export function resticBackupChecks(repo: ChaosResticRepository): RepositoryChecks {
  let holder: LiveLock | undefined;
  const point = (name: string, step: string, mode: ResticMode, extra: { afterMs?: number; liveLock?: boolean; locked?: boolean } = {}): KillPoint => ({
    name,
    step,
    ...(extra.afterMs ? { afterMs: extra.afterMs } : {}),
    async arm() {
      await repo.arm(mode);
      if (extra.liveLock) holder = await repo.holdLiveLock();
    },
    // `locked`: restic has opened the repository and taken its lock (beside the holder's), so it is reading its input.
    reached: async () => (await repo.reached()) && (!extra.locked || (await repo.lockFiles()) >= (extra.liveLock ? 2 : 1)),
  });
  return {
    killPoints: [
      point('restic backup started', 'copy', 'started:backup-disk'),
      point('restic backup streaming (its lock taken), a live restic holding another lock', 'copy', 'started:backup-disk', { afterMs: 100, liveLock: true, locked: true }),
      point('disk snapshot saved, activity not completed', 'copy', 'done:backup-disk'),
      point('manifest snapshot saved, activity not completed', 'delete', 'done:backup-manifest'),
    ],
    async repository(run) {
      const problems = await lockAndCheckProblems(repo, holder);
      holder = undefined;
      return manifestChecks<OvirtBackupManifest>(repo, run.completed, problems, (disk) => disk.bytes);
    },
  };
}

/** For the restore targets: SIGKILL when an image's `restic dump` starts, and once it reads (its lock taken); after each case no lock left, `restic check` clean, nothing stored. */
export function resticRestoreChecks(repo: ChaosResticRepository, options: { writes: boolean }): RepositoryChecks {
  return {
    killPoints: [
      { name: 'restic dump started', step: 'write', arm: () => repo.arm('started:dump-image'), reached: () => repo.reached() },
      {
        name: 'restic dump streaming (its lock taken)',
        step: 'write',
        afterMs: 100,
        arm: () => repo.arm('started:dump-image'),
        reached: async () => (await repo.reached()) && (await repo.lockFiles()) >= 1,
      },
    ],
    async repository() {
      const problems = await lockAndCheckProblems(repo, undefined);
      // A drill records its verdict (the manifest stored again); a restore stores nothing.
      const made = (await repo.since()).filter((s) => !(options.writes && tag(s, 'kind') === 'manifest'));
      return { problems, left: made.map(describeSnapshot) };
    },
  };
}

/**
 * For the incremental chains in restic (`ovirt-incremental-restic`): SIGKILL of the copy worker (and
 * the main one) when a chain point's `restic backup --stdin` starts, while it streams (its lock
 * taken), while the parent point's `restic dump` streams into it, and once the point's snapshot is
 * saved before the activity completes (the retry adopts it); after each case no lock left, `restic
 * check` clean, a failed run left no manifest, a completed run's manifest names whole images this
 * run made, and what no manifest names is listed.
 */
export function resticChainChecks(repo: ChaosResticRepository): RepositoryChecks {
  const point = (name: string, mode: ResticMode, extra: { afterMs?: number; locked?: boolean } = {}): KillPoint => ({
    name,
    step: 'copy',
    ...(extra.afterMs ? { afterMs: extra.afterMs } : {}),
    arm: () => repo.arm(mode),
    reached: async () => (await repo.reached()) && (!extra.locked || (await repo.lockFiles()) >= 1),
  });
  return {
    killPoints: [
      point('chain point: restic backup started', 'started:backup-disk'),
      point('chain point: restic backup streaming (its lock taken)', 'started:backup-disk', { afterMs: 100, locked: true }),
      point("chain point: the parent's restic dump streaming (its lock taken)", 'started:dump-image', { afterMs: 100, locked: true }),
      point('chain point: its snapshot saved, activity not completed', 'done:backup-disk'),
    ],
    async repository(run) {
      const problems = await lockAndCheckProblems(repo, undefined);
      // A chain point's image is the whole disk (a synthetic full), however little changed.
      return manifestChecks<OvirtIncrementalManifest>(repo, run.completed, problems, (disk) => disk.provisionedSize);
    },
  };
}
