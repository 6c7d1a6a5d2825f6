/**
 * ovirtRestore and ovirtRestoreDrill against the oVirt simulator, with the copy worker for the demo
 * proxy VM. Before the first case the target makes the backup they restore with the real backup
 * workflow on the cluster's worker: the simulator's reset regenerates the demo disks byte for byte,
 * so that backup of the pristine demo VM stays valid (and is checked to) across every case. With
 * `restic: true` (the `ovirt-restic-restore` and `ovirt-restic-drill` targets) the copy worker's
 * repository is a restic repository: images come back through `restic dump` (restic-repo.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OvirtBackupManifest } from '../../contracts/ovirt/results';
import { OVIRT_DRILL_STEPS, OVIRT_RESTORE_STEPS } from '../../contracts/ovirt/steps';
import { copyTaskQueueFor } from '../../lib/temporal/task-queues';
import { createOvirtSimulator, OVIRT_DEMO } from '../../simulators/ovirt';
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

async function restoreTarget(kind: Kind, options: { restic?: boolean } = {}): Promise<OvirtRestoreChaosTarget> {
  const tmp = await mkdtemp(join(tmpdir(), `chaos-ovirt-${options.restic ? 'restic-' : ''}${kind}-`));
  const restic = options.restic ? await chaosResticRepository(join(tmp, 'restic')) : undefined;
  const { simulator, state } = await createOvirtSimulator({
    dataDir: join(tmp, 'sim-data'),
    deviceRoot: join(tmp, 'devices'),
    password: SIM_PASSWORD,
    snapshotCreateMs: 300,
    snapshotDeleteMs: 200,
    diskCreateMs: 300,
    vmCreateMs: 300,
    vmBootMs: 400,
    diskSizes: { os: 1024 * 1024, data: 256 * 1024 },
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
        },
      },
    },

    async prepare(cluster: ChaosCluster) {
      const manifest = (await cluster.client.workflow.execute('ovirtSnapshotBackup', {
        taskQueue: cluster.taskQueue,
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
