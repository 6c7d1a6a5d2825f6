/**
 * The steps of the Azure runs, in order: what the progress query and the BackupStep search
 * attribute show, how far the reaper sees a run got, where chaos targets aim their faults. A
 * rename or a reorder changes what the steps of runs already recorded mean.
 */
export const AZURE_FILE_RECOVERY_STEPS = ['validate', 'find', 'recoveryPoint', 'provision', 'session', 'revoke'] as const;
export const AZURE_PROTECT_STEPS = ['validate', 'policy', 'find', 'protect'] as const;
export const AZURE_RESTORE_STEPS = ['validate', 'find', 'recoveryPoint', 'trigger', 'job'] as const;
export const AZURE_BACKUP_STEPS = ['validate', 'find', 'protect', 'trigger', 'job', 'recoveryPoint'] as const;
