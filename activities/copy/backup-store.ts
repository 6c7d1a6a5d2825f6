/**
 * The backups in the repository as the copy worker reads them back: a backup is a folder
 * ovirt/<vm>-<id8>/<time>-<run tag>/ with its images, its OVF and a manifest.json. A folder without
 * a manifest is a run that failed or is still copying: it is no backup.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, posix } from 'node:path';
import type { OvirtBackupManifest } from '../../contracts/ovirt/results';
import { ErrorTypes, nonRetryable } from '../../lib/errors';
import { repositoryPath } from './repository';

export const MANIFEST_FILE = 'manifest.json';
const PROVIDER_DIR = 'ovirt';

export interface StoredBackup {
  /** Relative to the repository root. */
  dir: string;
  manifest: OvirtBackupManifest;
}

/** A file of a backup as its manifest records it. */
export interface RecordedFile {
  fileName: string;
  bytes: number;
  sha256: string;
}

export interface RecordedImage extends RecordedFile {
  disk: OvirtBackupManifest['disks'][number];
}

/** The manifest of the backup in `dir`, or undefined when there is none (a failed or partial run). */
export async function readManifest(root: string, dir: string): Promise<OvirtBackupManifest | undefined> {
  let text: string;
  try {
    text = await readFile(repositoryPath(root, dir, MANIFEST_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as OvirtBackupManifest;
  } catch (err) {
    throw nonRetryable(`the manifest of backup ${dir} is not valid JSON: ${(err as Error).message}`, ErrorTypes.invalidInput);
  }
}

/** The images the manifest names, in its order. Paths in a manifest are where the files were written; their names are what counts. */
export function recordedImages(manifest: OvirtBackupManifest): RecordedImage[] {
  return manifest.disks.map((disk) => ({
    fileName: disk.path ? basename(disk.path) : `${disk.id}.${disk.format === 'cow' ? 'qcow2' : 'raw'}`,
    bytes: disk.bytes,
    sha256: disk.sha256,
    disk,
  }));
}

export function recordedConfig(manifest: OvirtBackupManifest): RecordedFile {
  return { fileName: manifest.config.path ? basename(manifest.config.path) : 'vm-config.ovf', bytes: manifest.config.bytes, sha256: manifest.config.sha256 };
}

async function subfolders(path: string): Promise<string[]> {
  try {
    return (await readdir(path, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Every complete backup (of one VM, if given), newest first. Manifests that do not parse are left out. */
export async function listStoredBackups(root: string, vmId?: string): Promise<StoredBackup[]> {
  const found: StoredBackup[] = [];
  const vmFolders = (await subfolders(repositoryPath(root, PROVIDER_DIR, '.'))).filter((name) => vmId === undefined || name.endsWith(`-${vmId.slice(0, 8)}`));
  for (const vmFolder of vmFolders) {
    for (const runFolder of await subfolders(repositoryPath(root, posix.join(PROVIDER_DIR, vmFolder), '.'))) {
      const dir = posix.join(PROVIDER_DIR, vmFolder, runFolder);
      const manifest = await readManifest(root, dir).catch(() => undefined);
      if (manifest && (vmId === undefined || manifest.vm?.id === vmId)) found.push({ dir, manifest });
    }
  }
  return found.sort((a, b) => b.manifest.completedAt.localeCompare(a.manifest.completedAt) || b.dir.localeCompare(a.dir));
}
