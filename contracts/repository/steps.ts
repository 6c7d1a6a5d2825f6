/** The steps of the repository's workflows, as progress shows them. */
export const VERIFY_BACKUPS_STEPS = ['find', 'verify'] as const;
export const OVIRT_LIST_BACKUPS_STEPS = ['list'] as const;
