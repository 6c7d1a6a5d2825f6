/**
 * Finds the backup a restore names and checks it can be restored from: the manifest is there,
 * every image is there with its recorded size, and so is the OVF. Bad references and damaged
 * backups are one-line, non-retryable InvalidInput: no retry makes them restorable.
 */
import { readFile, stat } from 'node:fs/promises';
import { ErrorTypes, nonRetryable } from '../../lib/errors';
import type { CopySettings } from './copy-disk';
import { listStoredBackups, readManifest, recordedConfig, recordedImages, type StoredBackup } from './backup-store';
import type { BackupRef, FoundBackup } from './restore-types';
import { repositoryPath } from './repository';

const bad = (message: string) => nonRetryable(message, ErrorTypes.invalidInput);

/** How a repository of either kind is read to resolve a reference. */
export interface BackupLookup<B extends StoredBackup> {
  list(vmId?: string): Promise<B[]>;
  read(dir: string): Promise<B | undefined>;
}

function directoryLookup(root: string): BackupLookup<StoredBackup> {
  return {
    list: (vmId) => listStoredBackups(root, vmId),
    read: async (dir) => {
      repositoryPath(root, dir, '.');
      const manifest = await readManifest(root, dir);
      return manifest ? { dir, manifest } : undefined;
    },
  };
}

/** The folder, the workflow (or run) id of a backup run, or `latest` with vmId, resolved to a stored backup. */
export async function resolveBackup<B extends StoredBackup>(lookup: BackupLookup<B>, ref: BackupRef): Promise<B> {
  const backup = ref.backup.trim();
  if (backup === 'latest') {
    if (!ref.vmId) throw bad('backup "latest" needs vmId: the VM whose newest backup is meant');
    const newest = (await lookup.list(ref.vmId))[0];
    if (!newest) throw bad(`VM ${ref.vmId} has no complete backup in the repository`);
    return newest;
  }
  if (backup.includes('/')) {
    const dir = backup.replace(/\/+$/, '');
    const found = await lookup.read(dir);
    if (!found) throw bad(`unknown backup ${dir}: no manifest.json there (not a backup, or a run that did not complete)`);
    return found;
  }
  // A backup workflow id names every run of that VM's backups: the newest is meant.
  const match = (await lookup.list(ref.vmId)).find((b) => b.manifest.workflowId === backup || b.manifest.runId === backup);
  if (!match) throw bad(`unknown backup ${backup}: no repository folder, and no complete backup made by a run of that id${ref.vmId ? ` for VM ${ref.vmId}` : ''}`);
  return match;
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function findBackup(settings: CopySettings, ref: BackupRef): Promise<FoundBackup> {
  const root = settings.repositoryRoot;
  const { dir, manifest } = await resolveBackup(directoryLookup(root), ref);
  const images = recordedImages(manifest);
  for (const image of images) {
    const bytes = await sizeOf(repositoryPath(root, dir, image.fileName));
    if (bytes === undefined) throw bad(`backup ${dir}: image ${image.fileName} is missing`);
    if (bytes !== image.bytes) throw bad(`backup ${dir}: image ${image.fileName} is ${bytes < image.bytes ? 'truncated' : 'longer than recorded'}: ${bytes} bytes, the manifest says ${image.bytes}`);
  }
  const config = recordedConfig(manifest);
  let ovf: string;
  try {
    ovf = await readFile(repositoryPath(root, dir, config.fileName), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw bad(`backup ${dir}: the VM configuration ${config.fileName} is missing`);
    throw err;
  }
  return foundBackup(dir, manifest, ovf);
}

/** What findBackup returns, once the images and the OVF are checked. */
export function foundBackup(dir: string, manifest: StoredBackup['manifest'], ovf: string): FoundBackup {
  return {
    dir,
    manifest,
    ovf,
    images: recordedImages(manifest).map(({ fileName, bytes, sha256, disk }) => ({
      diskId: disk.id,
      fileName,
      bytes,
      sha256,
      ...(disk.format !== undefined ? { format: disk.format } : {}),
      ...(disk.provisionedSize !== undefined ? { provisionedSize: disk.provisionedSize } : {}),
      ...(disk.name !== undefined ? { name: disk.name } : {}),
    })),
    verifications: manifest.verifications ?? [],
  };
}
