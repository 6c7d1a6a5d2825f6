/**
 * oVirt activities: one per step of "Backing Up a Virtual Machine". Each one is safe to retry:
 * creates adopt what an earlier attempt made, removes treat "already gone" as done.
 */
import { Context, heartbeat } from '@temporalio/activity';
import { pollUntil } from '../poll-until';
import { failAfterLateCreateGrace } from '../late-create';
import { retryUnreadable } from '../retry-unreadable';
import { ErrorTypes, VendorError, nonRetryable, notFoundAs } from '../../lib/errors';
import type { EndpointClients } from '../endpoint-clients';
import { OvirtClient, type AttachedDisk } from './client';
import type { OvirtDisk } from './schemas';

export interface OvirtVmRef {
  endpoint: string;
  vmId: string;
}

export interface SkippedDisk {
  id: string;
  name?: string;
  reason: string;
}

export interface PreflightResult {
  vm: { id: string; name: string };
  proxyVm: { id: string; name: string };
  eligibleDiskIds: string[];
  skippedDisks: SkippedDisk[];
}

export interface SnapshotDiskInfo {
  id: string;
  name?: string;
  format?: string;
  provisionedSize?: number;
  actualSize?: number;
}

/** Every snapshot this tool makes starts with this tag, so retries and the reaper can find it. */
export function snapshotTag(runId: string): string {
  return `[backup-orchestrator ${runId}]`;
}

/** Marks a snapshot the run was asked to keep (keepSnapshot, schedule retention). */
export const KEPT_MARKER = '[kept]';

/** The run id in a snapshot description this tool wrote, if it wrote it. */
export function runIdOfSnapshot(description: string | undefined): string | undefined {
  return /^\[backup-orchestrator ([^\]]+)\]/.exec(description ?? '')?.[1];
}

export interface RunObject {
  kind: 'snapshot' | 'attachment';
  endpoint: string;
  runId: string;
  vmId: string;
  snapshotId: string;
  /** For attachments: the disk attached to vmId (the proxy). */
  diskId?: string;
  description?: string;
  /** When the engine made the snapshot (ISO), to give runs not yet visible the benefit of the doubt. */
  createdAt?: string;
}

function skipReason(disk: OvirtDisk): string | undefined {
  if (disk.shareable) return 'shareable disks cannot be snapshotted';
  if (disk.storage_type === 'lun' || disk.lun_storage !== undefined) return 'direct-LUN disks cannot be snapshotted';
  if (disk.storage_type && disk.storage_type !== 'image') return `${disk.storage_type} disks cannot be snapshotted`;
  return undefined;
}

