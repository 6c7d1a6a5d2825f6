/** What a prune returns: every backup it looked at, kept (and why) or removed (or, in a dry run, to be removed). */
import type { RepositoryPrune } from '../../activities/copy/restore-types';
import type { KeepRules, KeptBackup, RemovedBackup } from './keep-rules';

export interface PruneBackupsResult {
  dryRun: boolean;
  rules: KeepRules;
  timeZone: string;
  /** Newest first per VM; `id` is the backup's repository folder. */
  kept: KeptBackup[];
  /** Removed, or in a dry run, what would be. */
  removed: RemovedBackup[];
  /** Per VM whose incremental chain points were removed: the engine checkpoints removed with them (root first) and those left (not the root when the walk stopped). */
  checkpoints?: Array<{ vmId: string; endpoint: string; removed: string[]; left: string[] }>;
  /** After removals: what freeing their space did (`restic prune`, or nothing for a directory). */
  repository?: RepositoryPrune;
}
