/**
 * The engine side of "Restoring a Virtual Machine" (create disks, attach, create the VM from the
 * OVF, attach, start) and of its undo. Declared apart from the implementation so that the restore
 * and drill workflows can be written against it (types only).
 *
 * Every object a restore creates carries the run's restore tag in its description
 * (`restoreTag(runId)`), so a retried create adopts what an earlier attempt made, and the undo only
 * ever removes what this run made: a VM or disk without the tag is never deleted.
 */
import type { AttachedDisk } from './client';

export interface RestoreDiskPlan {
  /** The backed-up disk's id (the source). */
  sourceDiskId: string;
  provisionedSize: number;
}

export interface RestorePreflightInput {
  endpoint: string;
  proxyVmId: string;
  /** The new VM's name; omitted for disksOnly. The name must be free. */
  targetVmName?: string;
  /** Cluster name or id for the new VM; required unless disksOnly. */
  cluster?: string;
  /** Storage domain name or id for every disk; default: each source disk's domain when it still exists. */
  storageDomain?: string;
  disks: RestoreDiskPlan[];
}

export interface RestorePreflightResult {
  proxyVm: { id: string; name: string };
  cluster?: { id: string; name: string };
  placements: Array<{ sourceDiskId: string; storageDomainId: string; storageDomainName: string }>;
}

export interface OvirtRestoreActivities {
  /**
   * Checks before anything is created: the proxy exists, the target name is free, the cluster and the
   * storage domain(s) exist, and each domain has room for the provisioned sizes placed on it.
   * Each failure is non-retryable ErrorTypes.invalidInput with a one-line message.
   */
  ovirtRestorePreflight(input: RestorePreflightInput): Promise<RestorePreflightResult>;
  /** POST /disks (floating), or adopts the disk of this run and source made by an earlier attempt. */
  ovirtCreateRestoreDisk(input: {
    endpoint: string;
    runId: string;
    sourceDiskId: string;
    name: string;
    provisionedSize: number;
    format: 'raw' | 'cow';
    sparse: boolean;
    storageDomainId: string;
  }): Promise<{ diskId: string; adopted: boolean }>;
  /** Polls GET /disks/{id} until `ok` (heartbeating); `illegal` or a vanished disk fails non-retryably. */
  ovirtWaitDiskReady(input: { endpoint: string; diskId: string; deadline: number; pollMs: number }): Promise<{ status: string }>;
  /** Attaches a floating disk to a VM (the proxy, or the new VM), or adopts an existing attachment. */
  ovirtAttachDisk(input: { endpoint: string; vmId: string; diskId: string; bootable: boolean }): Promise<AttachedDisk & { adopted: boolean }>;
  /** POST /vms with the OVF as initialization/configuration, the new name and cluster; adopts this run's VM. */
  ovirtCreateVmFromOvf(input: { endpoint: string; runId: string; name: string; cluster: string; ovf: string }): Promise<{ vmId: string; adopted: boolean }>;
  /** Polls GET /vms/{id} until its status is `want` (down: created and unlocked; up: booted). */
  ovirtWaitVmStatus(input: { endpoint: string; vmId: string; want: 'down' | 'up'; deadline: number; pollMs: number }): Promise<{ status: string }>;
  /** POST /vms/{id}/start; a VM already up counts as started. */
  ovirtStartVm(input: { endpoint: string; vmId: string }): Promise<{ alreadyUp: boolean }>;
  /**
   * Removes the VM this run created (by id, or found by the run's tag when the create's reply was
   * lost), stopping it first and removing its disks with it; waits until it is gone. A VM without
   * the run's tag is refused, never removed.
   */
  ovirtDeleteRestoredVm(input: { endpoint: string; runId: string; vmId?: string; pollMs: number }): Promise<{ deleted: string[] }>;
  /**
   * Removes the floating disks this run created (the given ids, or every disk with the run's tag),
   * waiting until they are gone. A disk without the tag is refused, never removed. A disk still
   * attached somewhere is detached first.
   */
  ovirtDeleteRestoredDisks(input: { endpoint: string; runId: string; diskIds?: string[]; pollMs: number }): Promise<{ deleted: string[] }>;
}

/** Starts the description of every VM and disk a restore creates. */
export function restoreTag(runId: string): string {
  return `[backup-orchestrator restore ${runId}]`;
}
