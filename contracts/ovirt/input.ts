import { z } from 'zod';
import { endpointName, vendorId } from '../input-fields';

export const ovirtSnapshotBackupInput = z.strictObject({
  endpoint: endpointName,
  vmId: vendorId('vmId'),
  /** The VM that runs the copy worker and receives the snapshot disks. */
  proxyVmId: vendorId('proxyVmId'),
  /** Back up only these disks (default: every disk that can be snapshotted). */
  diskIds: z.array(vendorId('diskIds[]')).min(1).optional(),
  description: z.string().max(200).default('backup'),
  /** Leave the snapshot on the engine after the copy (default: delete it). */
  keepSnapshot: z.boolean().default(false),
  snapshotReadyTimeoutSeconds: z.number().int().min(1).max(86_400).default(1_800),
  /** Override the copy worker's queue (default: backup-copy-<proxyVmId>). */
  copyTaskQueue: z.string().min(1).optional(),
  /** How often to look at a snapshot that is being created or removed. */
  pollIntervalMs: z.number().int().min(50).max(60_000).default(1_000),
});

export type OvirtSnapshotBackupInput = z.input<typeof ovirtSnapshotBackupInput>;
export type OvirtSnapshotBackupParsed = z.output<typeof ovirtSnapshotBackupInput>;
