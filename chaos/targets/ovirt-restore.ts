/**
 * ovirtRestore and ovirtRestoreDrill against the oVirt simulator, with the copy worker for the demo
 * proxy VM. Before the first case the target makes the backup they restore with the real backup
 * workflow on the cluster's worker: the simulator's reset regenerates the demo disks byte for byte,
 * so that backup of the pristine demo VM stays valid (and is checked to) across every case. With
 * `restic: true` (the `ovirt-restic-restore` and `ovirt-restic-drill` targets) the copy worker's
 * repository is a restic repository: images come back through `restic dump` (restic-repo.ts).
 * With `chain: true` (the `ovirt-incremental-restore` target) the backup restored is the middle
 * point of an incremental chain (full, incremental, incremental made by ovirtIncrementalBackup), so
 * the write composes the full and a delta while it streams; the copy worker runs in its own process
 * (as on a proxy VM) so a case kills it alone mid-write, and after each completed case every
 * restored disk must hash to the point's `imageSha256` (the source disk at that point's time).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OvirtIncrementalManifest } from '../../contracts/ovirt/incremental-results';
import type { OvirtBackupManifest, OvirtRestoreResult } from '../../contracts/ovirt/results';
import { OVIRT_DRILL_STEPS, OVIRT_RESTORE_STEPS } from '../../contracts/ovirt/steps';
import { copyTaskQueueFor } from '../../lib/temporal/task-queues';
import { BITMAP_GRANULARITY, createOvirtSimulator, OVIRT_DEMO } from '../../simulators/ovirt';
import { SIM_PASSWORD } from '../../test/helpers/ovirt-harness';
import type { ChaosCluster } from '../cluster';
import type { ChaosTarget } from '../types';
import { CreationCounter } from './count';
import { chaosResticRepository, resticRestoreChecks } from './restic-repo';

const TIMEOUT_MS = 2_500;
const ENDPOINT = 'ovirt-chaos-restore';
/** What every object a restore creates carries at the start of its description (restoreTag). */
const TAG = /^\[backup-orchestrator restore ([^\]]+)\]/;
/** The storage domain's state for the full-domain cases. */
const FULL = 'storage domain full';

type Kind = 'restore' | 'drill';

/** The target, and what a test reads besides: a disk's content as the simulator holds it. */
export type OvirtRestoreChaosTarget = ChaosTarget & { diskContentSha256(diskId: string): Promise<string> };

