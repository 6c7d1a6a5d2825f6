/** Azure Backup workflows in the catalog (contracts/catalog-entry.ts says what each field is for). */
import type { AzureActivities } from '../../activities/azure/activities';
import type { WorkflowRoute } from '../catalog-entry';

const input = () => import(/* webpackMode: "eager" */ './input');

/** Azure VMs by name (the last segment of a resource id). */
function subject(i: Record<string, unknown>): string | undefined {
  if (typeof i.vmResourceId === 'string') return i.vmResourceId.split('/').pop();
  return typeof i.vmName === 'string' ? i.vmName : undefined;
}

export const azureCatalog = {
  azureProtectVm: {
    provider: 'azure',
    kind: 'operation',
    summary: 'Azure Backup: policy → refresh containers → find the VM → enable protection (already protected: no change)',
    loadInput: async () => (await input()).azureProtectVmInput,
    subject,
  },
  azureVmBackup: {
    provider: 'azure',
    kind: 'backup',
    summary: 'Azure Backup: (protect) → backup now → track → follow the job → new recovery point (cancel cancels the job)',
    loadInput: async () => (await input()).azureVmBackupInput,
    subject,
  },
  azureRestore: {
    provider: 'azure',
    kind: 'operation',
    summary: 'Azure Backup: recovery point → restore disks or as a new VM → track → follow the job',
    loadInput: async () => (await input()).azureRestoreInput,
    subject,
  },
  azureFileRecovery: {
    provider: 'azure',
    kind: 'operation',
    summary: 'Azure Backup: file recovery script (password kept worker-side) → "done" signal or time limit → revoke',
    loadInput: async () => (await input()).azureFileRecoveryInput,
    subject,
  },
} satisfies Record<string, WorkflowRoute<AzureActivities>>;
