/** What `ovirtIncrementalBackup` accepts: the VM, its disks, and the copy worker whose repository holds the chain. */
import { z } from 'zod';
import { endpointName, vendorId } from '../input-fields';

export const ovirtIncrementalBackupInput = z
  .strictObject({
    endpoint: endpointName,
    vmId: vendorId('vmId'),
    /** Back up only these disks (default: every disk whose `backup` is incremental). A disk without incremental backup is backed up in full every time. */
    diskIds: z.array(vendorId('diskIds[]')).min(1).optional(),
    /** A full backup of every disk, whatever the chain holds. */
    full: z.boolean().default(false),
    /** The VM whose copy worker holds the repository (queue backup-copy-<id>); no disk is attached to it. */
    proxyVmId: vendorId('proxyVmId').optional(),
    /** Or the copy worker's queue itself. */
    copyTaskQueue: z.string().min(1).optional(),
    description: z.string().max(200).default('incremental backup'),
    /** How long the engine may take to get a backup ready (initializing → ready). */
    backupReadyTimeoutSeconds: z.number().int().min(1).max(86_400).default(1_800),
    /** How long a finalized backup may stay in `finalizing` before the run asks an operator. */
    finalizeTimeoutSeconds: z.number().int().min(1).max(86_400).default(600),
    /** How often to look at a backup or a transfer that is changing phase. */
    pollIntervalMs: z.number().int().min(50).max(60_000).default(1_000),
  })
  .refine((i) => i.proxyVmId !== undefined || i.copyTaskQueue !== undefined, {
    message: 'give proxyVmId (the VM whose copy worker holds the repository) or copyTaskQueue',
    path: ['proxyVmId'],
  });

export type OvirtIncrementalBackupInput = z.input<typeof ovirtIncrementalBackupInput>;
export type OvirtIncrementalBackupParsed = z.output<typeof ovirtIncrementalBackupInput>;
