/**
 * oVirt activities of the engine's backup API (4.4+), one per step of an incremental backup. Each
 * is safe to retry: a backup or a transfer whose create reply was lost is found (by the run's tag,
 * by disk and backup) and adopted; finalize, cancel and the undos treat "already done" as done.
 */
import { Context } from '@temporalio/activity';
import { pollUntil } from '../poll-until';
import { ErrorTypes, MalformedResponseError, VendorError, nonRetryable, notFoundAs, stuckFailure } from '../../lib/errors';
import type { EndpointClients } from '../endpoint-clients';
import { OvirtClient } from './client';
import { snapshotTag, type SkippedDisk } from './activities';

export interface IncrementalPreflight {
  vm: { id: string; name: string };
  disks: Array<{ id: string; name?: string; provisionedSize: number; incremental: boolean }>;
  skippedDisks: SkippedDisk[];
  checkpointIds: string[];
}

export type StartBackupResult = { backupId: string; adopted: boolean } | { refused: string };

export interface BackupState {
  phase: string;
  toCheckpointId?: string;
  fromCheckpointId?: string;
  description?: string;
  disks: Array<{ id: string; mode: 'full' | 'incremental' }>;
}

const OPEN_TRANSFER = ['initializing', 'transferring', 'resuming', 'paused_system', 'paused_user', 'finalizing_success'];
const ENDED_TRANSFER_OK = ['finished_success'];

