import { z } from 'zod';
import { endpointName } from '../input-fields';

export const reaperInput = z.strictObject({
  /** Endpoint profiles to sweep, of any vendor (oVirt, ManageIQ, OnApp, Azure; Altaro leaves nothing to reap). */
  endpoints: z.array(endpointName).min(1),
  /** List what would be removed, remove nothing. */
  dryRun: z.boolean().default(false),
  /** A run that visibility does not know yet may just have started: leave its objects this long. */
  unknownRunGraceMinutes: z
    .number()
    .min(0)
    .max(7 * 24 * 60)
    .default(60),
  pollIntervalMs: z.number().int().min(50).max(60_000).default(1_000),
});
export type ReaperInput = z.input<typeof reaperInput>;
