/** The reaper in the catalog (contracts/catalog-entry.ts says what each field is for). */
import type { WorkflowRoute } from '../catalog-entry';

export const reaperCatalog = {
  reaper: {
    provider: 'any',
    kind: 'operation',
    summary:
      'removes what terminated runs left at the vendor (oVirt snapshots and attached disks, ManageIQ snapshots, unfinished OnApp backups, Azure file-recovery connections); never what it did not make or a run kept',
    loadInput: async () => (await import(/* webpackMode: "eager" */ './input')).reaperInput,
    subject: () => undefined,
  },
} satisfies Record<string, WorkflowRoute>;
