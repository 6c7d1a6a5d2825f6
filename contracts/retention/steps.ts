/** The steps of pruneBackups, as progress shows them. */
export const PRUNE_BACKUPS_STEPS = ['list', 'decide', 'remove'] as const;
