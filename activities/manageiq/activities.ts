/**
 * ManageIQ snapshot activities. Each is safe to retry: a create adopts the snapshot an earlier
 * attempt made (the run's unique name), removals treat "already gone" as done (a bulk delete that
 * the appliance ends with a 404 is re-listed and finished, delete-snapshots.ts), and retention
 * recomputes what to delete from the appliance's list each time.
 */
import { CancelledFailure, Context } from '@temporalio/activity';
import { ErrorTypes, VendorError, nonRetryable, notFoundAs } from '../../lib/errors';
import { heartbeatWhile } from '../heartbeat-sleep';
import { pollUntil } from '../poll-until';
import { failAfterLateCreateGrace } from '../late-create';
import type { EndpointClients } from '../endpoint-clients';
import { ManageiqClient } from './client';
import { deleteSnapshotsRelisting } from './delete-snapshots';
import type { ManageiqCollection, ManageiqSnapshot, ManageiqTask } from './schemas';

export type { ManageiqCollection, ManageiqSnapshot, ManageiqTask } from './schemas';

export interface ManageiqRef {
  endpoint: string;
  collection: ManageiqCollection;
  resourceId: string;
}

/** One resource of a bulk delete: what the appliance said, and how its task ended. */
export interface DeleteReport {
  snapshotId: string;
  name?: string;
  success: boolean;
  /** The snapshot was not there (deleted by someone else, or never existed): nothing to delete. */
  notFound?: boolean;
  message: string;
  taskId?: string;
  /** The task's final status (Ok, Error, …) when it was waited for. */
  taskStatus?: string;
  taskMessage?: string | null;
}

const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * Reads /api/tasks/:id until its state is Finished and returns it (status Ok, Warn, Error, …: the
 * caller decides what a status means), heartbeating the task as last read.
 */
export async function waitForTask(client: ManageiqClient, taskId: string, options: { pollMs: number; deadline: number }): Promise<ManageiqTask & { polls: number }> {
  let last: ManageiqTask | undefined;
  let polls = 0;
  return pollUntil(
    {
      intervalMs: options.pollMs,
      deadline: { at: options.deadline, stillWaiting: () => `ManageIQ task ${taskId} is still ${last?.state} (${last?.pctComplete ?? 0}% done)` },
      details: () => ({ taskId, state: last?.state, polls }),
    },
    async (poll) => {
      last = await client.getTask(taskId);
      polls = poll;
      return last.state === 'Finished' ? { ...last, polls } : undefined;
    },
  );
}

