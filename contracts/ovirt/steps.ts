/**
 * The steps of an oVirt backup, in order: what the progress query and the BackupStep search
 * attribute show, how far the reaper sees a run got, where chaos targets aim their faults. A
 * rename or a reorder changes what the steps of runs already recorded mean.
 */
export const OVIRT_BACKUP_STEPS = ['validate', 'preflight', 'snapshot', 'config', 'disks', 'attach', 'copy', 'detach', 'delete'] as const;

/** The steps of "Restoring a Virtual Machine", in order (a disksOnly run skips vm and attach-vm). */
export const OVIRT_RESTORE_STEPS = ['validate', 'preflight', 'disks', 'attach', 'write', 'detach', 'vm', 'attach-vm'] as const;

/**
 * A restore drill: the restore into a sandbox, each disk read back before it leaves the proxy, the
 * VM optionally booted, the sandbox always removed, and the verdict recorded on the backup.
 */
export const OVIRT_DRILL_STEPS = ['validate', 'preflight', 'disks', 'attach', 'write', 'read-back', 'detach', 'vm', 'attach-vm', 'boot', 'cleanup', 'record'] as const;

/**
 * `ovirtIncrementalBackup`: the engine's backup API. start-backup waits until the backup is ready
 * (an incremental the engine cannot give falls back to a full there); copy runs per disk: transfer
 * → copy the data ranges → finalize the transfer; finalize waits for `succeeded`; record writes the
 * manifest that makes it the chain's new head.
 */
export const OVIRT_INCREMENTAL_STEPS = ['validate', 'preflight', 'start-backup', 'copy', 'finalize', 'record'] as const;
