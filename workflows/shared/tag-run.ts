/** Tags a run with its provider and the machine it is about: the filters of the Web UI and `backupctl list`. */
import { upsertSearchAttributes } from '@temporalio/workflow';
import { BackupProvider, BackupVmId } from '../../contracts/search-attributes';

export interface RunTag {
  /** A vendor, or 'multi' (a reaper over several). */
  provider: string;
  /** Absent for runs about many machines (a fleet, a reaper) or one known only later (a schedule). */
  vmId?: string;
}

export function tagRun({ provider, vmId }: RunTag): void {
  upsertSearchAttributes([{ key: BackupProvider, value: provider }, ...(vmId !== undefined ? [{ key: BackupVmId, value: vmId }] : [])]);
}
