/** Altaro VM Backup workflows in the catalog (contracts/catalog-entry.ts says what each field is for). */
import type { AltaroActivities } from '../../activities/altaro/activities';
import type { WorkflowRoute } from '../catalog-entry';

const input = () => import(/* webpackMode: "eager" */ './input');
const subject = (i: Record<string, unknown>) => (typeof i.vmRef === 'string' ? i.vmRef : undefined);

export const altaroCatalog = {
  altaroBackup: {
    provider: 'altaro',
    kind: 'backup',
    summary: 'Altaro VM Backup: take-backup → track the operation → report (cancel aborts it)',
    loadInput: async () => (await input()).altaroBackupInput,
    subject,
  },
  altaroOperation: {
    provider: 'altaro',
    kind: 'operation',
    summary: 'Altaro VM Backup: any instruction (backup, offsite copy, restore, seed-to-disk, sandbox restore, verification) → track → report',
    loadInput: async () => (await input()).altaroOperationInput,
    subject,
  },
} satisfies Record<string, WorkflowRoute<AltaroActivities>>;