async function restoreTarget(kind: Kind, options: { restic?: boolean; chain?: boolean } = {}): Promise<OvirtRestoreChaosTarget> {
  const tmp = await mkdtemp(join(tmpdir(), `chaos-ovirt-${options.restic ? 'restic-' : ''}${options.chain ? 'chain-' : ''}${kind}-`));
  const restic = options.restic ? await chaosResticRepository(join(tmp, 'restic')) : undefined;
  const { simulator, state, imageioCaFile } = await createOvirtSimulator({
    dataDir: join(tmp, 'sim-data'),
    deviceRoot: join(tmp, 'devices'),
    password: SIM_PASSWORD,
    snapshotCreateMs: 300,
    snapshotDeleteMs: 200,
    diskCreateMs: 300,
    vmCreateMs: 300,
    vmBootMs: 400,
    diskSizes: { os: 1024 * 1024, data: 256 * 1024 },
    ...(options.chain ? { backupTimings: { backupStartMs: 100, backupFinalizeMs: 100, transferStartMs: 50, transferFinalizeMs: 50 } } : {}),
  });
  await simulator.start(0);

  // Per run (tag) and source disk: a restored disk each; per run: one VM.
  const created = new CreationCounter();
  created.watch(state, 'createDisk', (input: { description?: string }) => {
    const run = TAG.exec(input.description ?? '')?.[1];
    return run ? `restored disk of ${/restored from disk (\S+)/.exec(input.description!)?.[1] ?? '?'} in run ${run}` : `disk ${input.description ?? ''}`;
  });
  created.watch(state, 'createVm', (input: { name: string; description?: string }) => `VM of run ${TAG.exec(input.description ?? '')?.[1] ?? `? (${input.name})`}`);

  const tagged = <T extends { description: string }>(items: Iterable<T>) => [...items].filter((x) => TAG.test(x.description));
  let backupDir: string | undefined;
  /** A chain point's disks as they were at its time (the source's SHA-256s), by disk id. */
  let pointSha256: Map<string, string> | undefined;
  let cluster: ChaosCluster | undefined;

  /**
   * The chain the `chain` target restores from: a full, then two incrementals after guest writes.
   * Its middle point is restored by every case (after a reset the disks differ from it: the restore
   * must compose the point, not copy what the disk holds now).
   */
  async function prepareChain(c: ChaosCluster): Promise<void> {
    const points: OvirtIncrementalManifest[] = [];
    const shas: Array<Map<string, string>> = [];
    for (let i = 0; i < 3; i++) {
      if (i > 0) for (let b = 0; b < 4; b++) await state.writeDiskRange(OVIRT_DEMO.osDiskId, (i * 5 + b) * BITMAP_GRANULARITY, BITMAP_GRANULARITY);
      const before = new Map<string, string>();
      for (const id of [OVIRT_DEMO.osDiskId, OVIRT_DEMO.dataDiskId]) before.set(id, await state.diskContentSha256(id));
      const m = (await c.client.workflow.execute('ovirtIncrementalBackup', {
        taskQueue: c.taskQueue,
        workflowId: `chaos-chain-${kind}-point-${i}-${Date.now()}`,
        args: [{ endpoint: ENDPOINT, vmId: OVIRT_DEMO.vmId, proxyVmId: OVIRT_DEMO.proxyVmId, pollIntervalMs: 100, description: `chaos chain ${kind} point ${i}` }],
      })) as OvirtIncrementalManifest;
      if (m.backup.mode !== (i === 0 ? 'full' : 'incremental')) throw new Error(`chaos chain ${kind}: point ${i} is a ${m.backup.mode}`);
      for (const d of m.disks) if (d.imageSha256 !== before.get(d.id)) throw new Error(`chaos chain ${kind}: point ${i} recorded ${d.imageSha256} for disk ${d.id}, the disk held ${before.get(d.id)}`);
      points.push(m);
      shas.push(new Map(m.disks.map((d) => [d.id, d.imageSha256])));
    }
    backupDir = points[1]!.repository.dir;
    pointSha256 = shas[1];
  }

  /** A completed case's restored disks hold the point's bytes (counted with the leftovers when not). */
  async function pointRestored(run: { completed: boolean; workflowId: string }): Promise<string[]> {
    if (!run.completed || kind !== 'restore' || !cluster || !pointSha256) return [];
    const result = (await cluster.client.workflow.getHandle(run.workflowId).result()) as OvirtRestoreResult;
    const problems: string[] = [];
    if (result.disks.length !== pointSha256.size) problems.push(`restored ${result.disks.length} disk(s), the point holds ${pointSha256.size}`);
    for (const d of result.disks) {
      const want = pointSha256.get(d.sourceDiskId);
      const got = await state.diskContentSha256(d.diskId);
      if (got !== want) problems.push(`restored disk ${d.name} (${d.diskId}) hashes to ${got}, the point's imageSha256 is ${want}`);
    }
    return problems;
  }

  return {
    workflow: kind === 'restore' ? 'ovirtRestore' : 'ovirtRestoreDrill',
    simulator,
    clientTimeoutMs: TIMEOUT_MS,
    worker: {
      endpoints: {
        [ENDPOINT]: {
          vendor: 'ovirt',
          url: simulator.apiUrl,
          apiVersion: 'v4',
          timeoutMs: TIMEOUT_MS,
          auth: { type: 'sso', username: 'admin@internal', password: { env: 'CHAOS_OVIRT_PASSWORD' } },
        },
      },
      secrets: { CHAOS_OVIRT_PASSWORD: SIM_PASSWORD },
      copy: {
        taskQueue: copyTaskQueueFor(OVIRT_DEMO.proxyVmId),
        settings: {
          repositoryRoot: join(tmp, 'repository'),
          deviceByIdDir: join(tmp, 'devices', 'by-id'),
          deviceDir: join(tmp, 'devices'),
          chunkBytes: 64 * 1024,
          maxBytesPerSecond: 2 * 1024 * 1024,
          ...(restic ? { restic: restic.settings } : {}),
          ...(options.chain ? { imageioCaFile } : {}),
        },
        ...(options.chain ? { ownProcess: true } : {}),
      },
    },

    async prepare(c: ChaosCluster) {
      cluster = c;
      if (options.chain) return prepareChain(c);
      const manifest = (await c.client.workflow.execute('ovirtSnapshotBackup', {
        taskQueue: c.taskQueue,
        workflowId: `chaos-${kind}-source-backup-${Date.now()}`,
        args: [{ endpoint: ENDPOINT, vmId: OVIRT_DEMO.vmId, proxyVmId: OVIRT_DEMO.proxyVmId, pollIntervalMs: 100, description: `chaos ${kind} source` }],
      })) as OvirtBackupManifest;
      state.reset();
      for (const disk of manifest.disks) {
        const now = await state.diskContentSha256(disk.id);
        if (now !== disk.sha256) throw new Error(`chaos ${kind}: after a reset disk ${disk.id} holds ${now}, not the backed-up ${disk.sha256}: the backup would not stand for the demo VM`);
      }
      backupDir = manifest.repository.dir;
    },

    input() {
      if (!backupDir) throw new Error(`chaos ${kind}: no backup yet (prepare() makes it)`);
      return {
        endpoint: ENDPOINT,
        backup: backupDir,
        vmId: OVIRT_DEMO.vmId,
        proxyVmId: OVIRT_DEMO.proxyVmId,
        cluster: OVIRT_DEMO.clusterName,
        pollIntervalMs: 100,
        ...(kind === 'drill' ? { boot: true } : {}),
      };
    },
    steps: kind === 'restore' ? OVIRT_RESTORE_STEPS : OVIRT_DRILL_STEPS,
    longSteps: { write: 250 },
    // The copy worker's process alone, killed while it composes and writes the chain point.
    ...(options.chain ? { extraCases: [{ kind: 'worker-sigkill', step: 'write', afterMs: 250, worker: 'copy' }] } : {}),
    ...(options.chain ? { afterCase: pointRestored } : {}),
    ...(restic ? resticRestoreChecks(restic, { writes: kind === 'drill' }) : {}),
    creates: [
      { method: 'POST', path: '/disks' },
      { method: 'POST', path: '/vms' },
      { method: 'POST', path: '/vms/:p1/diskattachments' },
    ],
    // Full before the run (the preflight refuses, nothing made) and filling up once the disks are being made (the create is refused, the run undone).
    vendorStates: [{ state: FULL }, { state: FULL, step: 'disks' }],
    arrange(what) {
      if (what !== FULL) throw new Error(`chaos ${kind}: no vendor state "${what}"`);
      state.setStorageDomainFree(OVIRT_DEMO.storageDomainId, 0);
    },
    expireSessions: () => state.expireAllTokens(),

    async leftovers(run) {
      // From the state, not the REST API: a fault rule the run left unspent must not fault the check.
      const attached = state
        .attachmentsOf(OVIRT_DEMO.proxyVmId)
        .filter((a) => a.diskId !== OVIRT_DEMO.proxyBootDiskId)
        .map((a) => `disk ${a.diskId} attached to the proxy VM`);
      // A completed restore keeps its VM and the disks attached to it; a drill keeps nothing, nor does a failed run.
      const keeps = kind === 'restore' && run.completed;
      const vms = tagged(state.listVms());
      const keptVms = keeps ? vms : [];
      const disks = tagged(state.disks.values()).filter((d) => !keptVms.some((vm) => state.attachmentsOf(vm.id).some((a) => a.diskId === d.id)));
      return [
        ...attached,
        ...vms.filter((vm) => !keptVms.includes(vm)).map((vm) => `VM ${vm.name} (${vm.status}) "${vm.description}"`),
        ...disks.map((d) => `disk ${d.name} (${state.diskStatus(d)}) "${d.description}"${keeps ? ' not attached to the restored VM' : ''}`),
      ];
    },
    duplicates: async () => created.duplicates(),
    async reset() {
      simulator.faults.clear();
      simulator.calls.clear();
      state.reset();
      // Every case starts by logging in again, so the token endpoint is a call the matrix covers.
      state.expireAllTokens();
      created.reset();
      await restic?.arm(undefined);
      await restic?.mark();
    },
    diskContentSha256: (diskId) => state.diskContentSha256(diskId),
    async stop() {
      await simulator.stop();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

export const ovirtRestoreTarget = () => restoreTarget('restore');
export const ovirtDrillTarget = () => restoreTarget('drill');
export const ovirtResticRestoreTarget = () => restoreTarget('restore', { restic: true });
export const ovirtResticDrillTarget = () => restoreTarget('drill', { restic: true });
export const ovirtIncrementalRestoreTarget = () => restoreTarget('restore', { chain: true });
