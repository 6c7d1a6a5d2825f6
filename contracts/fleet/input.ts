import { z } from 'zod';

/** Where each VM of a fleet ended up. `cancelled`: its run was cancelled; `not-started`: the fleet was cancelled before it got to it. */
export const fleetOutcomeKind = z.enum(['succeeded', 'failed', 'skipped', 'cancelled', 'not-started']);
export type FleetOutcomeKind = z.infer<typeof fleetOutcomeKind>;

export const fleetOutcome = z.object({
  vm: z.string(),
  workflowId: z.string(),
  outcome: fleetOutcomeKind,
  reason: z.string().optional(),
});
export type FleetOutcome = z.infer<typeof fleetOutcome>;

/** The newest failures a fleet carries and returns; the rest are in its table (client/fleet-table.ts). */
export const FLEET_RECENT_FAILURES = 100;

/**
 * What one run of a continued fleet hands the next: counts and a bounded list, never every VM's
 * row (those are recorded in the history of the run that handled them), so the payload stays small
 * however large the fleet.
 */
export const fleetCarry = z.strictObject({
  total: z.number().int().min(0),
  counts: z.strictObject({ succeeded: z.number().int().min(0), failed: z.number().int().min(0), skipped: z.number().int().min(0), cancelled: z.number().int().min(0) }),
  recentFailures: z.array(fleetOutcome).max(FLEET_RECENT_FAILURES),
  /** Runs of the chain so far, this one included. */
  runs: z.number().int().min(1),
});
export type FleetCarry = z.infer<typeof fleetCarry>;

export const fleetBackupInput = z
  .strictObject({
    /** A backup workflow of the catalog, e.g. ovirtSnapshotBackup. */
    workflowType: z.string().min(1),
    /** Input fields every VM's run shares (endpoint, proxy VM, …). */
    defaults: z.record(z.string(), z.unknown()).default({}),
    /** Per-VM input fields (e.g. { "vmId": "…" }), merged over the defaults. */
    vms: z.array(z.record(z.string(), z.unknown())).optional(),
    /** Or: ask the vendor, e.g. { "filter": "name=web-*" } (oVirt search syntax). */
    query: z.strictObject({ filter: z.string().min(1) }).optional(),
    /** Runs at once for this provider endpoint. */
    maxConcurrent: z.number().int().min(1).max(200).default(5),
    /** Runs at once per proxy VM (where the workflow uses one). */
    maxPerProxy: z.number().int().min(1).max(200).optional(),
    /** Child runs per workflow run before continuing as new, to keep each history small. */
    batchSize: z.number().int().min(1).max(2000).default(500),
    /** Counts carried over from earlier runs of a continued fleet; not for callers. */
    carried: fleetCarry.optional(),
    /**
     * Every outcome so far, as runs continued before the fleet-outcome-table change carried them;
     * not for callers. Can go once no fleet started before that change is still open.
     */
    carriedOutcomes: z.array(fleetOutcome).optional(),
  })
  .refine((i) => (i.vms === undefined) !== (i.query === undefined), { message: 'give exactly one of "vms" and "query"', path: ['vms'] });

export type FleetBackupInput = z.input<typeof fleetBackupInput>;
