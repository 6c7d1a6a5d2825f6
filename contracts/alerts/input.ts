import { z } from 'zod';

const minutes = z
  .number()
  .int()
  .min(1)
  .max(366 * 24 * 60);

export const rpoTarget = z.strictObject({
  provider: z.string().min(1),
  vmId: z.string().min(1),
  /** How often the VM is backed up: a good backup older than this plus the grace is a missed RPO. */
  expectedIntervalMinutes: minutes,
  graceMinutes: minutes.optional(),
});

export const rpoWatchInput = z.strictObject({
  /** VMs to watch, besides (or instead of) the scheduled ones. */
  targets: z.array(rpoTarget).default([]),
  /** Watch every backup schedule's VM at the schedule's interval; default: when no targets are given. */
  schedules: z.boolean().optional(),
  /** Slack after the expected interval before a backup counts as missed (a target may say its own). */
  graceMinutes: minutes.default(60),
});

/** Whether a watch covers the scheduled VMs: as asked, or when it names none of its own. */
export const watchesSchedules = (input: z.output<typeof rpoWatchInput>): boolean => input.schedules ?? input.targets.length === 0;

export type RpoTarget = z.output<typeof rpoTarget>;
export type RpoWatchInput = z.input<typeof rpoWatchInput>;
