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

export const onappRestoreInput = z
  .strictObject({
    endpoint: endpointName,
    /** The server the backup is restored onto: OnApp restores a backup onto the server it was taken of. */
    virtualServerId: onappId('virtualServerId'),
    /** A backup of that server, or "latest": its newest built backup (of `backupType`, or of `diskId`, when given). */
    backupId: z.union([onappId('backupId'), z.literal('latest')], { error: 'backupId must be a backup id (a whole number) or "latest"' }),
    /** With "latest": only backups of this kind. */
    backupType: z.enum(['incremental', 'normal']).optional(),
    /** With "latest": only normal backups of this disk. */
    diskId: onappId('diskId').optional(),
    /** How long the server may stay locked by the restore. */
    restoreTimeoutSeconds: z.number().int().min(1).max(86_400).default(3_600),
    /** How often the server is read while the restore keeps it locked. */
    pollIntervalMs: z.number().int().min(50).max(300_000).default(5_000),
  })
  .refine((i) => i.backupId === 'latest' || (i.backupType === undefined && i.diskId === undefined), {
    path: ['backupId'],
    message: 'backupType and diskId choose among backups for backupId "latest" only',
  })
  .refine((i) => i.diskId === undefined || i.backupType !== 'incremental', { path: ['diskId'], message: 'diskId picks a normal (per-disk) backup; incremental backups are of the whole server' });

export type OnappRestoreInput = z.input<typeof onappRestoreInput>;
