/** The fleet in the catalog (contracts/catalog-entry.ts says what each field is for). */
import type { WorkflowRoute } from '../catalog-entry';

export const fleetCatalog = {
  fleetBackup: {
    provider: 'fleet',
    kind: 'operation',
    summary: 'many VMs as child backups, with caps per provider and per proxy VM',
    loadInput: async () => (await import(/* webpackMode: "eager" */ './input')).fleetBackupInput,
    subject: () => undefined,
  },
} satisfies Record<string, WorkflowRoute>;
