/** What a scheduled run returns. */

export interface ScheduledBackupResult {
  scheduleId: string;
  outcome: 'completed' | 'skipped';
  childWorkflowId: string;
  reason?: string;
  result?: unknown;
  retention?: { kept: string[]; deleted: string[] };
}
