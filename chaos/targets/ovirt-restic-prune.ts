/**
 * pruneBackups on a restic repository (`restic forget` of each removed backup's snapshots, then one
 * `restic prune`), the copy worker SIGKILLed at every point of it. Before the first case the target
 * makes two backups of the demo VM with ovirtSnapshotBackup and keeps a copy of the repository's
 * folder; every case starts from that copy and prunes with `keepLast: 1`. After each case: no lock
 * left, `restic check` clean, every backup still listed restores (each image read back with
 * `restic dump` hashes as its manifest says), the newest backup is kept, and a completed run left
 * nothing of the one it removed.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { startRestic } from '../../activities/copy/restic/restic-cli';
import { parseResticPath } from '../../activities/copy/restic/restic-locator';
import { listResticBackups } from '../../activities/copy/restic/restic-store';
import type { OvirtBackupManifest } from '../../contracts/ovirt/results';
import { PRUNE_BACKUPS_STEPS } from '../../contracts/retention/steps';
import { copyTaskQueueFor } from '../../lib/temporal/task-queues';
import { createOvirtSimulator, OVIRT_DEMO } from '../../simulators/ovirt';
import { SIM_PASSWORD } from '../../test/helpers/ovirt-harness';
import type { ChaosCluster } from '../cluster';
import type { ChaosTarget, KillPoint } from '../types';
import { chaosResticRepository, describeSnapshot, type ChaosResticRepository, type ResticMode } from './restic-repo';

const ENDPOINT = 'ovirt-chaos-prune';
const BACKUPS = 2;

/** The SHA-256 of a file in a snapshot as `restic dump` gives it back. */
async function dumpedSha256(repo: ChaosResticRepository, snapshotId: string, file: string): Promise<string | undefined> {
  const { child, exited } = startRestic(repo.direct, ['dump', '--no-lock', snapshotId, file]);
  const hash = createHash('sha256');
  child.stdin.end();
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) hash.update(chunk);
  return (await exited).code === 0 ? hash.digest('hex') : undefined;
}