export function createOvirtActivities(clients: EndpointClients) {
  const ovirt = (endpoint: string) => clients.client(endpoint, 'ovirt', (profile, env) => new OvirtClient(profile, env));

  return {
    /** Resolves the profile without calling the vendor: a wrong name fails before anything happens. */
    async ovirtCheckEndpoint(input: { endpoint: string }): Promise<{ endpoint: string; url: string; apiVersion: string }> {
      const profile = clients.profile(input.endpoint, 'ovirt');
      return { endpoint: input.endpoint, url: profile.url, apiVersion: profile.apiVersion };
    },

    /**
     * What this tool made on the engine and has not removed: its tagged snapshots (kept ones
     * excluded) and the disks of those snapshots still attached to any VM. For the reaper.
     */
    async ovirtFindRunObjects(input: { endpoint: string }): Promise<RunObject[]> {
      const client = ovirt(input.endpoint);
      const objects: RunObject[] = [];
      const snapshotRuns = new Map<string, { runId: string; vmId: string; kept: boolean; description?: string; createdAt?: string }>();
      for (const vm of await client.listVms()) {
        for (const s of await client.listSnapshots(vm.id)) {
          const runId = runIdOfSnapshot(s.description);
          if (!runId) continue;
          const kept = s.description!.includes(KEPT_MARKER);
          snapshotRuns.set(s['@_id'], { runId, vmId: vm.id, kept, description: s.description, createdAt: s.date });
          if (!kept) objects.push({ kind: 'snapshot', endpoint: input.endpoint, runId, vmId: vm.id, snapshotId: s['@_id'], description: s.description, createdAt: s.date });
        }
        heartbeat({ vm: vm.id });
      }
      // A snapshot disk shares its disk id with the VM's disk; match attachments by the disks of our snapshots.
      const diskToSnapshot = new Map<string, string>();
      for (const [snapshotId, info] of snapshotRuns) {
        for (const d of await client.listSnapshotDisks(info.vmId, snapshotId).catch(() => [])) diskToSnapshot.set(d['@_id'], snapshotId);
      }
      for (const vm of await client.listVms()) {
        for (const a of await client.listAttachments(vm.id)) {
          const snapshotId = diskToSnapshot.get(a.diskId);
          if (!snapshotId || snapshotRuns.get(snapshotId)!.vmId === vm.id) continue;
          const info = snapshotRuns.get(snapshotId)!;
          objects.push({ kind: 'attachment', endpoint: input.endpoint, runId: info.runId, vmId: vm.id, snapshotId, diskId: a.diskId, description: info.description, createdAt: info.createdAt });
        }
      }
      return objects;
    },

    /** The VMs a fleet backup covers, from an engine search such as "name=web-*". */
    async ovirtListVms(input: { endpoint: string; search?: string; max?: number }): Promise<Array<{ id: string; name: string }>> {
      return (await ovirt(input.endpoint).listVms(input.search, input.max)).map(({ id, name }) => ({ id, name }));
    },

    async ovirtPreflight(input: OvirtVmRef & { proxyVmId: string; diskIds?: string[] }): Promise<PreflightResult> {
      const client = ovirt(input.endpoint);
      const vm = await client.getVm(input.vmId).catch(notFoundAs(`VM ${input.vmId} does not exist on endpoint "${input.endpoint}"`));
      const proxyVm = await client.getVm(input.proxyVmId).catch(notFoundAs(`proxy VM ${input.proxyVmId} does not exist on endpoint "${input.endpoint}"`));
      const disks = await client.listVmDisks(input.vmId);
      const eligibleDiskIds: string[] = [];
      const skippedDisks: SkippedDisk[] = [];
      for (const disk of disks) {
        const id = disk['@_id'];
        const name = disk.alias ?? disk.name;
        if (input.diskIds && !input.diskIds.includes(id)) {
          skippedDisks.push({ id, name, reason: 'not in the requested disk list' });
          continue;
        }
        const reason = skipReason(disk);
        if (reason) skippedDisks.push({ id, name, reason });
        else eligibleDiskIds.push(id);
      }
      const unknown = (input.diskIds ?? []).filter((id) => !disks.some((d) => d['@_id'] === id));
      if (unknown.length) throw nonRetryable(`VM ${vm.name} has no disk(s) ${unknown.join(', ')}`, ErrorTypes.invalidInput);
      if (!eligibleDiskIds.length) {
        throw nonRetryable(
          `VM ${vm.name} has no disk that can be backed up by snapshot: ${skippedDisks.map((d) => `${d.name ?? d.id} (${d.reason})`).join(', ') || 'it has no disks'}`,
          ErrorTypes.invalidInput,
          { skippedDisks },
        );
      }
      return { vm: { id: vm.id, name: vm.name }, proxyVm: { id: proxyVm.id, name: proxyVm.name }, eligibleDiskIds, skippedDisks };
    },

    /** Creates the snapshot, or adopts the one an earlier attempt of this run created. */
    async ovirtCreateSnapshot(input: OvirtVmRef & { runId: string; description: string; diskIds: string[]; keep?: boolean }): Promise<{ snapshotId: string; adopted: boolean }> {
      const client = ovirt(input.endpoint);
      const tag = snapshotTag(input.runId);
      const existing = (await client.listSnapshots(input.vmId)).find((s) => s.description?.startsWith(tag));
      if (existing) return { snapshotId: existing['@_id'], adopted: true };
      // A snapshot meant to stay is marked so, so the reaper never takes it for a leftover.
      const description = `${tag}${input.keep ? ` ${KEPT_MARKER}` : ''} ${input.description}`;
      // A create whose answer timed out may still reach the engine: the retry must list after it lands.
      const snapshot = await client
        .createSnapshot(input.vmId, description, input.diskIds, input.runId)
        .catch((err: unknown) => failAfterLateCreateGrace(err, clients.profile(input.endpoint, 'ovirt')));
      return { snapshotId: snapshot['@_id'], adopted: false };
    },

    async ovirtWaitSnapshotReady(input: OvirtVmRef & { snapshotId: string; deadline: number; pollMs: number }): Promise<{ status: string }> {
      const client = ovirt(input.endpoint);
      let last = 'unknown';
      return pollUntil({ intervalMs: input.pollMs, deadline: { at: input.deadline, stillWaiting: () => `snapshot ${input.snapshotId} is still "locked"` } }, async () => {
        const snapshot = await client.getSnapshot(input.vmId, input.snapshotId).catch(notFoundAs(`snapshot ${input.snapshotId} disappeared while being created`));
        last = snapshot.snapshot_status ?? 'ok';
        if (last === 'ok') return { status: last };
        if (last !== 'locked') throw nonRetryable(`snapshot ${input.snapshotId} is "${last}", not usable for a backup`, ErrorTypes.stuck);
        return undefined;
      });
    },

    async ovirtGetSnapshotConfig(input: OvirtVmRef & { snapshotId: string }): Promise<{ type: string; data: string }> {
      const snapshot = await ovirt(input.endpoint).getSnapshot(input.vmId, input.snapshotId, { allContent: true });
      const config = snapshot.initialization?.configuration;
      if (!config?.data) {
        throw new VendorError({
          vendor: 'ovirt',
          operation: `GET /vms/${input.vmId}/snapshots/${input.snapshotId}?all_content=true`,
          vendorMessage: 'the snapshot has no initialization/configuration/data (OVF)',
          retryable: false,
        });
      }
      return { type: config.type ?? 'ovf', data: config.data };
    },

    async ovirtListSnapshotDisks(input: OvirtVmRef & { snapshotId: string }): Promise<SnapshotDiskInfo[]> {
      const disks = await ovirt(input.endpoint).listSnapshotDisks(input.vmId, input.snapshotId);
      return disks.map((d) => ({
        id: d['@_id'],
        name: d.alias ?? d.name,
        format: d.format,
        provisionedSize: d.provisioned_size,
        actualSize: d.actual_size,
      }));
    },

    /** Attaches a snapshot disk to the proxy VM, or adopts the attachment an earlier attempt made. */
    async ovirtAttachSnapshotDisk(input: { endpoint: string; proxyVmId: string; diskId: string; snapshotId: string }): Promise<AttachedDisk & { adopted: boolean }> {
      const client = ovirt(input.endpoint);
      const existing = await client.getAttachment(input.proxyVmId, input.diskId);
      if (existing) return { ...existing, adopted: true };
      return { ...(await client.attachSnapshotDisk(input.proxyVmId, input.diskId, input.snapshotId)), adopted: false };
    },

    /** Detaches the disk from the proxy VM; a disk that is not attached (any more) counts as done. */
    async ovirtDetachDisk(input: { endpoint: string; proxyVmId: string; diskId: string }): Promise<{ alreadyDetached: boolean }> {
      const client = ovirt(input.endpoint);
      try {
        // The engine names an attachment by its disk's id: no need to list the proxy's disks first.
        await client.detachDisk(input.proxyVmId, input.diskId);
        return { alreadyDetached: false };
      } catch (err) {
        if (err instanceof VendorError && err.isNotFound) return { alreadyDetached: true };
        throw err;
      }
    },

    /**
     * Deletes the run's snapshot (the given id, or every snapshot tagged with the run id when the
     * create's reply may have been lost) and waits until the engine no longer lists it.
     */
    async ovirtDeleteSnapshot(input: OvirtVmRef & { runId: string; snapshotId?: string; pollMs: number }): Promise<{ deleted: string[] }> {
      return retryUnreadable(() => deleteSnapshot(input));
    },

    /**
     * Retention for a schedule: of the snapshots this tool made and kept with `marker` in their
     * description, keeps the newest `keep` and deletes the rest (waiting until they are gone).
     * Snapshots the tool did not make, or made for another schedule, are never touched.
     */
    async ovirtPruneSnapshots(input: OvirtVmRef & { marker: string; keep: number; pollMs?: number }): Promise<{ kept: string[]; deleted: string[] }> {
      if (input.keep < 1) throw nonRetryable('retention must keep at least one snapshot', ErrorTypes.invalidInput);
      const client = ovirt(input.endpoint);
      const ours = (await client.listSnapshots(input.vmId))
        .filter((s) => s.description?.startsWith('[backup-orchestrator ') && s.description.includes(input.marker) && s.snapshot_status === 'ok')
        .sort((a, b) => Date.parse(b.date ?? '') - Date.parse(a.date ?? '') || b['@_id'].localeCompare(a['@_id']));
      const kept = ours.slice(0, input.keep).map((s) => s['@_id']);
      const doomed = ours.slice(input.keep).map((s) => s['@_id']);
      for (const snapshotId of doomed) {
        try {
          await client.deleteSnapshot(input.vmId, snapshotId);
        } catch (err) {
          if (!(err instanceof VendorError && err.isNotFound)) throw err;
        }
        heartbeat({ deleting: snapshotId });
      }
      const deadline = Date.now() + Math.max(1000, Context.current().info.startToCloseTimeoutMs - 5000);
      await pollUntil({ intervalMs: input.pollMs ?? 1000, deadline: { at: deadline, stillWaiting: () => `pruned snapshot(s) ${doomed.join(', ')} still being removed` } }, async () => {
        const present = (await client.listSnapshots(input.vmId)).some((s) => doomed.includes(s['@_id']));
        return present ? undefined : true;
      });
      return { kept, deleted: doomed };
    },
  };

  /**
   * Deletes the run's snapshot (the given id, or every snapshot tagged with the run id when the
   * create's reply may have been lost) and waits until the engine no longer lists it.
   */
  async function deleteSnapshot(input: OvirtVmRef & { runId: string; snapshotId?: string; pollMs: number }): Promise<{ deleted: string[] }> {
    const client = ovirt(input.endpoint);
    const tag = snapshotTag(input.runId);
    const targets = input.snapshotId ? [input.snapshotId] : (await client.listSnapshots(input.vmId)).filter((s) => s.description?.startsWith(tag)).map((s) => s['@_id']);
    for (const snapshotId of targets) {
      try {
        await client.deleteSnapshot(input.vmId, snapshotId);
      } catch (err) {
        if (!(err instanceof VendorError && err.isNotFound)) throw err;
      }
    }
    const deadline = Date.now() + Math.max(1000, Context.current().info.startToCloseTimeoutMs - 5000);
    await pollUntil({ intervalMs: input.pollMs, deadline: { at: deadline, stillWaiting: () => `snapshot(s) ${targets.join(', ')} still being removed` } }, async () => {
      const present = (await client.listSnapshots(input.vmId)).some((s) => targets.includes(s['@_id']));
      return present ? undefined : true;
    });
    return { deleted: targets };
  }
}

export type OvirtActivities = ReturnType<typeof createOvirtActivities>;
