/**
 * The shape of a catalog entry: what a workflow type is, how its runs are named and routed. A
 * vendor's entries live in contracts/<vendor>/catalog.ts, without their input schemas, so the
 * fleet and scheduled workflows can route a run and build only the one schema it needs.
 */
import type { z } from 'zod';

/** An activity of the vendor's activities module, by name: a typo or a rename fails the typecheck. */
type ActivityName<Activities> = keyof Activities & string;

export interface WorkflowRoute<Activities = Record<string, unknown>> {
  provider: string;
  summary: string;
  /** The VM (or object) the run is about, for ids, summaries and listings. */
  subject: (input: Record<string, unknown>) => string | undefined;
  /**
   * 'backup': at most one run per VM at a time; its workflow id is backup-<provider>-<subject>, so
   * a second start finds the running one. Anything else gets a fresh id per start.
   */
  kind?: 'backup' | 'operation';
  /** Fleets: the proxy a run uses, for per-proxy concurrency caps. */
  proxyOf?: (input: Record<string, unknown>) => string | undefined;
  /** Fleets given a vendor query: the activity that lists VMs, and how a listed VM becomes an input. */
  inventory?: {
    activity: ActivityName<Activities>;
    args: (defaults: Record<string, unknown>, filter: string) => Record<string, unknown>;
    toInput: (vm: { id: string; name: string }) => Record<string, unknown>;
  };
  /**
   * Where a run's backup is stored: the repository (a proxy's copy worker) and the VM whose backups
   * a schedule's repositoryRetention prunes there after a success (pruneBackups).
   */
  repositoryOf?: (input: Record<string, unknown>) => { proxyVmId?: string; copyTaskQueue?: string; vmId: string } | undefined;
  /** How a schedule keeps the newest N of the backups it made (see workflows/scheduled-backup.ts). */
  retention?: RetentionAdapter<Activities>;
  /** The input schema, built on first use (contracts/catalog.ts has them all built, for clients). */
  loadInput: () => Promise<z.ZodType>;
}

export interface RetentionAdapter<Activities = Record<string, unknown>> {
  /** The input a scheduled run gets, marked so its backup can be told apart from others later. */
  mark: (input: Record<string, unknown>, scheduleId: string) => Record<string, unknown>;
  /** The vendor activity that keeps the newest `keep` marked backups and removes the rest. */
  pruneActivity: ActivityName<Activities>;
  pruneArgs: (input: Record<string, unknown>, scheduleId: string, keep: number) => Record<string, unknown>;
}

/** A catalog entry with its input schema built: what clients check an input against before a start. */
export interface WorkflowEntry extends WorkflowRoute {
  input: z.ZodType;
}
