/**
 * ovirtSnapshotBackup against the oVirt simulator, with the copy worker for the demo proxy VM; its
 * repository a directory, or (`restic: true`, the `ovirt-restic` target) a restic repository, with
 * the kill points of a restic backup and the repository looked at after every case (restic-repo.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyTaskQueueFor } from '../../lib/temporal/task-queues';
import { createOvirtSimulator, OVIRT_DEMO } from '../../simulators/ovirt';
import { OVIRT_BACKUP_STEPS } from '../../contracts/ovirt/steps';
import { SIM_PASSWORD, type OvirtHarness } from '../../test/helpers/ovirt-harness';
import { backupSnapshots, proxyAttachments } from '../../test/helpers/ovirt-inspect';
import type { ChaosTarget } from '../types';
import { CreationCounter } from './count';
import { chaosResticRepository, resticBackupChecks } from './restic-repo';

/** The shared inspect helpers log in with the harness's simulator password. */
const PASSWORD = SIM_PASSWORD;
const TIMEOUT_MS = 2_500;

export async function ovirtTarget(options: { restic?: boolean } = {}): Promise<ChaosTarget> {
  const tmp = await mkdtemp(join(tmpdir(), options.restic ? 'chaos-ovirt-restic-' : 'chaos-ovirt-'));
  const restic = options.restic ? await chaosResticRepository(join(tmp, 'restic')) : undefined;
  const { simulator, state } = await createOvirtSimulator({
    dataDir: join(tmp, 'sim-data'),
    deviceRoot: join(tmp, 'devices'),
    password: PASSWORD,
    snapshotCreateMs: 300,
    snapshotDeleteMs: 200,
    diskSizes: { os: 1024 * 1024, data: 256 * 1024 },
  });
  await simulator.start(0);
  const created = new CreationCounter();
  created.watch(state, 'createSnapshot', (vmId: string) => `snapshot of VM ${vmId}`);
  created.watch(state, 'attachDisk', (vmId: string, input: { diskId?: string }) => `attachment of disk ${input?.diskId ?? '?'} to VM ${vmId}`);
  // The shared inspect helpers read the vendor API through the simulator; they need only these two fields.
  const view = { simulator, demo: OVIRT_DEMO } as unknown as OvirtHarness;

  return {
    workflow: 'ovirtSnapshotBackup',
    simulator,
    clientTimeoutMs: TIMEOUT_MS,
    worker: {
      endpoints: {
        'ovirt-chaos': {
          vendor: 'ovirt',
          url: simulator.apiUrl,
          apiVersion: 'v4',
          timeoutMs: TIMEOUT_MS,
          auth: { type: 'sso', username: 'admin@internal', password: { env: 'CHAOS_OVIRT_PASSWORD' } },
        },
      },
      secrets: { CHAOS_OVIRT_PASSWORD: PASSWORD },
      copy: {
        taskQueue: copyTaskQueueFor(OVIRT_DEMO.proxyVmId),
        settings: {
          repositoryRoot: join(tmp, 'repository'),
          deviceByIdDir: join(tmp, 'devices', 'by-id'),
          chunkBytes: 64 * 1024,
          maxBytesPerSecond: 2 * 1024 * 1024,
          ...(restic ? { restic: restic.settings } : {}),
        },
      },
    },
    input: () => ({ endpoint: 'ovirt-chaos', vmId: OVIRT_DEMO.vmId, proxyVmId: OVIRT_DEMO.proxyVmId, pollIntervalMs: 100, description: 'chaos' }),
    steps: OVIRT_BACKUP_STEPS,
    longSteps: { copy: 250 },
    ...(restic ? resticBackupChecks(restic) : {}),
    creates: [
      { method: 'POST', path: '/vms/:p1/snapshots' },
      { method: 'POST', path: '/vms/:p1/diskattachments' },
    ],
    expireSessions: () => state.expireAllTokens(),
    async leftovers() {
      const snapshots = (await backupSnapshots(view)).map((s) => `snapshot ${s.id} "${s.description}" (${s.status})`);
      const attached = (await proxyAttachments(view)).map((d) => `disk ${d} attached to the proxy VM`);
      return [...snapshots, ...attached];
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
    async stop() {
      await simulator.stop();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}
