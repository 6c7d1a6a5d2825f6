/**
 * Deleting several snapshots of a VM or instance in as few bulk requests as ManageIQ allows.
 *
 * ManageIQ looks the resources of a bulk delete up one by one, outside its per-resource rescue: the
 * first snapshot that is gone ends the whole request with a 404, and the deletes of the snapshots
 * before it in the list are queued already (their task ids are lost with the 404). So after a 404:
 * re-list the snapshots; the one the 404 names, and any other that is no longer listed, is not
 * found (deleted by someone else: not an error for whoever only wants it gone); the ones before it
 * were deleted by this request (still listed while their task runs: the task is looked up by the
 * name ManageIQ gives it); the rest is sent again.
 */
import { VendorError } from '../../lib/errors';
import type { ManageiqClient } from './client';
import type { ManageiqActionResult, ManageiqCollection, ManageiqSnapshot, ManageiqTask } from './schemas';

export interface SnapshotDeleteOutcome extends ManageiqActionResult {
  snapshotId: string;
  /** The snapshot was not there (any more) when the appliance looked: nothing was deleted. */
  notFound?: boolean;
}

const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;
const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The id a "Couldn't find Snapshot with 'id'=1005" message names. */
function snapshotIdNamedBy(err: VendorError): string | undefined {
  return /'id'=(\d+)/.exec(err.vendorMessage)?.[1];
}

/**
 * The delete tasks a 404-ended request queued for these (still listed) snapshots, newest first per
 * name. ManageIQ names the task after its message, "Deleting snapshot <name> for <model> id:<id>
 * name:'<vm>'", where <model> is "Virtual Machine"/"Instance" today and "Vm" on older appliances:
 * the match takes either.
 */
async function queuedDeleteTasks(client: ManageiqClient, resourceId: string, snapshots: ManageiqSnapshot[]): Promise<Map<string, ManageiqTask>> {
  const found = new Map<string, ManageiqTask>();
  const taken = new Set<string>();
  for (const s of snapshots) {
    const own = new RegExp(`^Deleting snapshot ${escapeRegExp(s.name)} for .+ id: ?${escapeRegExp(resourceId)} name: ?'`);
    const tasks = (await client.queryTasks([`name=${quote(`Deleting snapshot ${s.name} for *`)}`]))
      .filter((t) => own.test(t.name ?? '') && !taken.has(t.id))
      .sort((a, b) => Number(b.id) - Number(a.id));
    const task = tasks[0];
    if (task) {
      taken.add(task.id);
      found.set(s.id, task);
    }
  }
  return found;
}

/** One outcome per requested id, in the order given. A 404 that names no snapshot (the VM is gone) is thrown. */
export async function deleteSnapshotsRelisting(client: ManageiqClient, collection: ManageiqCollection, resourceId: string, snapshotIds: string[]): Promise<SnapshotDeleteOutcome[]> {
  const outcomes = new Map<string, SnapshotDeleteOutcome>();
  let pending = [...new Set(snapshotIds)];
  while (pending.length) {
    let results: SnapshotDeleteOutcome[];
    try {
      results = await client.bulkDeleteSnapshots(collection, resourceId, pending);
    } catch (err) {
      if (!(err instanceof VendorError && err.isNotFound)) throw err;
      const listed = new Map((await client.querySnapshots(collection, resourceId)).snapshots.map((s) => [s.id, s]));
      const named = snapshotIdNamedBy(err);
      let stop = named === undefined ? -1 : pending.indexOf(named);
      if (stop < 0) stop = pending.findIndex((sid) => !listed.has(sid));
      if (stop < 0) throw err;
      const missing = pending[stop]!;
      const queued = pending.slice(0, stop);
      const tasks = await queuedDeleteTasks(
        client,
        resourceId,
        queued.flatMap((sid) => listed.get(sid) ?? []),
      );
      const again: string[] = [];
      for (const sid of queued) {
        const task = tasks.get(sid);
        if (!listed.has(sid)) outcomes.set(sid, { snapshotId: sid, success: true, message: `deleted (queued by a bulk request the appliance then ended at snapshot ${missing})` });
        else if (task) outcomes.set(sid, { snapshotId: sid, success: true, message: task.name ?? `Deleting snapshot ${sid}`, taskId: task.id });
        else again.push(sid);
      }
      outcomes.set(missing, { snapshotId: missing, success: false, notFound: true, message: named === missing ? err.vendorMessage : `Couldn't find Snapshot with 'id'=${missing}` });
      for (const sid of pending.slice(stop + 1)) {
        if (listed.has(sid)) again.push(sid);
        else outcomes.set(sid, { snapshotId: sid, success: false, notFound: true, message: `Couldn't find Snapshot with 'id'=${sid}` });
      }
      pending = again;
      continue;
    }
    // Older appliances answered 200 with a failed result for a snapshot that is gone.
    for (const r of results) outcomes.set(r.snapshotId, !r.success && /couldn't find/i.test(r.message) ? { ...r, notFound: true } : r);
    pending = [];
  }
  return snapshotIds.map((sid) => outcomes.get(sid)!);
}
