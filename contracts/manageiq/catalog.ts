/** ManageIQ workflows in the catalog (contracts/catalog-entry.ts says what each field is for). */
import type { ManageiqActivities } from '../../activities/manageiq/activities';
import type { WorkflowRoute } from '../catalog-entry';

const input = () => import(/* webpackMode: "eager" */ './input');
const subject = (i: Record<string, unknown>) => (i.resourceId !== undefined ? String(i.resourceId) : undefined);

export const manageiqCatalog = {
  manageiqSnapshot: {
    provider: 'manageiq',
    kind: 'backup',
    summary: 'ManageIQ: snapshot a VM or instance → wait for the task → confirm → keep the newest N tool-made snapshots',
    loadInput: async () => (await input()).manageiqSnapshotInput,
    subject,
  },
  manageiqRevert: {
    provider: 'manageiq',
    kind: 'operation',
    summary: 'ManageIQ: revert a VM to a named (or the newest) snapshot and wait for the task',
    loadInput: async () => (await input()).manageiqRevertInput,
    subject,
  },
  manageiqDeleteSnapshots: {
    provider: 'manageiq',
    kind: 'operation',
    summary: "ManageIQ: bulk-delete chosen snapshots, reporting each one's result",
    loadInput: async () => (await input()).manageiqDeleteSnapshotsInput,
    subject,
  },
} satisfies Record<string, WorkflowRoute<ManageiqActivities>>;
