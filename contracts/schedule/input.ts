import { z } from 'zod';
import { repositoryRetention } from '../retention/input';

export const scheduledBackupInput = z.strictObject({
  scheduleId: z.string().min(1),
  /** The vendor workflow to run (a catalog entry). */
  workflowType: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  retention: z.strictObject({ keep: z.number().int().min(1) }).optional(),
  /** Keep rules for the backups in the repository (pruneBackups after a success), with the schedule's time zone. */
  repositoryRetention: repositoryRetention.optional(),
});

export type ScheduledBackupInput = z.input<typeof scheduledBackupInput>;
