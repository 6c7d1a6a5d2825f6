/** oVirt/RHV workflows in the catalog (contracts/catalog-entry.ts says what each field is for). */
import type { OvirtActivities } from '../../activities/ovirt/activities';
import type { WorkflowRoute } from '../catalog-entry';

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
    retention: {
      // A scheduled snapshot is kept on the engine as the recovery point the schedule prunes.
      mark: (i, scheduleId) => ({ ...i, keepSnapshot: true, description: `${(i.description as string | undefined) ?? 'backup'} [schedule ${scheduleId}]` }),
      pruneActivity: 'ovirtPruneSnapshots',
      pruneArgs: (i, scheduleId, keep) => ({ endpoint: i.endpoint, vmId: i.vmId, marker: `[schedule ${scheduleId}]`, keep }),
    },
  },
} satisfies Record<string, WorkflowRoute<OvirtActivities>>;
