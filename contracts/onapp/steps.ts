/**
 * The steps of the OnApp workflows, in order: what the progress query and the BackupStep search
 * attribute show, how far the reaper sees a run got, where chaos targets aim their faults. A
 * rename or a reorder changes what the steps of runs already recorded mean.
 */
export const ONAPP_BACKUP_STEPS = ['validate', 'preflight', 'take', 'build', 'report'] as const;
/** A restore: the backup is put back onto its server (`restore`), which stays locked until it is done (`wait`). */
export const ONAPP_RESTORE_STEPS = ['validate', 'preflight', 'restore', 'wait', 'report'] as const;
