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
import { checkChainLinks, isChainDir, listChainBackups, readChainManifest } from './incremental-chain';
import { chainPointFound } from './list-backups';
import type { OvirtIncrementalManifest } from '../../contracts/ovirt/incremental-results';

const bad = (message: string) => nonRetryable(message, ErrorTypes.invalidInput);

/** A backup as a reference resolves it: what both procedures' manifests have. */
type Resolvable = { dir: string; manifest: { workflowId: string; runId: string } };

/** How a repository of either kind is read to resolve a reference. */
export interface BackupLookup<B extends Resolvable> {
  list(vmId?: string): Promise<B[]>;
  read(dir: string): Promise<B | undefined>;
}

type DirectoryBackup = StoredBackup | { dir: string; manifest: OvirtIncrementalManifest };

/**
 * A directory repository holds both procedures' backups: the snapshot procedure's under ovirt/, the
 * incremental chains' points under ovirt-incremental/. `latest` and a backup run's workflow id mean
 * the newest complete one of either, by completion time: the VM's most recent restorable state.
 */
function directoryLookup(root: string): BackupLookup<DirectoryBackup> {
  return {
    list: async (vmId) => {
      const chains = await listChainBackups(root, vmId);
      return [...(await listStoredBackups(root, vmId)), ...chains].sort((a, b) => b.manifest.completedAt.localeCompare(a.manifest.completedAt) || b.dir.localeCompare(a.dir));
    },
    read: async (dir) => {
      repositoryPath(root, dir, '.');
      if (isChainDir(dir)) {
        const manifest = await readChainManifest(root, dir);
        return manifest ? { dir, manifest } : undefined;
      }
      const manifest = await readManifest(root, dir);
      return manifest ? { dir, manifest } : undefined;
    },
  };
}

/** The folder, the workflow (or run) id of a backup run, or `latest` with vmId, resolved to a stored backup. */
export async function resolveBackup<B extends Resolvable>(lookup: BackupLookup<B>, ref: BackupRef): Promise<B> {
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
  const found = await resolveBackup(directoryLookup(root), ref);
  if ('kind' in found.manifest && found.manifest.kind === 'ovirt-incremental') return findChainPoint(root, found.dir, found.manifest, ref);
  const { dir, manifest } = found as StoredBackup;
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

/**
 * A point of an incremental chain: every link (each backup from the disk's full up to this one) is
 * there with its files at their recorded sizes, and the OVF saved with it. Each image is the disk
 * composed up to this point: its size the disk's, its SHA-256 the one the backup recorded for the
 * whole disk at its time (`imageSha256`), which the write compares with.
 */
async function findChainPoint(root: string, dir: string, manifest: OvirtIncrementalManifest, ref: BackupRef): Promise<FoundBackup> {
  let links: string[] = [];
  for (const disk of manifest.disks) {
    const checked = await checkChainLinks(root, dir, disk.id);
    if (checked.links.length > links.length) links = checked.links;
  }
  let ovf = '';
  if (manifest.config) {
    try {
      ovf = await readFile(repositoryPath(root, dir, recordedConfigName(manifest.config.path)), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw bad(`backup ${dir}: the VM configuration ${recordedConfigName(manifest.config.path)} is missing`);
      throw err;
    }
  } else if (!ref.disksOnly) {
    throw bad(`backup ${dir} holds no VM configuration (OVF): it was made before incremental backups saved it; restore its disks with disksOnly: true`);
  }
  return chainPointFound(dir, manifest, ovf, links);
}

function recordedConfigName(path: string): string {
  return path.split('/').pop() || 'vm-config.ovf';
}
