/** The repository's backups for `backupctl backups ovirt`: newest first, with size, disks and last verification. */
import type { CopySettings } from './copy-disk';
import { listStoredBackups, type StoredBackup } from './backup-store';
import { listChainBackups } from './incremental-chain';
import type { OvirtIncrementalManifest } from '../../contracts/ovirt/incremental-results';
import type { BackupSummary, FoundBackup } from './restore-types';

/** The snapshot procedure's backups and, with `chains`, the incremental chains' points: one list, newest first. */
export async function listBackups(settings: CopySettings, input: { vmId?: string; chains?: boolean }): Promise<BackupSummary[]> {
  const listed = (await listStoredBackups(settings.repositoryRoot, input.vmId)).map(summariseBackup);
  if (!input.chains) return listed;
  const points = (await listChainBackups(settings.repositoryRoot, input.vmId)).map(summariseChainPoint);
  return [...listed, ...points].sort((a, b) => b.completedAt.localeCompare(a.completedAt) || b.dir.localeCompare(a.dir));
}

/** What both procedures' manifests say that a listing shows. */
type ListedManifest = Pick<StoredBackup['manifest'], 'vm' | 'workflowId' | 'runId' | 'completedAt' | 'verifications'> & { disks: Array<{ bytes: number }> };

export function summariseBackup({ dir, manifest }: { dir: string; manifest: ListedManifest }): BackupSummary {
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

/** A chain point: its own stored bytes (a delta's are only what changed), its mode, parent and checkpoint. */
export function summariseChainPoint({ dir, manifest }: { dir: string; manifest: OvirtIncrementalManifest }): BackupSummary {
  return {
    ...summariseBackup({ dir, manifest }),
    kind: 'incremental',
    mode: manifest.backup.mode,
    ...(manifest.parent !== undefined ? { parent: manifest.parent } : {}),
    endpoint: manifest.endpoint,
    checkpointId: manifest.backup.toCheckpointId,
  };
}

/**
 * A chain point as a restore finds it, in either repository kind: each image is the disk at this
 * point (its size the disk's, its SHA-256 the whole disk's at the backup's time, `imageSha256`),
 * `links` the backups it is composed from (in restic, the point alone).
 */
export function chainPointFound(dir: string, manifest: OvirtIncrementalManifest, ovf: string, links: string[]): FoundBackup {
  return {
    dir,
    manifest: {
      workflowId: manifest.workflowId,
      runId: manifest.runId,
      vm: manifest.vm,
      completedAt: manifest.completedAt,
      disks: manifest.disks,
      ...(manifest.verifications ? { verifications: manifest.verifications } : {}),
    },
    chain: { mode: manifest.backup.mode, ...(manifest.parent !== undefined ? { parent: manifest.parent } : {}), links },
    ovf,
    images: manifest.disks.map((d) => ({
      diskId: d.id,
      fileName: d.fileName,
      bytes: d.provisionedSize,
      sha256: d.imageSha256,
      provisionedSize: d.provisionedSize,
      ...(d.name !== undefined ? { name: d.name } : {}),
    })),
    verifications: manifest.verifications ?? [],
  };
}
