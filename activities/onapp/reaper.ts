/**
 * The reaper's view of OnApp: backups onappBackup took, their note starting with
 * `[backup-orchestrator <runId>]`. A built backup is the product of a run that saw it built; an
 * unfinished one never is. Which virtual servers to look at comes from Temporal (the servers
 * onappBackup runs were about).
 */
import { findPerVm, runIdOfTag, unlessMissing, type ReapObject, type ReapRemoveInput } from '../reaper';
import type { EndpointClients } from '../endpoint-clients';
import { createOnappActivities } from './activities';
import { OnappClient } from './client';

export function createOnappReaperActivities(clients: EndpointClients) {
  const onapp = (endpoint: string) => clients.client(endpoint, 'onapp', (profile, env) => new OnappClient(profile, env));
  const activities = createOnappActivities(clients);
  return {
    async onappReaperFind(input: { endpoint: string; vmIds: string[] }): Promise<ReapObject[]> {
      const client = onapp(input.endpoint);
      return findPerVm(input.vmIds, /^\d{1,18}$/, async (vmId) =>
        // A server not on this control panel holds nothing here.
        ((await unlessMissing(client.listBackups(vmId))) ?? []).flatMap((b): ReapObject[] => {
          const runId = runIdOfTag(b.note);
          if (!runId) return [];
          return [
            {
              vendor: 'onapp',
              kind: 'backup',
              endpoint: input.endpoint,
              id: String(b.id),
              label: `${b.built ? '' : 'unfinished '}${b.backupType} backup ${b.id} of virtual server ${vmId}`,
              runId,
              vmId,
              createdAt: b.createdAt,
              mayBeProduct: b.built,
              order: 0,
            },
          ];
        }),
      );
    },

    /** Deletes the backup (and any other backup of the same run: a take whose reply was lost); "already gone" is done. */
    async onappReaperRemove({ object: o }: ReapRemoveInput): Promise<void> {
      await activities.onappDeleteRunBackup({ endpoint: o.endpoint, virtualServerId: Number(o.vmId), runId: o.runId, backupId: Number(o.id) });
    },
  };
}
