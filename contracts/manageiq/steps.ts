/**
 * The steps of the ManageIQ runs, in order: what the progress query and the BackupStep search
 * attribute show, how far the reaper sees a run got, where chaos targets aim their faults. A
 * rename or a reorder changes what the steps of runs already recorded mean.
 */
export const MANAGEIQ_SNAPSHOT_STEPS = ['validate', 'preflight', 'create', 'task', 'confirm', 'retention'] as const;
export const MANAGEIQ_REVERT_STEPS = ['validate', 'preflight', 'find', 'revert', 'task'] as const;
export const MANAGEIQ_DELETE_STEPS = ['validate', 'preflight', 'delete'] as const;
