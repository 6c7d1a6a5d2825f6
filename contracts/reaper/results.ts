/** What the reaper returns: each object it found, and what it did with it. */
import type { ReapObject } from '../../activities/reaper';

export interface VendorSummary {
  endpoints: string[];
  found: number;
  /** Each object by its label. */
  removed: string[];
  keptForOpenRuns: string[];
  kept: string[];
  failed: string[];
  /** Why a vendor has nothing the reaper can take (Altaro). */
  note?: string;
}

export interface ReaperResult {
  dryRun: boolean;
  found: number;
  /** Removed (with dryRun: what would be removed). */
  removed: ReapObject[];
  keptForOpenRuns: Array<ReapObject & { runStatus: string }>;
  /** Objects of runs that are over but kept them (a confirmed ManageIQ snapshot, a built OnApp backup), or that Temporal cannot place. */
  kept: Array<ReapObject & { runStatus: string; reason: string }>;
  failed: Array<ReapObject & { error: string }>;
  vendors: Record<string, VendorSummary>;
}