export function createOvirtIncrementalActivities(clients: EndpointClients) {
  const ovirt = (endpoint: string) => clients.client(endpoint, 'ovirt', (profile, env) => new OvirtClient(profile, env));
  const stopAt = () => Date.now() + Math.max(1000, Context.current().info.startToCloseTimeoutMs - 5000);

  async function backupState(client: OvirtClient, vmId: string, backupId: string): Promise<BackupState> {
    const b = await client.getVmBackup(vmId, backupId);
    const disks = b.phase === 'ready' ? (await client.listVmBackupDisks(vmId, backupId)).map((d) => ({ id: d['@_id'], mode: d.backup_mode ?? 'full' })) : [];
    return { phase: b.phase, toCheckpointId: b.to_checkpoint_id, fromCheckpointId: b.from_checkpoint_id, description: b.description, disks };
  }

  return {
    /** The VM, its disks (which support incremental backup) and its checkpoints. */
    async ovirtIncrementalPreflight(input: { endpoint: string; vmId: string; diskIds?: string[] }): Promise<IncrementalPreflight> {
      const client = ovirt(input.endpoint);
      if (client.apiVersion !== 'v4') throw nonRetryable(`endpoint "${input.endpoint}" speaks API v3: incremental backups need an oVirt 4.4+ engine (v4)`, ErrorTypes.invalidInput);
      const vm = await client.getVm(input.vmId).catch(notFoundAs(`VM ${input.vmId} does not exist on endpoint "${input.endpoint}"`));
      const all = await client.listVmDisks(input.vmId);
      const disks: IncrementalPreflight['disks'] = [];
      const skippedDisks: SkippedDisk[] = [];
      for (const d of all) {
        const id = d['@_id'];
        const name = d.alias ?? d.name;
        const incremental = (d as Record<string, unknown>).backup === 'incremental';
        if (input.diskIds ? !input.diskIds.includes(id) : !incremental) {
          skippedDisks.push({ id, name, reason: input.diskIds ? 'not in the requested disk list' : 'its backup mode is not incremental (name it in diskIds for a full backup every time)' });
        } else if (d.storage_type && d.storage_type !== 'image') {
          skippedDisks.push({ id, name, reason: `${d.storage_type} disks cannot be backed up by the engine` });
        } else disks.push({ id, name, provisionedSize: d.provisioned_size ?? 0, incremental });
      }
      const unknown = (input.diskIds ?? []).filter((id) => !all.some((d) => d['@_id'] === id));
      if (unknown.length) throw nonRetryable(`VM ${vm.name} has no disk(s) ${unknown.join(', ')}`, ErrorTypes.invalidInput);
      if (!disks.length)
        throw nonRetryable(`VM ${vm.name} has no disk to back up: ${skippedDisks.map((d) => `${d.name ?? d.id} (${d.reason})`).join(', ') || 'it has no disks'}`, ErrorTypes.invalidInput, {
          skippedDisks,
        });
      const checkpointIds = (await client.listCheckpoints(input.vmId)).map((c) => c['@_id']);
      return { vm: { id: vm.id, name: vm.name }, disks, skippedDisks, checkpointIds };
    },

    /** The VM's OVF as the engine keeps it (`GET /vms/{id}?all_content=true`), saved beside each incremental backup for a restore's new VM. */
    async ovirtGetVmConfig(input: { endpoint: string; vmId: string }): Promise<{ type: string; data: string }> {
      const config = await ovirt(input.endpoint).getVmConfig(input.vmId);
      if (!config) {
        throw new VendorError({
          vendor: 'ovirt',
          operation: `GET /vms/${input.vmId}?all_content=true`,
          vendorMessage: 'the VM has no initialization/configuration/data (OVF)',
          retryable: false,
        });
      }
      return config;
    },

    /**
     * Retention: removes the VM's root checkpoint while it is one of `checkpointIds` (those of chain
     * points retention removed), then the next root, and so on: the engine removes only the root.
     * A checkpoint already gone counts as removed; those that are not the root when the walk stops
     * stay (`left`), as does every checkpoint a kept point needs. A VM the engine no longer has
     * leaves nothing (its checkpoints went with it).
     */
    async ovirtRemoveRootCheckpoints(input: { endpoint: string; vmId: string; checkpointIds: string[] }): Promise<{ removed: string[]; left: string[] }> {
      const client = ovirt(input.endpoint);
      const removable = new Set(input.checkpointIds);
      const removed: string[] = [];
      for (;;) {
        const listed = await client.listCheckpoints(input.vmId).catch((err: unknown) => {
          // A VM that is gone took its checkpoints with it: nothing is left to remove (or to remember).
          if (err instanceof VendorError && err.isNotFound) return undefined;
          throw err;
        });
        if (!listed) return { removed, left: [] };
        // The root: the checkpoint whose parent is not listed (the oldest, in the engine's order).
        const ids = new Set(listed.map((c) => c['@_id']));
        const root = listed.find((c) => !c.parent_id || !ids.has(c.parent_id)) ?? listed[0];
        // One the engine still lists after its removal is on its way out: the next prune finds it gone.
        if (!root || !removable.has(root['@_id']) || removed.includes(root['@_id'])) {
          return { removed, left: input.checkpointIds.filter((id) => ids.has(id)) };
        }
        await client.removeCheckpoint(input.vmId, root['@_id']).catch((err: unknown) => {
          if (!(err instanceof VendorError && err.isNotFound)) throw err;
        });
        removed.push(root['@_id']);
        Context.current().heartbeat({ removed });
      }
    },

    /**
     * Starts the VM backup (incremental since `fromCheckpointId`, else full), or adopts the one an
     * earlier attempt of this run started, or the one a create whose reply was garbled made. An engine that refuses the checkpoint is answered as
     * `{ refused }`: the workflow falls back to a full, it does not fail.
     */
    async ovirtStartVmBackup(input: { endpoint: string; vmId: string; runId: string; description: string; diskIds: string[]; fromCheckpointId?: string }): Promise<StartBackupResult> {
      const client = ovirt(input.endpoint);
      const tag = snapshotTag(input.runId);
      const findMine = async () =>
        (await client.listVmBackups(input.vmId)).find((b) => b.description?.startsWith(tag) && (b.from_checkpoint_id ?? undefined) === input.fromCheckpointId && b.phase !== 'failed');
      const mine = await findMine();
      if (mine) return { backupId: mine['@_id'], adopted: true };
      try {
        const backup = await client.createVmBackup(input.vmId, { description: `${tag} ${input.description}`, diskIds: input.diskIds, fromCheckpointId: input.fromCheckpointId });
        return { backupId: backup['@_id'], adopted: false };
      } catch (err) {
        // An answer that could not be read (garbled): the engine may have made the backup all the
        // same. Found by the run's tag, it is adopted; not found, the error stands.
        if (err instanceof MalformedResponseError) {
          const made = await findMine();
          if (made) return { backupId: made['@_id'], adopted: true };
        }
        // The engine says no to the checkpoint (gone, unknown, unusable): a full is the answer, not a retry.
        if (input.fromCheckpointId !== undefined && err instanceof VendorError && (err.status === 400 || err.status === 404 || err.status === 409) && /checkpoint|bitmap/i.test(err.vendorMessage)) {
          return { refused: err.vendorMessage };
        }
        throw err;
      }
    },

    /** Waits until the backup is ready (or failed: returned, for the workflow to decide), heartbeating. */
    async ovirtWaitVmBackupReady(input: { endpoint: string; vmId: string; backupId: string; deadline: number; pollMs: number }): Promise<BackupState> {
      const client = ovirt(input.endpoint);
      let last = 'unknown';
      return pollUntil(
        { intervalMs: input.pollMs, deadline: { at: input.deadline, stillWaiting: () => `backup ${input.backupId} is still "${last}"` }, details: () => ({ phase: last }) },
        async () => {
          const state = await backupState(client, input.vmId, input.backupId).catch(notFoundAs(`backup ${input.backupId} disappeared while starting`));
          last = state.phase;
          return state.phase === 'ready' || state.phase === 'failed' ? state : undefined;
        },
      );
    },

    /** Opens (or adopts) the download of one disk of the backup and waits until it is transferring. */
    async ovirtStartImageTransfer(input: {
      endpoint: string;
      backupId: string;
      diskId: string;
      pollMs: number;
    }): Promise<{ transferId: string; transferUrl: string; proxyUrl?: string; adopted: boolean }> {
      const client = ovirt(input.endpoint);
      const open = (await client.listImageTransfers()).find(
        (t) => t.backup?.['@_id'] === input.backupId && (t.disk?.['@_id'] ?? t.image?.['@_id']) === input.diskId && OPEN_TRANSFER.includes(t.phase),
      );
      const transfer = open ?? (await client.createImageTransfer(input.diskId, input.backupId));
      const ready = await pollUntil({ intervalMs: input.pollMs, deadline: { at: stopAt(), stillWaiting: () => `image transfer ${transfer['@_id']} is still initializing` } }, async () => {
        const t = await client.getImageTransfer(transfer['@_id']);
        if (t.phase === 'transferring') return t;
        if (!OPEN_TRANSFER.includes(t.phase)) throw nonRetryable(`image transfer ${t['@_id']} of disk ${input.diskId} ended as "${t.phase}" before it started`, ErrorTypes.vendorRejected);
        return undefined;
      });
      if (!ready.transfer_url && !ready.proxy_url) throw nonRetryable(`image transfer ${ready['@_id']} has no transfer_url nor proxy_url`, ErrorTypes.malformedResponse);
      return { transferId: ready['@_id'], transferUrl: ready.transfer_url ?? ready.proxy_url!, ...(ready.proxy_url ? { proxyUrl: ready.proxy_url } : {}), adopted: open !== undefined };
    },

    /** Finalizes the transfer and waits until it is finished_success (the disk unlocked). */
    async ovirtFinalizeImageTransfer(input: { endpoint: string; transferId: string; pollMs: number }): Promise<{ phase: string }> {
      const client = ovirt(input.endpoint);
      const first = await client.getImageTransfer(input.transferId);
      if (first.phase === 'transferring') await client.finalizeImageTransfer(input.transferId);
      return pollUntil({ intervalMs: input.pollMs, deadline: { at: stopAt(), stillWaiting: (n) => `image transfer ${input.transferId} is still finalizing (${n})` } }, async () => {
        const t = await client.getImageTransfer(input.transferId).catch((err: unknown) => {
          // Newer engines remove a finished transfer.
          if (err instanceof VendorError && err.isNotFound) return { phase: 'finished_success' } as const;
          throw err;
        });
        if (ENDED_TRANSFER_OK.includes(t.phase)) return { phase: t.phase };
        if (!OPEN_TRANSFER.includes(t.phase)) throw nonRetryable(`image transfer ${input.transferId} ended as "${t.phase}", not finished_success`, ErrorTypes.vendorRejected);
        return undefined;
      });
    },

    /** Undo: cancels every transfer of this disk in the backup that is still open, so its disk is unlocked. */
    async ovirtCancelImageTransfers(input: { endpoint: string; backupId: string; diskId: string; pollMs: number }): Promise<{ cancelled: string[] }> {
      const client = ovirt(input.endpoint);
      const mine = (t: { backup?: { '@_id': string }; disk?: { '@_id': string }; image?: { '@_id': string } }) =>
        t.backup?.['@_id'] === input.backupId && (t.disk?.['@_id'] ?? t.image?.['@_id']) === input.diskId;
      const open = (await client.listImageTransfers()).filter((t) => mine(t) && OPEN_TRANSFER.includes(t.phase));
      for (const t of open) {
        await client.cancelImageTransfer(t['@_id']).catch((err: unknown) => {
          if (!(err instanceof VendorError && err.isNotFound)) throw err;
        });
      }
      await pollUntil({ intervalMs: input.pollMs, deadline: { at: stopAt(), stillWaiting: () => `transfers of disk ${input.diskId} still open` } }, async () => {
        const still = (await client.listImageTransfers()).some((t) => mine(t) && OPEN_TRANSFER.includes(t.phase));
        return still ? undefined : true;
      });
      return { cancelled: open.map((t) => t['@_id']) };
    },

    /**
     * Finalizes the backup (if it is ready) and waits until it has succeeded. One that stays in
     * `finalizing` past the deadline is stuck, non-retryable: the workflow asks an operator.
     */
    async ovirtFinalizeVmBackup(input: { endpoint: string; vmId: string; backupId: string; deadline: number; pollMs: number }): Promise<{ phase: string }> {
      const client = ovirt(input.endpoint);
      let last = (await client.getVmBackup(input.vmId, input.backupId)).phase;
      if (last === 'ready') await client.finalizeVmBackup(input.vmId, input.backupId);
      return pollUntil(
        { intervalMs: input.pollMs, deadline: { at: input.deadline, stillWaiting: () => `backup ${input.backupId} of VM ${input.vmId} is stuck in "${last}"` }, details: () => ({ phase: last }) },
        async () => {
          last = (await client.getVmBackup(input.vmId, input.backupId)).phase;
          if (last === 'succeeded') return { phase: last };
          if (last === 'failed') throw nonRetryable(`backup ${input.backupId} of VM ${input.vmId} failed while finalizing`, ErrorTypes.vendorRejected);
          return undefined;
        },
      );
    },

    /**
     * Undo: ends the run's backup so none stays ready (finalize it: the engine then drops its
     * checkpoint's scratch disks). One already ended (failed, succeeded, gone) is done; one stuck in
     * finalizing past `stuckAfterMs` is a failure no retry fixes: the run asks an operator. Without
     * `backupId` (the start's reply never came back readable) it ends every backup of the VM that
     * carries the run's tag (`runId`) and has not ended: the engine may have made one.
     */
    async ovirtEndVmBackup(input: { endpoint: string; vmId: string; backupId?: string; runId?: string; stuckAfterMs: number; pollMs: number }): Promise<{ phase: string; backupIds?: string[] }> {
      const client = ovirt(input.endpoint);
      const deadline = Date.now() + input.stuckAfterMs;
      const end = async (backupId: string) => {
        let last = 'unknown';
        return pollUntil({ intervalMs: input.pollMs, details: () => ({ phase: last }) }, async () => {
          let b;
          try {
            b = await client.getVmBackup(input.vmId, backupId);
          } catch (err) {
            if (err instanceof VendorError && err.isNotFound) return { phase: 'gone' };
            throw err;
          }
          last = b.phase;
          if (last === 'succeeded' || last === 'failed') return { phase: last };
          if (last === 'ready') await client.finalizeVmBackup(input.vmId, backupId);
          if (Date.now() >= deadline) throw stuckFailure(`backup ${backupId} of VM ${input.vmId} is stuck in "${last}" (the engine does not end it): end it on the engine, then answer cleanup`);
          return undefined;
        });
      };
      if (input.backupId !== undefined) return end(input.backupId);
      if (input.runId === undefined) throw nonRetryable('ovirtEndVmBackup needs backupId or runId', ErrorTypes.invalidInput);
      const tag = snapshotTag(input.runId);
      const mine = (await client.listVmBackups(input.vmId)).filter((b) => b.description?.startsWith(tag) && b.phase !== 'succeeded' && b.phase !== 'failed').map((b) => b['@_id']);
      let phase = 'none';
      for (const id of mine) phase = (await end(id)).phase;
      return { phase, backupIds: mine };
    },
  };
}

export type OvirtIncrementalActivities = ReturnType<typeof createOvirtIncrementalActivities>;