export async function ovirtResticPruneTarget(): Promise<ChaosTarget> {
  const tmp = await mkdtemp(join(tmpdir(), 'chaos-ovirt-restic-prune-'));
  const repo = await chaosResticRepository(join(tmp, 'restic'));
  const pristine = join(tmp, 'restic-pristine');
  const { simulator, state } = await createOvirtSimulator({
    dataDir: join(tmp, 'sim-data'),
    deviceRoot: join(tmp, 'devices'),
    password: SIM_PASSWORD,
    snapshotCreateMs: 100,
    snapshotDeleteMs: 100,
    diskSizes: { os: 1024 * 1024, data: 256 * 1024 },
  });
  await simulator.start(0);
  /** The prepared backups, newest first. */
  let prepared: Array<{ dir: string; manifest: OvirtBackupManifest }> = [];

  const point = (name: string, mode: ResticMode, extra: { afterMs?: number; locked?: boolean } = {}): KillPoint => ({
    name,
    step: 'remove',
    ...(extra.afterMs ? { afterMs: extra.afterMs } : {}),
    arm: () => repo.arm(mode),
    reached: async () => (await repo.reached()) && (!extra.locked || (await repo.lockFiles()) >= 1),
  });

  return {
    workflow: 'pruneBackups',
    simulator,
    clientTimeoutMs: 2_500,
    worker: {
      endpoints: {
        [ENDPOINT]: {
          vendor: 'ovirt',
          url: simulator.apiUrl,
          apiVersion: 'v4',
          timeoutMs: 2_500,
          auth: { type: 'sso', username: 'admin@internal', password: { env: 'CHAOS_OVIRT_PASSWORD' } },
        },
      },
      secrets: { CHAOS_OVIRT_PASSWORD: SIM_PASSWORD },
      copy: {
        taskQueue: copyTaskQueueFor(OVIRT_DEMO.proxyVmId),
        settings: { repositoryRoot: join(tmp, 'repository'), deviceByIdDir: join(tmp, 'devices', 'by-id'), chunkBytes: 64 * 1024, maxBytesPerSecond: 0, restic: repo.settings },
      },
    },

    async prepare(cluster: ChaosCluster) {
      for (let i = 1; i <= BACKUPS; i++) {
        await cluster.client.workflow.execute('ovirtSnapshotBackup', {
          taskQueue: cluster.taskQueue,
          workflowId: `chaos-prune-source-backup-${i}-${Date.now()}`,
          args: [{ endpoint: ENDPOINT, vmId: OVIRT_DEMO.vmId, proxyVmId: OVIRT_DEMO.proxyVmId, pollIntervalMs: 100, description: `chaos prune source ${i}` }],
        });
      }
      prepared = (await listResticBackups(repo.direct, OVIRT_DEMO.vmId)).map((b) => ({ dir: b.dir, manifest: b.manifest }));
      if (prepared.length !== BACKUPS) throw new Error(`chaos prune: ${prepared.length} backups listed after making ${BACKUPS}`);
      await cp(repo.direct.repository, pristine, { recursive: true });
    },

    input: () => ({ proxyVmId: OVIRT_DEMO.proxyVmId, vmId: OVIRT_DEMO.vmId, keepLast: 1 }),
    steps: PRUNE_BACKUPS_STEPS,
    creates: [],
    killPoints: [
      point('restic forget started', 'started:forget'),
      point('a manifest forgotten, the activity not completed', 'done:forget'),
      point('restic prune started', 'started:prune'),
      point('restic prune running (its lock taken)', 'started:prune', { afterMs: 300, locked: true }),
      point('restic prune done, the activity not completed', 'done:prune'),
    ],

    // pruneBackups touches no vendor: what counts is the repository.
    leftovers: async () => [],
    async repository(run) {
      const problems: string[] = [];
      for (const lock of await repo.locks()) problems.push(`restic lock ${lock.id.slice(0, 8)} of pid ${lock.pid} left in the repository`);
      const check = await repo.check();
      if (check) problems.push(`restic check: ${check}`);
      const listed = await listResticBackups(repo.direct, OVIRT_DEMO.vmId);
      // Every backup still listed restores: its images and OVF come back as the manifest says.
      for (const b of listed) {
        for (const file of [...b.manifest.disks.map((d) => ({ path: d.path, sha256: d.sha256 })), { path: b.manifest.config.path, sha256: b.manifest.config.sha256 }]) {
          const at = parseResticPath(file.path);
          const got = at ? await dumpedSha256(repo, at.snapshotId, at.file) : undefined;
          if (got !== file.sha256) problems.push(`kept backup ${b.dir}: ${file.path} reads back as ${got ?? 'nothing'}, its manifest says ${file.sha256}`);
        }
      }
      const newest = prepared[0]!.dir;
      if (!listed.some((b) => b.dir === newest)) problems.push(`the newest backup ${newest} is gone`);
      // What is left of the backups the run removes: none once it completed; a failed run may leave a half-removed one (no manifest: no backup).
      const removedDirs = prepared.slice(1).map((b) => b.dir);
      const remains = (await repo.snapshots()).filter((s) => removedDirs.some((d) => s.paths.some((p) => posix.dirname(p) === `/${d}`)));
      if (run.completed && listed.length !== 1) problems.push(`${listed.length} backups listed after keepLast 1 completed`);
      const left = remains.map(describeSnapshot);
      if (run.completed) problems.push(...left.map((l) => `a removed backup's ${l} is still there`));
      return { problems, left: run.completed ? [] : left };
    },
    duplicates: async () => [],
    async reset() {
      simulator.faults.clear();
      simulator.calls.clear();
      state.reset();
      await repo.arm(undefined);
      if (prepared.length) {
        await rm(repo.direct.repository, { recursive: true, force: true });
        await cp(pristine, repo.direct.repository, { recursive: true });
      }
      await repo.mark();
    },
    async stop() {
      await simulator.stop();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}
