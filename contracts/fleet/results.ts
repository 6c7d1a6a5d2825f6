/** What a fleet shows through its counts query and returns at the end. */
import type { FleetOutcome } from './input';

export interface FleetCounts {
  total: number;
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  skipped: number;
  /** Runs that were cancelled (the fleet's cancel, or someone else's). */
  cancelled: number;
  /** VMs the cancelled fleet never started (this run's; earlier runs of a fleet start all theirs). */
  notStarted: number;
  runningByProxy: Record<string, number>;
  /** Runs of the chain so far, this one included. */
  runs: number;
}

export interface FleetResult {
  counts: FleetCounts;
  /**
   * The newest failures (at most 100) with their reasons. Every VM's row is in the fleet's table:
   * `BackupClient.fleetTable(workflowId)`, `backupctl fleet <workflowId>`.
   */
  recentFailures: FleetOutcome[];
}
