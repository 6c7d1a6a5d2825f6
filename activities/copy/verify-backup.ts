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
import { isChainDir, openComposedImage, readChainManifest } from './incremental-chain';
import { ApplicationFailure } from '@temporalio/common';

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
  if (isChainDir(input.dir)) return verifyChainPoint(settings, input);
  const ctx = Context.current();
  const manifest = await readManifest(settings.repositoryRoot, input.dir);
  if (!manifest) throw nonRetryable(`unknown backup ${input.dir}: no manifest.json there`, ErrorTypes.invalidInput);
  const subset = checkSubset(input.subset);
  const all = [...recordedImages(manifest), recordedConfig(manifest)];
  const chosen = subset ? all.filter((f) => sliceOf(input.dir, f.fileName, subset.t) === subset.n) : all;
  const files: FileCheck[] = [];
  for (const file of chosen) files.push(await checkFile(ctx, settings, input.dir, file));
  return { dir: input.dir, files, ok: files.every((f) => f.ok) };
}

function checkSubset(subset: VerifyBackupInput['subset']): VerifyBackupInput['subset'] {
  if (subset && !(Number.isInteger(subset.n) && Number.isInteger(subset.t) && subset.n >= 1 && subset.n <= subset.t)) {
    throw nonRetryable(`subset ${subset.n}/${subset.t} is not a slice: it needs 1 ≤ n ≤ t`, ErrorTypes.invalidInput);
  }
  return subset;
}

/**
 * A point of an incremental chain: each disk composed from its full and the deltas up to here and
 * hashed whole, against the SHA-256 the backup recorded for the disk at its time (`imageSha256`);
 * the OVF saved with it as a file. A missing link of the chain is a bad file naming the link.
 */
async function verifyChainPoint(settings: CopySettings, input: VerifyBackupInput): ReturnType<RepositoryActivities['verifyBackup']> {
  const ctx = Context.current();
  const manifest = await readChainManifest(settings.repositoryRoot, input.dir);
  if (!manifest) throw nonRetryable(`unknown backup ${input.dir}: no manifest.json there`, ErrorTypes.invalidInput);
  const subset = checkSubset(input.subset);
  const inSlice = (fileName: string) => !subset || sliceOf(input.dir, fileName, subset.t) === subset.n;
  const files: FileCheck[] = [];
  for (const disk of manifest.disks.filter((d) => inSlice(d.fileName))) {
    const expected = { file: disk.fileName, expectedBytes: disk.provisionedSize, expectedSha256: disk.imageSha256 };
    let image;
    try {
      image = await openComposedImage(settings.repositoryRoot, input.dir, disk.id);
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === ErrorTypes.invalidInput) {
        files.push({ ...expected, bytes: 0, sha256: '', ok: false, missing: true, problem: (err as Error).message });
        continue;
      }
      throw err;
    }
    try {
      const hash = createHash('sha256');
      const buffer = Buffer.alloc(Math.min(settings.chunkBytes, Math.max(1, image.size)));
      let bytes = 0;
      let last = Date.now();
      for (;;) {
        const { bytesRead } = await image.read(buffer, 0, buffer.length, bytes);
        if (bytesRead === 0) break;
        hash.update(buffer.subarray(0, bytesRead));
        bytes += bytesRead;
        if (Date.now() - last >= 1000) {
          ctx.heartbeat({ dir: input.dir, file: disk.fileName, position: bytes });
          last = Date.now();
        }
      }
      const sha256 = hash.digest('hex');
      files.push({ ...expected, file: `${disk.fileName} (composed from ${image.layers} backup(s))`, bytes, sha256, ok: bytes === disk.provisionedSize && sha256 === disk.imageSha256 });
    } finally {
      await image.close();
    }
  }
  if (manifest.config) {
    const config = { fileName: manifest.config.path.split('/').pop() || 'vm-config.ovf', bytes: manifest.config.bytes, sha256: manifest.config.sha256 };
    if (inSlice(config.fileName)) files.push(await checkFile(ctx, settings, input.dir, config));
  }
  return { dir: input.dir, files, ok: files.every((f) => f.ok) };
}
