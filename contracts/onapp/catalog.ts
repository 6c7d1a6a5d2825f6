/** OnApp workflows in the catalog (contracts/catalog-entry.ts says what each field is for). */
import type { OnappActivities } from '../../activities/onapp/activities';
import type { OnappRestoreActivities } from '../../activities/onapp/restore';
import type { WorkflowRoute } from '../catalog-entry';

const input = () => import(/* webpackMode: "eager" */ './input');
const subject = (i: Record<string, unknown>) => (typeof i.virtualServerId === 'number' ? String(i.virtualServerId) : undefined);

export const onappCatalog = {
  onappBackup: {
    provider: 'onapp',
    kind: 'backup',
    summary: 'OnApp: take a backup (incremental per server, or normal per disk) → poll until built → report',
    loadInput: async () => (await input()).onappBackupInput,
    subject,
  },
  onappListBackups: {
    provider: 'onapp',
    kind: 'operation',
    summary: "OnApp: the catalogue of a virtual server's backups",
    loadInput: async () => (await input()).onappListBackupsInput,
    subject,
  },
  onappRestore: {
    provider: 'onapp',
    kind: 'operation',
    summary: 'OnApp: restore a backup onto its virtual server (an id, or the newest built) → wait until the server is unlocked → report; a restore cannot be undone',
    loadInput: async () => (await input()).onappRestoreInput,
    subject,
  },
} satisfies Record<string, WorkflowRoute<OnappActivities & OnappRestoreActivities>>;
