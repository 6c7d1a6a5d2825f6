/**
 * The engine side of "Restoring a Virtual Machine" and of its undo (the interface in
 * restore-types.ts). Creates carry the run's restore tag and adopt what an earlier attempt of the
 * run made; removes touch only what carries the tag and count "already gone" as done.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { pollUntil } from '../poll-until';
import { retryUnreadable } from '../retry-unreadable';
import { failAfterLateCreateGrace } from '../late-create';
import { ErrorTypes, MalformedResponseError, VendorError, nonRetryable, notFoundAs } from '../../lib/errors';
import type { EndpointClients } from '../endpoint-clients';
import { OvirtClient, type OvirtRef, type OvirtVmSummary } from './client';
import type { OvirtDisk, OvirtStorageDomain } from './schemas';
import { restoreTag, type OvirtRestoreActivities, type RestorePreflightResult } from './restore-types';

const GiB = 1024 ** 3;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A VM in these states is running, or on its way there: it must be stopped before it can be removed. */
const RUNNING = new Set(['up', 'powering_up', 'wait_for_launch', 'reboot_in_progress', 'paused', 'migrating', 'powering_down', 'not_responding', 'suspended', 'saving_state', 'restoring_state']);

const isNotFound = (err: unknown) => err instanceof VendorError && err.isNotFound;
const isConflict = (err: unknown) => err instanceof VendorError && err.status === 409;
const invalid = (message: string) => nonRetryable(message, ErrorTypes.invalidInput);

/** "3.5", "0.00391", "120": enough digits to tell a few MiB from nothing. */
function gib(bytes: number): string {
  const v = bytes / GiB;
  return v >= 10 ? v.toFixed(0) : String(Number(v.toPrecision(3)));
}

/** What a restore writes into a disk's description: the tag, then the source it restores. */
function diskDescription(runId: string, sourceDiskId: string): string {
  return `${restoreTag(runId)} restored from disk ${sourceDiskId}`;
}

/** The deadline an undo waits until: most of the activity's own time. */
function undoDeadline(): number {
  return Date.now() + Math.max(1000, Context.current().info.startToCloseTimeoutMs - 5000);
}

