/** The chaos runner's vocabulary: a target (one workflow against one simulator) and a fault case. */
import type { Simulator } from '../simulators/framework/simulator';
import type { ChaosCluster, WorkerSpec } from './cluster';

/** One vendor call the workflow makes, as a fault rule addresses it. */
export interface CallSite {
  method: string;
  /** Route-style pattern below the simulator's API prefix, e.g. "/vms/:p1/snapshots". */
  path: string;
  /** The companion simulator that serves it (ChaosTarget.companions), e.g. "imageio"; absent: the target's simulator. */
  on?: string;
}

export type FaultCase =
  | { kind: 'none' }
  | { kind: '5xx-burst' | '429-retry-after' | 'drop' | 'timeout' | 'malformed'; call: CallSite }
  | { kind: 'lost-create-reply'; call: CallSite }
  | { kind: 'expired-session'; step: string }
  /**
   * At a step boundary, `afterMs` into it, or (with `point`) when the target's kill point is reached
   * (e.g. restic's snapshot saved). `worker`: only the main worker's or only the copy worker's process
   * (a target whose copy worker runs on its own); absent: both.
   */
  | { kind: 'worker-sigkill'; step: string; afterMs?: number; point?: string; worker?: 'main' | 'copy' }
  | { kind: 'server-restart'; step: string }
  /** A vendor condition the target sets up (`arrange`), before the run or when it enters `step`. */
  | { kind: 'vendor-state'; state: string; step?: string };

export interface ChaosTarget {
  /** Workflow type, e.g. ovirtSnapshotBackup. */
  workflow: string;
  simulator: Simulator;
  /** Servers beside the simulator whose calls are faulted too (their own call log and faults), by name, e.g. oVirt's imageio. */
  companions?: Record<string, Simulator>;
  /** Profiles and secrets for the worker process (the profile sets a short `timeoutMs`). */
  worker: WorkerSpec;
  /** The client's timeout on the profile: a `timeout` fault delays a call longer than this. */
  clientTimeoutMs: number;
  /** A valid input for the simulator's demo inventory, with fast polling. */
  input(): Record<string, unknown>;
  /** The workflow's steps (the progress query's `steps`), for step-triggered faults. */
  steps: readonly string[];
  /** Steps worth a worker kill in the middle of (long activities), killed `afterMs` into the step. */
  longSteps?: Record<string, number>;
  /**
   * Moments worth a worker SIGKILL that no step boundary marks (one case each): `arm` before the run,
   * `reached` polled until true, then the kill (`afterMs` later; of the case's `worker` only, if it
   * names one), then `killed`. A target's reset disarms them.
   */
  killPoints?: KillPoint[];
  /**
   * What the run left in the copy worker's repository, after the vendor's leftovers: `problems` fail
   * the case (a repository check that is not clean, a lock left, a live lock removed, a failed run's
   * manifest); `left` is reported in its own column (snapshots no manifest names, e.g. a killed
   * attempt's, which the repository's prune collects).
   */
  repository?(run: { completed: boolean }): Promise<{ problems: string[]; left: string[] }>;
  /** The calls that create a vendor object (a lost reply there must be adopted, not repeated). */
  creates: CallSite[];
  /**
   * Work done once through the cluster's worker before the first case (e.g. the backup a restore
   * restores), with the worker of `worker` running. Case resets must keep what it made.
   */
  prepare?(cluster: ChaosCluster): Promise<void>;
  /** Cases beyond the generated ones (e.g. a SIGKILL of the copy worker's process alone). */
  extraCases?: FaultCase[];
  /**
   * After the leftovers are counted: what the case broke that outlives it (e.g. a backup chain the
   * next run cannot continue), found by running what comes next; counted with the leftovers.
   */
  afterCase?(run: { completed: boolean; workflowId: string }): Promise<string[]>;
  /** Vendor conditions worth a case each (`vendor-state`), set by `arrange`, e.g. a full storage domain. */
  vendorStates?: Array<{ state: string; step?: string }>;
  arrange?(state: string): void | Promise<void>;
  /** Expire every token/session the vendor issued (the next call must log in again); absent when the API has none. */
  expireSessions?: () => void;
  /**
   * Vendor objects this run left behind, read through the vendor API or the simulator's state. A
   * run that completed may keep its product (OnApp's backup); a failed one must leave nothing.
   */
  leftovers(run: { completed: boolean }): Promise<string[]>;
  /**
   * Leftovers no client can remove, shown in their own column with the reason instead of counted as
   * leaks: e.g. a session whose login reply was lost (the token never arrived; only the vendor's
   * idle expiry ends it). Only leftovers that `matches` accepts, only in cases of these kinds on this call.
   */
  leftToVendor?: Array<{ call: CallSite; kinds: Array<FaultCase['kind']>; matches: RegExp; reason: string }>;
  /** Vendor objects created more than once for this run (e.g. a second snapshot). */
  duplicates(): Promise<string[]>;
  /** Back to the demo inventory: no objects, faults, calls; counters zeroed. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface KillPoint {
  name: string;
  /** The step the point is in (for the table; the kill does not wait for it). */
  step: string;
  afterMs?: number;
  arm(): Promise<void> | void;
  reached(): Promise<boolean> | boolean;
  /** Once the kill is done and the worker restarted: e.g. lets go of what `arm` held back so the point lasts until the kill. */
  killed?(): Promise<void> | void;
}

export interface CaseResult {
  workflow: string;
  workflowId: string;
  fault: string;
  detail: string;
  outcome: 'completed' | 'failed-cleanly' | 'failed-unclear' | 'hung';
  message?: string;
  leftovers: string[];
  /** Leftovers only the vendor's own expiry can end (see ChaosTarget.leftToVendor), with the reason. */
  leftToVendor?: string[];
  duplicates: string[];
  /** What the run left in the repository that no manifest names (ChaosTarget.repository), when the target looks. */
  leftInRepository?: string[];
  faultsFired: number;
  ms: number;
}

/**
 * Normalises a logged vendor path into a fault pattern: ids become `:p1`, `:p2` … (one segment each).
 * A long camelCase word is an action, not a token (Azure's provisionInstantItemRecovery, revokeInstantItemRecovery).
 */
export function callPattern(path: string): string {
  let n = 0;
  return path
    .split('/')
    .map((segment) =>
      /^[0-9a-f]{8}-[0-9a-f-]{27}$/i.test(segment) || /^\d+$/.test(segment) || /^[0-9a-f]{16,}$/i.test(segment) || (/^[A-Za-z0-9_-]{24,}$/.test(segment) && !/^[a-z]+(?:[A-Z][a-z]+)+$/.test(segment))
        ? `:p${++n}`
        : segment,
    )
    .join('/');
}
