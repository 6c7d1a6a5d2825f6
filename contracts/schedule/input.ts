import { z } from 'zod';

export const scheduledBackupInput = z.strictObject({
  scheduleId: z.string().min(1),
  /** The vendor workflow to run (a catalog entry). */
  workflowType: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  retention: z.strictObject({ keep: z.number().int().min(1) }).optional(),
});

export type ScheduledBackupInput = z.input<typeof scheduledBackupInput>;
