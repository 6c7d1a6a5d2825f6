/**
 * The reaper's view of Azure Backup: item-level recovery (ILR) connections azureFileRecovery
 * opened. Azure does not say who opened a connection, so each run writes a record (no secret) into
 * its worker-side folder before provisioning; the reaper reads those records, revokes the
 * connection of a run that is over and deletes the stored script and password. A connection
 * without a record (an admin's, from the portal) is never touched. Recovery points are never
 * removed: a completed backup's recovery point is its product.
 */
import type { ReapObject, ReapRemoveInput } from '../reaper';
import type { EndpointClients } from '../endpoint-clients';
import { createAzureActivities } from './activities';
import { fileRecoveryRoot, listFileRecoveryRecords, removeFileRecovery } from './file-recovery-store';

export function createAzureReaperActivities(clients: EndpointClients) {
  const activities = createAzureActivities(clients);
  return {
    async azureReaperFind(input: { endpoint: string }): Promise<ReapObject[]> {
      const root = fileRecoveryRoot(clients.profile(input.endpoint, 'azure'));
      return (await listFileRecoveryRecords(root))
        .filter((r) => r.endpoint === input.endpoint)
        .map((r) => ({
          vendor: 'azure',
          kind: 'ilr-session',
          endpoint: r.endpoint,
          id: r.ref,
          label: `file recovery connection of ${r.protectedItemName} at recovery point ${r.recoveryPoint} (and its stored script and password)`,
          runId: r.runId,
          vmId: r.protectedItemName,
          createdAt: r.createdAt,
          mayBeProduct: false,
          order: 0,
          sharedKey: `${r.endpoint}|${r.containerName}|${r.protectedItemName}|${r.recoveryPoint}`,
          details: { containerName: r.containerName, recoveryPoint: r.recoveryPoint },
        }));
    },

    /**
     * Revokes the connection and deletes the stored credentials. Azure has one connection per
     * recovery point: when a live run uses the same one, only this run's credentials are deleted.
     */
    async azureReaperRemove({ object: o, pollMs, sharedWithKept }: ReapRemoveInput): Promise<void> {
      if (sharedWithKept) {
        await removeFileRecovery(fileRecoveryRoot(clients.profile(o.endpoint, 'azure')), o.id);
        return;
      }
      await activities.azureRevokeFileRecovery({
        endpoint: o.endpoint,
        containerName: String(o.details!.containerName),
        protectedItemName: o.vmId,
        recoveryPoint: String(o.details!.recoveryPoint),
        ref: o.id,
        pollMs,
      });
    },
  };
}