export function createOvirtRestoreActivities(clients: EndpointClients): OvirtRestoreActivities {
  const ovirt = (endpoint: string) => clients.client(endpoint, 'ovirt', (profile, env) => new OvirtClient(profile, env));

  /** A storage domain or cluster named by id (uuid-shaped) or by name; undefined when there is none. */
  async function findDomain(client: OvirtClient, ref: string): Promise<OvirtStorageDomain | undefined> {
    if (!UUID.test(ref)) return client.findStorageDomainByName(ref);
    return client.getStorageDomain(ref).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
  }
  async function findCluster(client: OvirtClient, ref: string): Promise<{ id: string; name: string } | undefined> {
    if (!UUID.test(ref)) return client.findClusterByName(ref);
    return client.getCluster(ref).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
  }
  const clusterRef = (ref: string): OvirtRef => (UUID.test(ref) ? { id: ref } : { name: ref });

  const tagged = (description: string | undefined, runId: string) => description?.startsWith(restoreTag(runId)) ?? false;
  /** The run's objects by description; the engine's search narrows, the tag decides. */
  const runSearch = (runId: string) => `description=*${runId}*`;

  async function waitGone(what: string, deadline: number, pollMs: number, present: () => Promise<boolean>): Promise<void> {
    await pollUntil({ intervalMs: pollMs, deadline: { at: deadline, stillWaiting: () => `${what} still being removed` } }, async () => ((await present()) ? undefined : true));
  }

  const stillThere = (read: () => Promise<unknown>) => async () => {
    try {
      await read();
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  };

  /** Stops a VM that runs and waits until it is down (an image_locked one is waited for). */
  async function bringDown(client: OvirtClient, vm: OvirtVmSummary, deadline: number, pollMs: number): Promise<void> {
    if (vm.status === 'down') return;
    if (RUNNING.has(vm.status ?? '')) {
      await client.stopVm(vm.id).catch((err: unknown) => {
        if (!isConflict(err)) throw err; // already down, or locked: the wait below decides
      });
    }
    await pollUntil({ intervalMs: pollMs, deadline: { at: deadline, stillWaiting: () => `VM ${vm.name} is still not down` } }, async () => {
      const now = await client.getVm(vm.id);
      if (now.status === 'down') return true;
      if (RUNNING.has(now.status ?? '')) await client.stopVm(vm.id).catch((err: unknown) => (isConflict(err) ? undefined : Promise.reject(err)));
      return undefined;
    });
  }

  /** Detaches the disk from every VM that holds it (the proxy, the new VM). */
  async function detachEverywhere(client: OvirtClient, diskId: string): Promise<void> {
    for (const vm of await client.listVms()) {
      if (!(await client.getAttachment(vm.id, diskId))) continue;
      await client.detachDisk(vm.id, diskId).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    }
  }

  return {
    async ovirtRestorePreflight(input): Promise<RestorePreflightResult> {
      const client = ovirt(input.endpoint);
      const where = `on endpoint "${input.endpoint}"`;
      const proxyVm = await client.getVm(input.proxyVmId).catch((err: unknown) => {
        if (isNotFound(err)) throw invalid(`proxy VM ${input.proxyVmId} does not exist ${where}`);
        throw err;
      });

      let cluster: RestorePreflightResult['cluster'];
      if (input.targetVmName !== undefined) {
        if (await client.findVmByName(input.targetVmName)) throw invalid(`a VM named ${input.targetVmName} already exists ${where}`);
        if (!input.cluster) throw invalid(`no cluster given for the new VM ${input.targetVmName}`);
      }
      if (input.cluster) {
        cluster = await findCluster(client, input.cluster);
        if (!cluster) throw invalid(`cluster ${input.cluster} does not exist ${where}`);
      }

      const domains = new Map<string, OvirtStorageDomain>();
      const placements: RestorePreflightResult['placements'] = [];
      if (input.storageDomain) {
        const domain = await findDomain(client, input.storageDomain);
        if (!domain) throw invalid(`storage domain ${input.storageDomain} does not exist ${where}`);
        domains.set(domain['@_id'], domain);
        for (const d of input.disks) placements.push({ sourceDiskId: d.sourceDiskId, storageDomainId: domain['@_id'], storageDomainName: domain.name });
      } else {
        for (const d of input.disks) {
          const source = await client.getDisk(d.sourceDiskId).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
          if (!source) throw invalid(`no storage domain given and source disk ${d.sourceDiskId} no longer exists ${where}`);
          const domainId = source.storage_domains ? storageDomainIds(source)[0] : undefined;
          const domain = domainId ? (domains.get(domainId) ?? (await findDomain(client, domainId))) : undefined;
          if (!domain) throw invalid(`no storage domain given and source disk ${d.sourceDiskId}'s domain no longer exists ${where}`);
          domains.set(domain['@_id'], domain);
          placements.push({ sourceDiskId: d.sourceDiskId, storageDomainId: domain['@_id'], storageDomainName: domain.name });
        }
      }

      for (const domain of domains.values()) {
        const need = input.disks.filter((d) => placements.some((p) => p.sourceDiskId === d.sourceDiskId && p.storageDomainId === domain['@_id'])).reduce((sum, d) => sum + d.provisionedSize, 0);
        if (domain.available !== undefined && domain.available < need) {
          throw invalid(`storage domain ${domain.name} has ${gib(domain.available)} GiB free, the restored disks need ${gib(need)} GiB`);
        }
      }
      return { proxyVm: { id: proxyVm.id, name: proxyVm.name }, cluster, placements };
    },

    async ovirtCreateRestoreDisk(input) {
      const client = ovirt(input.endpoint);
      const description = diskDescription(input.runId, input.sourceDiskId);
      const existing = (await client.listDisks(runSearch(input.runId))).find((d) => d.description?.startsWith(description));
      if (existing) return { diskId: existing['@_id'], adopted: true };
      const disk = await client
        .createDisk({ name: input.name, description, provisionedSize: input.provisionedSize, format: input.format, sparse: input.sparse, storageDomainId: input.storageDomainId })
        .catch((err: unknown) => {
          // The domain filled up after the preflight: no retry makes room.
          if (isConflict(err) && /low disk space/i.test((err as VendorError).vendorMessage)) throw nonRetryable((err as Error).message, ErrorTypes.vendorRejected);
          return failAfterLateCreateGrace(err, clients.profile(input.endpoint, 'ovirt'));
        });
      return { diskId: disk['@_id'], adopted: false };
    },

    async ovirtWaitDiskReady(input) {
      const client = ovirt(input.endpoint);
      return pollUntil({ intervalMs: input.pollMs, deadline: { at: input.deadline, stillWaiting: () => `disk ${input.diskId} is still "locked"` } }, async () => {
        const disk = await client.getDisk(input.diskId).catch(notFoundAs(`disk ${input.diskId} disappeared while being created`));
        const status = disk.status ?? 'ok';
        if (status === 'ok') return { status };
        if (status !== 'locked') throw nonRetryable(`disk ${input.diskId} is "${status}", not usable for a restore`, ErrorTypes.stuck);
        return undefined;
      });
    },

    async ovirtAttachDisk(input) {
      const client = ovirt(input.endpoint);
      const existing = await client.getAttachment(input.vmId, input.diskId);
      if (existing) return { ...existing, adopted: true };
      return { ...(await client.attachDisk(input.vmId, input.diskId, { bootable: input.bootable })), adopted: false };
    },

    async ovirtCreateVmFromOvf(input) {
      const client = ovirt(input.endpoint);
      const tag = restoreTag(input.runId);
      const existing = await client.findVmByName(input.name);
      if (existing) {
        if (tagged(existing.description, input.runId)) return { vmId: existing.id, adopted: true };
        throw invalid(`a VM named ${input.name} already exists on endpoint "${input.endpoint}"`);
      }
      const vm = await client.createVmFromOvf({ name: input.name, description: `${tag} restored VM`, cluster: clusterRef(input.cluster), ovf: input.ovf }).catch((err: unknown) => {
        if (isNotFound(err)) throw invalid(`cluster ${input.cluster} does not exist on endpoint "${input.endpoint}"`);
        return failAfterLateCreateGrace(err, clients.profile(input.endpoint, 'ovirt'));
      });
      return { vmId: vm.id, adopted: false };
    },

    async ovirtWaitVmStatus(input) {
      const client = ovirt(input.endpoint);
      let last = 'unknown';
      return pollUntil({ intervalMs: input.pollMs, deadline: { at: input.deadline, stillWaiting: () => `VM ${input.vmId} is still "${last}", not "${input.want}"` } }, async () => {
        const vm = await client.getVm(input.vmId).catch(notFoundAs(`VM ${input.vmId} disappeared while waiting for it to be ${input.want}`));
        last = vm.status ?? 'unknown';
        return last === input.want ? { status: last } : undefined;
      });
    },

    async ovirtStartVm(input) {
      const client = ovirt(input.endpoint);
      const vm = await client.getVm(input.vmId);
      if (RUNNING.has(vm.status ?? '')) return { alreadyUp: true };
      try {
        await client.startVm(input.vmId);
        return { alreadyUp: false };
      } catch (err) {
        // A start whose reply was lost: the retry finds it running.
        if (isConflict(err) && RUNNING.has((await client.getVm(input.vmId)).status ?? '')) return { alreadyUp: true };
        throw err;
      }
    },

    ovirtDeleteRestoredVm: (input) => retryUnreadable(() => deleteRestoredVm(input)),
    ovirtDeleteRestoredDisks: (input) => retryUnreadable(() => deleteRestoredDisks(input)),
  } satisfies OvirtRestoreActivities;

  async function deleteRestoredVm(input: Parameters<OvirtRestoreActivities['ovirtDeleteRestoredVm']>[0]) {
    const client = ovirt(input.endpoint);
    const deadline = undoDeadline();
    let targets: OvirtVmSummary[];
    if (input.vmId) {
      const vm = await client.getVm(input.vmId).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
      targets = vm ? [vm] : [];
    } else {
      targets = (await client.listVms(runSearch(input.runId))).filter((vm) => tagged(vm.description, input.runId));
    }
    for (const vm of targets) {
      if (!tagged(vm.description, input.runId)) throw invalid(`refusing to remove VM ${vm.name} (${vm.id}): it was not created by restore run ${input.runId}`);
    }
    for (const vm of targets) {
      await bringDown(client, vm, deadline, input.pollMs);
      // The engine removes the VM's disks with it: only when every one is this run's.
      const disks = await Promise.all((await client.listAttachments(vm.id)).map((a) => client.getDisk(a.diskId)));
      const foreign = disks.filter((d) => !tagged(d.description, input.runId));
      try {
        await client.deleteVm(vm.id, { detachOnly: foreign.length > 0 });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      if (foreign.length > 0) {
        for (const d of disks.filter((x) => tagged(x.description, input.runId))) {
          await client.deleteDisk(d['@_id']).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
        }
      }
    }
    await waitGone(`VM(s) ${targets.map((vm) => vm.name).join(', ')}`, deadline, input.pollMs, async () => {
      for (const vm of targets) if (await stillThere(() => client.getVm(vm.id))()) return true;
      return false;
    });
    return { deleted: targets.map((vm) => vm.id) };
  }

  async function deleteRestoredDisks(input: Parameters<OvirtRestoreActivities['ovirtDeleteRestoredDisks']>[0]) {
    const client = ovirt(input.endpoint);
    const deadline = undoDeadline();
    let disks: OvirtDisk[];
    if (input.diskIds) {
      disks = [];
      for (const id of input.diskIds) {
        const disk = await client.getDisk(id).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
        if (disk) disks.push(disk);
      }
    } else {
      disks = (await client.listDisks(runSearch(input.runId))).filter((d) => tagged(d.description, input.runId));
    }
    for (const disk of disks) {
      if (!tagged(disk.description, input.runId)) throw invalid(`refusing to remove disk ${disk.alias ?? disk.name ?? ''} (${disk['@_id']}): it was not created by restore run ${input.runId}`);
    }
    for (const disk of disks) {
      const id = disk['@_id'];
      // A disk still being created cannot be removed yet.
      await pollUntil({ intervalMs: input.pollMs, deadline: { at: deadline, stillWaiting: () => `disk ${id} is still "locked"` } }, async () => {
        const now = await client.getDisk(id).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
        return now?.status === 'locked' ? undefined : true;
      });
      await detachEverywhere(client, id);
      await client.deleteDisk(id).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    }
    const ids = disks.map((d) => d['@_id']);
    await waitGone(`disk(s) ${ids.join(', ')}`, deadline, input.pollMs, async () => {
      for (const id of ids) if (await stillThere(() => client.getDisk(id))()) return true;
      return false;
    });
    return { deleted: ids };
  }
}

function storageDomainIds(disk: OvirtDisk): string[] {
  const domains = disk.storage_domains;
  if (!domains || !domains.storage_domain) return [];
  return (Array.isArray(domains.storage_domain) ? domains.storage_domain : [domains.storage_domain]).map((d) => d['@_id']);
}
