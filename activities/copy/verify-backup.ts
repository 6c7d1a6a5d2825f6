/**
 * A repository check: re-reads a backup's stored files (images and OVF) and compares size and
 * SHA-256 with its manifest. A subset {n, t} reads only the files of the n-th of t slices; a
 * file's slice depends on its path alone, so t runs with n = 1..t read every file exactly once,
 * however many backups come and go between them.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import { ErrorTypes, nonRetryable } from '../../lib/errors';
import type { CopySettings } from './copy-disk';
import { readManifest, recordedConfig, recordedImages, type RecordedFile } from './backup-store';
import { hashRange } from './hash-read';
import { repositoryPath } from './repository';
import type { FileCheck, RepositoryActivities } from './restore-types';

export type VerifyBackupInput = Parameters<RepositoryActivities['verifyBackup']>[0];

/** The slice (1..t) a backup file belongs to. */
export function sliceOf(dir: string, fileName: string, t: number): number {
  return (createHash('sha256').update(`${dir}/${fileName}`).digest().readUInt32BE(0) % t) + 1;
}

async function checkFile(ctx: Context, settings: CopySettings, dir: string, file: RecordedFile): Promise<FileCheck> {
  const expected = { file: file.fileName, expectedBytes: file.bytes, expectedSha256: file.sha256 };
  let handle;
  try {
    handle = await open(repositoryPath(settings.repositoryRoot, dir, file.fileName), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...expected, bytes: 0, sha256: '', ok: false, missing: true };
    throw err;
  }
  try {
    const hash = createHash('sha256');
    // To the file's end, whatever the manifest says: a longer file is as wrong as a shorter one.
    const size = (await handle.stat()).size;
    const bytes = await hashRange(handle, 0, undefined, hash, settings.chunkBytes, { ctx, details: (position) => ({ dir, file: file.fileName, position }) }, size);
    const sha256 = hash.digest('hex');
    return { ...expected, bytes, sha256, ok: bytes === file.bytes && sha256 === file.sha256 };
  } finally {
    await handle.close();
  }
}

export async function verifyBackup(settings: CopySettings, input: VerifyBackupInput): ReturnType<RepositoryActivities['verifyBackup']> {
  const ctx = Context.current();
  const manifest = await readManifest(settings.repositoryRoot, input.dir);
  if (!manifest) throw nonRetryable(`unknown backup ${input.dir}: no manifest.json there`, ErrorTypes.invalidInput);
  const subset = input.subset;
  if (subset && !(Number.isInteger(subset.n) && Number.isInteger(subset.t) && subset.n >= 1 && subset.n <= subset.t)) {
    throw nonRetryable(`subset ${subset.n}/${subset.t} is not a slice: it needs 1 ≤ n ≤ t`, ErrorTypes.invalidInput);
  }
  const all = [...recordedImages(manifest), recordedConfig(manifest)];
  const chosen = subset ? all.filter((f) => sliceOf(input.dir, f.fileName, subset.t) === subset.n) : all;
  const files: FileCheck[] = [];
  for (const file of chosen) files.push(await checkFile(ctx, settings, input.dir, file));
  return { dir: input.dir, files, ok: files.every((f) => f.ok) };
}
