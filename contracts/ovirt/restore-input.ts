/** What `ovirtRestore` and `ovirtRestoreDrill` accept: a backup in the repository, and where it is restored to. */
import { z } from 'zod';
import { endpointName, vendorId } from '../input-fields';

/** The engine's own limit on VM names, and the characters it accepts in them. */
export const OVIRT_VM_NAME_MAX = 64;
const vmName = z
  .string()
  .trim()
  .min(1, 'vmName must not be empty')
  .max(OVIRT_VM_NAME_MAX, `vmName must be at most ${OVIRT_VM_NAME_MAX} characters`)
  .regex(/^[A-Za-z0-9_.-]+$/, 'vmName may hold letters, digits, . _ - only');

const restoreFields = {
  endpoint: endpointName,
  /** A repository folder (ovirt/<vm>-<id>/<stamp>), the workflow id of the backup run, or `latest`: the VM's newest good backup. */
  backup: z.string().trim().min(1, 'backup must not be empty: a repository folder, a backup workflow id, or "latest"').max(300).default('latest'),
  /** The backed-up VM; needed for `latest`. */
  vmId: vendorId('vmId').optional(),
  /** The VM that runs the copy worker: the new disks are attached to it while their images are written. */
  proxyVmId: vendorId('proxyVmId'),
  /** Override the copy worker's queue (default: backup-copy-<proxyVmId>). */
  copyTaskQueue: z.string().min(1).optional(),
  /** Cluster (name or id) of the new VM; required unless disksOnly. */
  cluster: z.string().trim().min(1, 'cluster must not be empty').max(200).optional(),
  /** Storage domain (name or id) for every restored disk (default: each source disk's domain, when it still exists). */
  storageDomain: z.string().trim().min(1, 'storageDomain must not be empty').max(200).optional(),
  /** Restore only these of the backup's disks (default: all). */
  diskIds: z.array(vendorId('diskIds[]')).min(1).optional(),
  /** Floating disks only, no VM (to attach to an existing VM by hand). */
  disksOnly: z.boolean().default(false),
  diskReadyTimeoutSeconds: z.number().int().min(1).max(86_400).default(1_800),
  vmReadyTimeoutSeconds: z.number().int().min(1).max(86_400).default(600),
  /** How often to look at a disk or VM that is being created or removed. */
  pollIntervalMs: z.number().int().min(50).max(60_000).default(1_000),
};

/** Rules across fields, reported on the field to fix. */
function crossChecks(i: { backup: string; vmId?: string; disksOnly: boolean; cluster?: string }, ctx: z.RefinementCtx): void {
  if (i.backup === 'latest' && !i.vmId) ctx.addIssue({ code: 'custom', path: ['vmId'], message: 'vmId is required when backup is "latest" (whose newest backup?)' });
  if (!i.disksOnly && !i.cluster) ctx.addIssue({ code: 'custom', path: ['cluster'], message: 'cluster is required for the new VM (or set disksOnly)' });
}

export const ovirtRestoreInput = z
  .strictObject({
    ...restoreFields,
    /** The new VM's name (default: <source VM>-restored-<yyyymmdd-hhmm>); with disksOnly, the restored disks' name prefix. */
    vmName: vmName.optional(),
  })
  .superRefine(crossChecks);

export const ovirtRestoreDrillInput = z
  .strictObject({
    ...restoreFields,
    /** Start the sandbox VM and wait until it is up. */
    boot: z.boolean().default(false),
    bootTimeoutSeconds: z.number().int().min(1).max(86_400).default(600),
  })
  .superRefine((i, ctx) => {
    crossChecks(i, ctx);
    if (i.boot && i.disksOnly) ctx.addIssue({ code: 'custom', path: ['boot'], message: 'boot needs a VM: it cannot go with disksOnly' });
  });

export type OvirtRestoreInput = z.input<typeof ovirtRestoreInput>;
export type OvirtRestoreParsed = z.output<typeof ovirtRestoreInput>;
export type OvirtRestoreDrillInput = z.input<typeof ovirtRestoreDrillInput>;
export type OvirtRestoreDrillParsed = z.output<typeof ovirtRestoreDrillInput>;
/** What the restore and the drill share. */
export type OvirtRestoreCommon = Omit<OvirtRestoreParsed, 'vmName'>;
