/**
 * Removes one backup's folder from the repository, for retention. The manifest goes first and is
 * made durable before anything else: a crash mid-remove leaves a folder without manifest.json,
 * which every reader takes for an unfinished run, never a backup that looks complete but is not.
 * A chain point's engine checkpoint is recorded (chain-checkpoints.ts) before its manifest goes.
 */
import { rm, stat, unlink } from 'node:fs/promises';
import { dirname, posix } from 'node:path';
import { ErrorTypes, nonRetryable } from '../../lib/errors';
import type { CopySettings } from './copy-disk';
import { MANIFEST_FILE } from './backup-store';
import { repositoryPath, syncDirectory } from './repository';
import { isChainDir, listChainBackups, readChainManifest } from './incremental-chain';
import { recordRemovedCheckpoint } from './chain-checkpoints';

/** ovirt/<vm>-<id8>/<stamp>-<run tag> (or ovirt-incremental/…, a chain's point): a backup's folder, nothing above it. */
const BACKUP_FOLDER = /^ovirt(-incremental)?\/[^/]+\/[^/]+$/;

/** The backup folder `dir` names (trailing slashes dropped), refusing anything above or beside a backup's folder. */
export function backupFolder(dir: string): string {
  const folder = posix.normalize(dir.replace(/\/+$/, ''));
  if (!BACKUP_FOLDER.test(folder) || folder.split('/').includes('..'))
    throw nonRetryable(`${dir} is not a backup folder (ovirt/<vm>/<run> or ovirt-incremental/<vm>/<run>): refusing to remove it`, ErrorTypes.invalidInput);
  return folder;
}

export async function removeBackup(settings: CopySettings, input: { dir: string }): Promise<{ dir: string; removed: boolean }> {
  const dir = backupFolder(input.dir);
  const folder = repositoryPath(settings.repositoryRoot, dir, '.');
  const manifest = repositoryPath(settings.repositoryRoot, dir, MANIFEST_FILE);
  const existed = await stat(folder).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
  if (!existed) return { dir, removed: false };
  if (isChainDir(dir)) {
    // A point another point still builds on is never removed (retention removes a chain newest first).
    const point = await readChainManifest(settings.repositoryRoot, dir);
    const child = point && (await listChainBackups(settings.repositoryRoot, point.vm.id)).find((b) => b.manifest.parent === dir);
    if (child) throw nonRetryable(`backup ${dir} is the parent of ${child.dir}: removing it would break that point's chain`, ErrorTypes.invalidInput);
    // Its engine checkpoint is remembered before its manifest goes: retention removes it from the
    // engine once it is the root, maybe prunes later (chain-checkpoints.ts).
    if (point) await recordRemovedCheckpoint(settings.repositoryRoot, dir, point);
  }
  try {
    await unlink(manifest);
    await syncDirectory(folder);
  } catch (err) {
    // No manifest: an earlier attempt got this far.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await rm(folder, { recursive: true, force: true });
  await syncDirectory(dirname(folder)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  return { dir, removed: true };
}
