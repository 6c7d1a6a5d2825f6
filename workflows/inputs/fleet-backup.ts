import { z } from 'zod';

export const fleetOutcome = z.object({
  vm: z.string(),
  workflowId: z.string(),
  outcome: z.enum(['succeeded', 'failed', 'skipped']),
  reason: z.string().optional(),
});
export type FleetOutcome = z.infer<typeof fleetOutcome>;

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
    /** Outcomes carried over from earlier runs of a continued fleet; not for callers. */
    carriedOutcomes: z.array(fleetOutcome).optional(),
  })
  .refine((i) => (i.vms === undefined) !== (i.query === undefined), { message: 'give exactly one of "vms" and "query"', path: ['vms'] });

export type FleetBackupInput = z.input<typeof fleetBackupInput>;
