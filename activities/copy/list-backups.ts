/** The repository's backups for `backupctl backups ovirt`: newest first, with size, disks and last verification. */
import type { CopySettings } from './copy-disk';
import { listStoredBackups, type StoredBackup } from './backup-store';
import type { BackupSummary } from './restore-types';

export async function listBackups(settings: CopySettings, input: { vmId?: string }): Promise<BackupSummary[]> {
  return (await listStoredBackups(settings.repositoryRoot, input.vmId)).map(summariseBackup);
}

export function summariseBackup({ dir, manifest }: StoredBackup): BackupSummary {
  const last = manifest.verifications?.at(-1);
  return {
    dir,
    provider: 'ovirt',
    vm: manifest.vm,
    workflowId: manifest.workflowId,
    runId: manifest.runId,
    completedAt: manifest.completedAt,
    bytes: manifest.disks.reduce((n, d) => n + d.bytes, 0),
    disks: manifest.disks.length,
    ...(last ? { lastVerification: last } : {}),
  };
}
