/** oVirt/RHV workflows in the catalog (contracts/catalog-entry.ts says what each field is for). */
import type { OvirtActivities } from '../../activities/ovirt/activities';
import type { WorkflowRoute } from '../catalog-entry';

/** A restore is about its source VM when named, else about the backup it names. */
function restoreSubject(i: Record<string, unknown>): string | undefined {
  if (typeof i.vmId === 'string') return i.vmId;
  return typeof i.backup === 'string' && i.backup !== 'latest' ? i.backup : undefined;
}

/** The copy worker whose repository a backup run writes to, and the VM: what a schedule's repositoryRetention prunes. */
function repositoryOf(i: Record<string, unknown>) {
  return typeof i.vmId === 'string' && (typeof i.proxyVmId === 'string' || typeof i.copyTaskQueue === 'string')
    ? { vmId: i.vmId, ...(typeof i.proxyVmId === 'string' ? { proxyVmId: i.proxyVmId } : {}), ...(typeof i.copyTaskQueue === 'string' ? { copyTaskQueue: i.copyTaskQueue } : {}) }
    : undefined;
}

export const ovirtCatalog = {
  ovirtSnapshotBackup: {
    provider: 'ovirt',
    kind: 'backup',
    summary: 'oVirt/RHV: snapshot → config → disks → attach → copy → detach → delete',
    loadInput: async () => (await import(/* webpackMode: "eager" */ './input')).ovirtSnapshotBackupInput,
    subject: (i) => (typeof i.vmId === 'string' ? i.vmId : undefined),
    proxyOf: (i) => (typeof i.proxyVmId === 'string' ? i.proxyVmId : undefined),
    inventory: {
      activity: 'ovirtListVms',
      args: (defaults, filter) => ({ endpoint: defaults.endpoint, search: filter }),
      toInput: (vm) => ({ vmId: vm.id }),
    },
    repositoryOf,
    retention: {
      // A scheduled snapshot is kept on the engine as the recovery point the schedule prunes.
      mark: (i, scheduleId) => ({ ...i, keepSnapshot: true, description: `${(i.description as string | undefined) ?? 'backup'} [schedule ${scheduleId}]` }),
      pruneActivity: 'ovirtPruneSnapshots',
      pruneArgs: (i, scheduleId, keep) => ({ endpoint: i.endpoint, vmId: i.vmId, marker: `[schedule ${scheduleId}]`, keep }),
    },
  },
  // One backup per VM at a time, whichever procedure: it shares the snapshot backup's workflow id.
  ovirtIncrementalBackup: {
    provider: 'ovirt',
    kind: 'backup',
    summary: 'oVirt/RHV 4.4+: backup API → ready → per disk: image transfer → copy the changed ranges → finalize → finalize backup (a broken chain makes a full)',
    loadInput: async () => (await import(/* webpackMode: "eager" */ './incremental-input')).ovirtIncrementalBackupInput,
    subject: (i) => (typeof i.vmId === 'string' ? i.vmId : undefined),
    proxyOf: (i) => (typeof i.proxyVmId === 'string' ? i.proxyVmId : undefined),
    inventory: {
      activity: 'ovirtListVms',
      args: (defaults, filter) => ({ endpoint: defaults.endpoint, search: filter }),
      toInput: (vm) => ({ vmId: vm.id }),
    },
    // The chain's points in the repository: pruneBackups keeps every parent of a kept point and the
    // chain's head, and removes the engine checkpoints of the points it removes.
    repositoryOf,
  },
  // Operations, not backups: a restore or a drill of a VM may run beside its backups, each with an id of its own.
  ovirtRestore: {
    provider: 'ovirt',
    kind: 'operation',
    summary: 'oVirt/RHV: backup → preflight → disks → attach to proxy → write → detach → VM from the OVF → attach (undone on failure)',
    loadInput: async () => (await import(/* webpackMode: "eager" */ './restore-input')).ovirtRestoreInput,
    subject: restoreSubject,
    proxyOf: (i) => (typeof i.proxyVmId === 'string' ? i.proxyVmId : undefined),
  },
  ovirtRestoreDrill: {
    provider: 'ovirt',
    kind: 'operation',
    summary: 'oVirt/RHV: restore into a sandbox → read every disk back → (boot) → always remove the sandbox → record the verdict on the backup',
    loadInput: async () => (await import(/* webpackMode: "eager" */ './restore-input')).ovirtRestoreDrillInput,
    subject: restoreSubject,
    proxyOf: (i) => (typeof i.proxyVmId === 'string' ? i.proxyVmId : undefined),
  },
} satisfies Record<string, WorkflowRoute<OvirtActivities>>;