export function createManageiqActivities(clients: EndpointClients) {
  const miq = (endpoint: string) => clients.client(endpoint, 'manageiq', (profile, env) => new ManageiqClient(profile, env));

  const waitTask = (client: ManageiqClient, taskId: string, pollMs: number, deadline: number) => waitForTask(client, taskId, { pollMs, deadline });

  /** Snapshots of the resource with exactly this name. */
  const named = async (client: ManageiqClient, ref: ManageiqRef, name: string) =>
    (await client.querySnapshots(ref.collection, ref.resourceId, { filter: [`name=${quote(name)}`] })).snapshots.filter((s) => s.name === name);

  /**
   * Deletes the snapshots (bulk, re-listing after ManageIQ's whole-request 404, see
   * delete-snapshots.ts) and, when asked, waits for each task. One report per snapshot, in order.
   */
  const deleteAndReport = async (
    client: ManageiqClient,
    ref: ManageiqRef,
    snapshots: Array<{ id: string; name?: string }>,
    wait: { pollMs: number; deadline: number } | undefined,
  ): Promise<DeleteReport[]> => {
    if (!snapshots.length) return [];
    const outcomes = await deleteSnapshotsRelisting(
      client,
      ref.collection,
      ref.resourceId,
      snapshots.map((s) => s.id),
    );
    const reports: DeleteReport[] = [];
    for (const [i, o] of outcomes.entries()) {
      const task = wait && o.success && o.taskId ? await waitTask(client, o.taskId, wait.pollMs, wait.deadline) : undefined;
      const report: DeleteReport = { snapshotId: o.snapshotId, success: o.success, message: o.message, taskId: o.taskId, taskStatus: task?.status, taskMessage: task?.message };
      if (snapshots[i]!.name !== undefined) report.name = snapshots[i]!.name;
      if (o.notFound) report.notFound = true;
      reports.push(report);
    }
    return reports;
  };

  /** The resource's snapshots whose name starts with `prefix`, oldest first (the appliance filters; the prefix check is ours). */
  const snapshotsNamed = async (client: ManageiqClient, ref: ManageiqRef, prefix: string): Promise<ManageiqSnapshot[]> => {
    const listed = await client.querySnapshots(ref.collection, ref.resourceId, { filter: [`name=${quote(`${prefix}*`)}`], sortBy: 'create_time', sortOrder: 'asc', limit: 1000 });
    return listed.snapshots.filter((s) => s.name.startsWith(prefix));
  };

  /** The appliance's tasks that create a snapshot with this name (ManageIQ names them "Creating snapshot <name> for <vm>"). */
  const createTasks = (client: ManageiqClient, name: string) => client.queryTasks([`name=${quote(`Creating snapshot ${name} for *`)}`]);

  const deadlineOf = () => Date.now() + Math.max(1000, Context.current().info.startToCloseTimeoutMs - 5000);

  return {
    /** Resolves the profile without calling the vendor: a wrong name fails before anything happens. */
    async manageiqCheckEndpoint(input: { endpoint: string }): Promise<{ endpoint: string; url: string }> {
      const profile = clients.profile(input.endpoint, 'manageiq');
      return { endpoint: input.endpoint, url: profile.url };
    },

    async manageiqPreflight(input: ManageiqRef): Promise<{ id: string; name: string; type?: string }> {
      const what = input.collection === 'vms' ? 'VM' : 'instance';
      return miq(input.endpoint)
        .getResource(input.collection, input.resourceId)
        .catch(notFoundAs(`${what} ${input.resourceId} does not exist on endpoint "${input.endpoint}"`));
    },

    /**
     * Creates the snapshot, or adopts the one (or the queued create task) an earlier attempt of this run made (same unique name).
     * Cancellation: before the create is sent the attempt stops (nothing made); once it is sent, it
     * is seen through to its answer, as the undo that follows must find what it made.
     */
    async manageiqCreateSnapshot(input: ManageiqRef & { name: string; description: string; memory: boolean }): Promise<{ taskId?: string; adopted?: ManageiqSnapshot; message: string }> {
      const client = miq(input.endpoint);
      const context = Context.current();
      return heartbeatWhile(
        (async () => {
          const [existing] = await named(client, input, input.name);
          if (existing) return { adopted: existing, message: `snapshot ${input.name} already exists (made by an earlier attempt)` };
          // A create whose reply was lost is queued on the appliance before its snapshot is listed: adopt its task.
          const queued = (await createTasks(client, input.name)).find((t) => t.state !== 'Finished' || t.status !== 'Error');
          if (queued) return { taskId: queued.id, message: `snapshot ${input.name} is already being created (task ${queued.id}, queued by an earlier attempt)` };
          if (context.cancellationSignal.aborted) throw new CancelledFailure(`cancelled before snapshot ${input.name} was asked for: nothing was made`);
          // The run's full id in the description: the name carries only a fragment of it (the reaper needs the run).
          const run = context.info.workflowExecution?.runId;
          const description = run ? `[backup-orchestrator ${run}] ${input.description}`.slice(0, 255) : input.description;
          const profile = clients.profile(input.endpoint, 'manageiq');
          const result = await client.createSnapshot(input.collection, input.resourceId, { name: input.name, description, memory: input.memory }).catch(async (err: unknown) => {
            // An answer that timed out may still be taken late: a retry adopts it, or the undo finds its task.
            await failAfterLateCreateGrace(err, profile).catch((late: unknown) => {
              // Cancelled meanwhile: end as cancelled, not as a failure to retry.
              if (context.cancellationSignal.aborted) throw new CancelledFailure(`cancelled while snapshot ${input.name} was being asked for (${(late as Error).message})`);
              throw late;
            });
            throw err;
          });
          return { taskId: result.taskId, message: result.message };
        })(),
      );
    },

    /** Polls /api/tasks/:id until Finished; returns its final status (the workflow decides what a non-Ok status means). */
    async manageiqWaitTask(input: { endpoint: string; taskId: string; deadline: number; pollMs: number }): Promise<ManageiqTask & { polls: number }> {
      return waitTask(miq(input.endpoint), input.taskId, input.pollMs, input.deadline);
    },

    /**
     * The snapshot is listed on the resource; not (yet) listed is retried by the retry policy. A
     * create retried after a lost reply, while the first one was still queued, can leave two
     * snapshots with the run's name: the oldest is kept, the others are deleted.
     */
    async manageiqConfirmSnapshot(input: ManageiqRef & { name: string; pollMs: number }): Promise<ManageiqSnapshot & { duplicatesRemoved: string[] }> {
      const client = miq(input.endpoint);
      const found = (await named(client, input, input.name)).sort((a, b) => Number(a.id) - Number(b.id));
      const [snapshot, ...duplicates] = found;
      if (!snapshot) {
        throw new VendorError({
          vendor: 'manageiq',
          operation: `GET /${input.collection}/${input.resourceId}/snapshots`,
          vendorMessage: `snapshot ${input.name} is not listed (yet)`,
          retryable: true,
        });
      }
      await deleteAndReport(client, input, duplicates, { pollMs: input.pollMs, deadline: deadlineOf() });
      return { ...snapshot, duplicatesRemoved: duplicates.map((d) => d.id) };
    },

    /**
     * Keeps the newest `keep` snapshots whose name starts with the tool's prefix and bulk-deletes
     * the rest, reporting each resource's result and how its task ended. Others are never touched.
     */
    async manageiqApplyRetention(
      input: ManageiqRef & { prefix: string; keep: number; pollMs: number; pageSize?: number },
    ): Promise<{ kept: ManageiqSnapshot[]; deleted: DeleteReport[]; othersUntouched: number }> {
      const client = miq(input.endpoint);
      const deadline = deadlineOf();
      const listed = await client.querySnapshots(input.collection, input.resourceId, {
        filter: [`name=${quote(`${input.prefix}*`)}`],
        sortBy: 'create_time',
        sortOrder: 'desc',
        limit: input.pageSize ?? 100,
      });
      // The filter is the appliance's; the prefix check is ours: a loose filter must not widen what we delete.
      const owned = listed.snapshots.filter((s) => s.name.startsWith(input.prefix));
      owned.sort((a, b) => (b.createTime ?? '').localeCompare(a.createTime ?? '') || Number(b.id) - Number(a.id));
      const kept = owned.slice(0, input.keep);
      const doomed = owned.slice(input.keep);
      // Counted by name, not as "all minus ours": a snapshot someone deletes meanwhile must not shift the count.
      const all = await client.querySnapshots(input.collection, input.resourceId, { limit: 1000 });
      const othersUntouched = all.snapshots.filter((s) => !s.name.startsWith(input.prefix)).length;
      return { kept, deleted: await deleteAndReport(client, input, doomed, { pollMs: input.pollMs, deadline }), othersUntouched };
    },

    /**
     * Undo of a create: waits for the create's task (if it was queued, known or found by name), then deletes every snapshot
     * of the resource with the run's name and waits for those tasks. Nothing there counts as done.
     */
    async manageiqRemoveRunSnapshot(input: ManageiqRef & { name: string; taskId?: string; pollMs: number }): Promise<{ deleted: DeleteReport[] }> {
      const client = miq(input.endpoint);
      const deadline = deadlineOf();
      if (input.taskId) {
        try {
          await waitTask(client, input.taskId, input.pollMs, deadline);
        } catch (err) {
          if (!(err instanceof VendorError && err.isNotFound)) throw err;
        }
      }
      // A create whose reply was lost or garbled (no taskId) may still be queued: its snapshot appears when it finishes.
      for (const task of (await createTasks(client, input.name)).filter((t) => t.state !== 'Finished')) await waitTask(client, task.id, input.pollMs, deadline);
      const snapshots = await named(client, input, input.name);
      return { deleted: await deleteAndReport(client, input, snapshots, { pollMs: input.pollMs, deadline }) };
    },

    /** The snapshot to revert to: by name, or the newest one. */
    async manageiqFindSnapshot(input: ManageiqRef & { name?: string; snapshotId?: string }): Promise<ManageiqSnapshot> {
      const client = miq(input.endpoint);
      const what = input.collection === 'vms' ? 'VM' : 'instance';
      if (input.snapshotId) {
        return client.getSnapshot(input.collection, input.resourceId, input.snapshotId).catch(notFoundAs(`${what} ${input.resourceId} has no snapshot ${input.snapshotId}`));
      }
      const page = input.name
        ? await client
            .querySnapshots(input.collection, input.resourceId, { filter: [`name=${quote(input.name)}`], sortBy: 'create_time', sortOrder: 'desc' })
            .catch(notFoundAs(`${what} ${input.resourceId} does not exist on endpoint "${input.endpoint}"`))
        : await client
            .querySnapshots(input.collection, input.resourceId, { sortBy: 'create_time', sortOrder: 'desc', limit: 1, allPages: false })
            .catch(notFoundAs(`${what} ${input.resourceId} does not exist on endpoint "${input.endpoint}"`));
      const candidates = input.name ? page.snapshots.filter((s) => s.name === input.name) : page.snapshots;
      if (!candidates.length) {
        throw nonRetryable(input.name ? `${what} ${input.resourceId} has no snapshot named "${input.name}"` : `${what} ${input.resourceId} has no snapshots to revert to`, ErrorTypes.vendorNotFound);
      }
      if (input.name && candidates.length > 1) {
        throw nonRetryable(
          `${what} ${input.resourceId} has ${candidates.length} snapshots named "${input.name}" (ids ${candidates.map((s) => s.id).join(', ')}): revert needs exactly one`,
          ErrorTypes.invalidInput,
        );
      }
      return candidates[0]!;
    },

    /** Starts the revert (VMs only: the client refuses an instance before any call). */
    async manageiqRevertSnapshot(input: ManageiqRef & { snapshotId: string }): Promise<{ taskId?: string; message: string }> {
      const result = await miq(input.endpoint).revertSnapshot(input.collection, input.resourceId, input.snapshotId);
      return { taskId: result.taskId, message: result.message };
    },

    /** Bulk delete of chosen snapshots; each resource's result, and how its task ended. */
    /** Deletes the snapshots named by id, or every snapshot of the resource whose name starts with `namePrefix` (oldest first). */
    async manageiqBulkDelete(input: ManageiqRef & { snapshotIds?: string[]; namePrefix?: string; waitForTasks: boolean; pollMs: number }): Promise<DeleteReport[]> {
      const wait = input.waitForTasks ? { pollMs: input.pollMs, deadline: deadlineOf() } : undefined;
      const client = miq(input.endpoint);
      return deleteAndReport(client, input, input.namePrefix === undefined ? (input.snapshotIds ?? []).map((id) => ({ id })) : await snapshotsNamed(client, input, input.namePrefix), wait);
    },
  };
}

export type ManageiqActivities = ReturnType<typeof createManageiqActivities>;
