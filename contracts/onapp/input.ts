import { z } from 'zod';
import { endpointName } from '../input-fields';

/** OnApp ids are whole numbers. */
export const onappId = (what: string) =>
  z
    .number({ error: `${what} is required (a whole number)` })
    .int(`${what} must be a whole number`)
    .positive(`${what} must be positive`);

export const onappBackupInput = z
  .strictObject({
    endpoint: endpointName,
    virtualServerId: onappId('virtualServerId'),
    /** incremental (default): the whole server; normal: an image of one disk. */
    backupType: z.enum(['incremental', 'normal']).default('incremental'),
    /** For a normal backup: the disk (default: the server's primary disk). */
    diskId: onappId('diskId').optional(),
    /** Free text after the run tag in the backup's note. */
    note: z.string().max(200).optional(),
    /** How long the backup may take to build. */
    buildTimeoutSeconds: z.number().int().min(1).max(86_400).default(3_600),
    /** How often the server's backup list is read while the backup is being built. */
    pollIntervalMs: z.number().int().min(50).max(300_000).default(5_000),
  })
  .refine((i) => i.diskId === undefined || i.backupType === 'normal', { path: ['diskId'], message: 'diskId applies to normal (per-disk) backups only' });

export type OnappBackupInput = z.input<typeof onappBackupInput>;

export const onappListBackupsInput = z.strictObject({
  endpoint: endpointName,
  virtualServerId: onappId('virtualServerId'),
  /** all (default), normal (disk images) or incremental (file backups). */
  kind: z.enum(['all', 'normal', 'incremental']).default('all'),
});

export type OnappListBackupsInput = z.input<typeof onappListBackupsInput>;
