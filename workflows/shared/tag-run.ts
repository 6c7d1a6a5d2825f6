/** Tags a run with its provider and the machine it is about: the filters of the Web UI and `backupctl list`. */
import { upsertSearchAttributes } from '@temporalio/workflow';
import { BackupProvider, BackupVmId } from '../../contracts/search-attributes';

export function tagRun(provider: string, vmId: string): void {
  upsertSearchAttributes([
    { key: BackupProvider, value: provider },
    { key: BackupVmId, value: vmId },
  ]);
}
