import { z } from 'zod';
import { endpointName } from '../input-fields';

/** ManageIQ ids are bigints: digits, given as a string (or a number, for convenience). */
/** At least two characters and ending in a separator, so it cannot match an admin's own snapshots by accident. */
const snapshotNamePrefix = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.]*[-_.]$/, 'namePrefix must be letters/digits ending in "-", "_" or ".", e.g. "bo-"')
  .max(40);

const miqId = (what: string) =>
  z
    .union([z.string(), z.number().int().nonnegative()], { error: `${what} is required (a ManageIQ id, e.g. "10000000000042")` })
    .transform(String)
    .pipe(z.string().regex(/^\d{1,20}$/, `${what} must be a ManageIQ id (digits)`));

const collection = z.enum(['vms', 'instances']).default('vms');
const pollIntervalMs = z.number().int().min(50).max(60_000).default(2_000);
const taskTimeoutSeconds = z.number().int().min(1).max(86_400).default(1_800);

export const manageiqSnapshotInput = z.strictObject({
  endpoint: endpointName,
  /** vms (default) or instances: which subcollection the resource lives in. */
  collection,
  resourceId: miqId('resourceId'),
  description: z.string().max(255).default('backup-orchestrator snapshot'),
  /** Include the memory state (VMs on providers that support it). */
  memory: z.boolean().default(false),
  /**
   * Snapshots this tool made start with this prefix; retention only ever looks at those. At least
   * two characters and ending in a separator, so it cannot match an admin's own snapshots by accident.
   */
  namePrefix: snapshotNamePrefix.default('bo-'),
  /** Keep the newest N tool-made snapshots (the new one included); older ones are deleted. */
  keep: z.number().int().min(1).max(1000).default(7),
  taskTimeoutSeconds,
  pollIntervalMs,
});
export type ManageiqSnapshotInput = z.input<typeof manageiqSnapshotInput>;

export const manageiqRevertInput = z
  .strictObject({
    endpoint: endpointName,
    collection,
    resourceId: miqId('resourceId'),
    /** The snapshot to revert to (default: the newest one). */
    snapshotName: z.string().min(1).max(255).optional(),
    snapshotId: miqId('snapshotId').optional(),
    taskTimeoutSeconds,
    pollIntervalMs,
  })
  .refine((i) => i.snapshotName === undefined || i.snapshotId === undefined, { path: ['snapshotId'], message: 'give snapshotName or snapshotId, not both' });
export type ManageiqRevertInput = z.input<typeof manageiqRevertInput>;

export const manageiqDeleteSnapshotsInput = z
  .strictObject({
    endpoint: endpointName,
    collection,
    resourceId: miqId('resourceId'),
    /** The snapshots to delete, by id: one that is not there is reported as failed. */
    snapshotIds: z.array(miqId('snapshotIds[]')).min(1, 'snapshotIds must name at least one snapshot').max(1000).optional(),
    /** Or every snapshot of the resource whose name starts with this (e.g. "bo-", what manageiqSnapshot makes): only ones that exist. */
    namePrefix: snapshotNamePrefix.optional(),
    /** Wait for each removal task and report its final status (default true). */
    waitForTasks: z.boolean().default(true),
    pollIntervalMs,
  })
  .refine((i) => (i.snapshotIds === undefined) !== (i.namePrefix === undefined), { path: ['snapshotIds'], message: 'give snapshotIds or namePrefix (exactly one)' });
export type ManageiqDeleteSnapshotsInput = z.input<typeof manageiqDeleteSnapshotsInput>;
