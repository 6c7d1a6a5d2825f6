/** The project's own Prometheus metrics (the SDK's own are prefixed `temporal_`). Pure: workflow code imports it. */
export const METRIC = {
  /** Runs that ended, by `provider` and `outcome` (completed, failed, cancelled), with `workflowType`: backup_runs_total. */
  backups: 'backup_runs',
  /** Time spent in each workflow step, by `provider` and `step` (workflow time): backup_step_duration_milliseconds_*. */
  stepDuration: 'backup_step_duration',
  /** Disk bytes read from devices into the repository by the copy activity: backup_copied_bytes_total. */
  bytesCopied: 'backup_copied_bytes',
  /** Every activity execution, by `activityType` (added by the SDK) and `result` (ok, error, cancelled): backup_activity_duration_milliseconds_*. */
  activityDuration: 'backup_activity_duration',
} as const;

/** `ovirtSnapshotBackup` → `ovirt`: the provider label when the run did not say (the workflows name their vendor first). */
export function providerOf(workflowType: string): string {
  return /^[a-z]+/.exec(workflowType)?.[0] ?? workflowType;
}
