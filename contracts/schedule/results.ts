/** What a scheduled run returns. */
import type { PruneBackupsResult } from '../retention/results';

export interface ScheduledBackupResult {
  scheduleId: string;
  outcome: 'completed' | 'skipped';
  childWorkflowId: string;
  reason?: string;
  result?: unknown;
  retention?: { kept: string[]; deleted: string[] };
  /** The prune of the repository after the backup (repositoryRetention). */
  repositoryRetention?: PruneBackupsResult;
}
