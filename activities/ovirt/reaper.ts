/**
 * The reaper's view of oVirt: snapshots this tool made (tagged `[backup-orchestrator <runId>]`,
 * kept ones marked `[kept]` and never listed) and their disks still attached to a VM (the proxy).
 * Built on the oVirt activities: the same find, detach and delete the backup workflow uses.
 */
import type { ReapObject, ReapRemoveInput } from '../reaper';
import type { EndpointClients } from '../endpoint-clients';
import { createOvirtActivities } from './activities';

export function createOvirtReaperActivities(clients: EndpointClients) {
  const ovirt = createOvirtActivities(clients);
  return {
    async ovirtReaperFind(input: { endpoint: string }): Promise<ReapObject[]> {
      return (await ovirt.ovirtFindRunObjects(input)).map((o) => ({
        vendor: 'ovirt',
        kind: o.kind,
        endpoint: o.endpoint,
        id: o.kind === 'attachment' ? o.diskId! : o.snapshotId,
        label: o.kind === 'attachment' ? `disk ${o.diskId} of snapshot ${o.snapshotId} attached to VM ${o.vmId}` : `snapshot ${o.snapshotId} of VM ${o.vmId} ("${o.description ?? ''}")`,
        runId: o.runId,
        vmId: o.vmId,
        createdAt: o.createdAt,
        mayBeProduct: false,
        // Detach before deleting: the engine refuses to delete a snapshot whose disk is attached.
        order: o.kind === 'attachment' ? 0 : 1,
        details: { snapshotId: o.snapshotId, diskId: o.diskId },
      }));
    },

    async ovirtReaperRemove({ object: o, pollMs }: ReapRemoveInput): Promise<void> {
      if (o.kind === 'attachment') await ovirt.ovirtDetachDisk({ endpoint: o.endpoint, proxyVmId: o.vmId, diskId: o.id });
      else await ovirt.ovirtDeleteSnapshot({ endpoint: o.endpoint, vmId: o.vmId, runId: o.runId, snapshotId: o.id, pollMs });
    },
  };
}
