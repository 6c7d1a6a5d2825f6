/**
 * The reaper's view of ManageIQ: snapshots manageiqSnapshot made. Their name is
 * `<prefix><yyyymmddThhmmss>-<run id's random tail, 12 hex>` (first 8 characters before that) and
 * their description starts with `[backup-orchestrator <runId>]`. Older snapshots carry only the 8
 * characters: the run is then looked up among the manageiqSnapshot runs of that VM (run ids are
 * time-ordered, so runs started close together share them: such a snapshot is kept, as its run
 * cannot be told apart). A confirmed snapshot is
 * the run's product (retention keeps it): it is only removed when its run ended before confirming.
 * Which VMs to look at comes from Temporal (the VMs manageiqSnapshot runs were about).
 */
import { VendorError } from '../../lib/errors';
import { runIdMatches } from '../../lib/temporal/run-tag';
import { findPerVm, runIdOfTag, unlessMissing, type ReapObject, type ReapRemoveInput } from '../reaper';
import type { EndpointClients } from '../endpoint-clients';
import { createManageiqActivities, type ManageiqCollection } from './activities';
import { ManageiqClient } from './client';

/** A name manageiqSnapshot wrote: prefix (letters/digits ending in -, _ or .), UTC stamp, run fragment (lib/temporal/run-tag). */
const RUN_SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.]*[-_.]\d{8}T\d{6}-([0-9a-f]{12}|[0-9a-f]{8})$/;

export function runPrefixOfSnapshotName(name: string): string | undefined {
  return RUN_SNAPSHOT_NAME.exec(name)?.[1];
}

export function createManageiqReaperActivities(clients: EndpointClients) {
  const miq = (endpoint: string) => clients.client(endpoint, 'manageiq', (profile, env) => new ManageiqClient(profile, env));
  const activities = createManageiqActivities(clients);
  return {
    async manageiqReaperFind(input: { endpoint: string; vmIds: string[] }): Promise<ReapObject[]> {
      const client = miq(input.endpoint);
      return findPerVm(input.vmIds, /^\d{1,20}$/, async (resourceId) => {
        const objects: ReapObject[] = [];
        for (const collection of ['vms', 'instances'] as ManageiqCollection[]) {
          // Not on this appliance, or not in this collection: nothing of it here.
          const snapshots = (await unlessMissing(client.querySnapshots(collection, resourceId)))?.snapshots ?? [];
          for (const s of snapshots) {
            const runPrefix = runPrefixOfSnapshotName(s.name);
            if (!runPrefix) continue;
            const tagged = runIdOfTag(s.description);
            const runId = tagged && runIdMatches(tagged, runPrefix) ? tagged : undefined;
            const what = collection === 'vms' ? 'VM' : 'instance';
            objects.push({
              vendor: 'manageiq',
              kind: 'snapshot',
              endpoint: input.endpoint,
              id: s.id,
              label: `snapshot ${s.name} (id ${s.id}) of ${what} ${resourceId}`,
              runId: runId ?? runPrefix,
              runLookup: runId ? undefined : { workflowType: 'manageiqSnapshot', vmId: resourceId },
              vmId: resourceId,
              createdAt: s.createTime ?? undefined,
              mayBeProduct: true,
              order: 0,
              details: { collection, name: s.name },
            });
          }
        }
        return objects;
      });
    },

    /** Deletes the snapshot by its name (every snapshot of the resource with the run's name) and waits for the tasks. */
    async manageiqReaperRemove({ object: o, pollMs }: ReapRemoveInput): Promise<void> {
      const collection = o.details!.collection as ManageiqCollection;
      const { deleted } = await activities.manageiqRemoveRunSnapshot({ endpoint: o.endpoint, collection, resourceId: o.vmId, name: String(o.details!.name), pollMs });
      const bad = deleted.find((d) => d.taskStatus !== undefined && d.taskStatus !== 'Ok' && d.taskStatus !== 'Warn');
      if (bad)
        throw new VendorError({
          vendor: 'manageiq',
          operation: `delete snapshot ${bad.name ?? bad.snapshotId}`,
          vendorMessage: `task ${bad.taskId} ended ${bad.taskStatus}: ${bad.taskMessage ?? ''}`,
          retryable: true,
        });
    },
  };
}
