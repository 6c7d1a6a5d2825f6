/** What a prune returns: every backup it looked at, kept (and why) or removed (or, in a dry run, to be removed). */
import type { KeepRules, KeptBackup, RemovedBackup } from './keep-rules';

export interface PruneBackupsResult {
  dryRun: boolean;
  rules: KeepRules;
  timeZone: string;
  /** Newest first per VM; `id` is the backup's repository folder. */
  kept: KeptBackup[];
  /** Removed, or in a dry run, what would be. */
  removed: RemovedBackup[];
}
