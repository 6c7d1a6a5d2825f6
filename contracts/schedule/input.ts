import { z } from 'zod';
import { KEEP_RULES, type KeepRuleName } from '../retention/keep-rules';

export const scheduledBackupInput = z.strictObject({
  scheduleId: z.string().min(1),
  /** The vendor workflow to run (a catalog entry). */
  workflowType: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  retention: z.strictObject({ keep: z.number().int().min(1) }).optional(),
  /**
   * Keep rules for the backups in the repository, with the schedule's time zone: pruneBackups after
   * a success, which checks them in full (its schema is not built here: this module loads with every scheduled run).
   */
  repositoryRetention: z
    .strictObject({
      ...(Object.fromEntries(KEEP_RULES.map((rule) => [rule, z.number().int().min(0).optional()])) as Record<KeepRuleName, z.ZodOptional<z.ZodNumber>>),
      timeZone: z.string().min(1).optional(),
    })
    .optional(),
});

export type ScheduledBackupInput = z.input<typeof scheduledBackupInput>;
