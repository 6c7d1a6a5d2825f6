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
  /** When a backup of the VM last completed, Unix seconds, by `provider` and `vm_id` (the exporter adds no unit suffix to a gauge: it is in the name). */
  lastSuccess: 'backup_last_success_timestamp_seconds',
  /** When a drill or a repository check last passed for the VM, Unix seconds, by `provider` and `vm_id`. */
  lastVerified: 'backup_last_verified_timestamp_seconds',
} as const;

/** `ovirtSnapshotBackup` → `ovirt`: the provider label when the run did not say (the workflows name their vendor first). */
export function providerOf(workflowType: string): string {
  return /^[a-z]+/.exec(workflowType)?.[0] ?? workflowType;
}
