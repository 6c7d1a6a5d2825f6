/**
 * The steps of an Altaro run, in order: what the progress query and the BackupStep search
 * attribute show, how far the reaper sees a run got, where chaos targets aim their faults. A
 * rename or a reorder changes what the steps of runs already recorded mean.
 */
export const ALTARO_STEPS = ['validate', 'instruct', 'track', 'report'] as const;
