/**
 * A restore's write: one image from the repository onto the device of a disk attached to this
 * proxy, through the same copy loop as the backup (its durable-offset heartbeats). A retried
 * attempt resumes at the heartbeated offset and re-hashes the prefix it keeps from the image file,
 * which is what was written there. The hash is compared with the manifest's at the end.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Context, CancelledFailure } from '@temporalio/activity';
import { ErrorTypes, nonRetryable } from '../../lib/errors';
import { deviceFolders, writeInPlace, type CopySettings } from './copy-disk';
import type { ReadAt } from './copy-loop';
import { requireDevice } from './device-locator';
import { repositoryPath } from './repository';
import type { RepositoryActivities } from './restore-types';
import { isChainDir, openComposedImage, readChainManifest } from './incremental-chain';

export type WriteImageInput = Parameters<RepositoryActivities['writeImageToDevice']>[0];
export type WriteImageResult = Awaited<ReturnType<RepositoryActivities['writeImageToDevice']>>;

export async function writeImageToDevice(settings: CopySettings, input: WriteImageInput): Promise<WriteImageResult> {
  if (isChainDir(input.dir)) return writeChainPointToDevice(settings, input);
  const imagePath = repositoryPath(settings.repositoryRoot, input.dir, input.fileName);
  const imageBytes = await stat(imagePath).then(
    (s) => s.size,
    () => undefined,
  );
  if (imageBytes === undefined) throw nonRetryable(`backup ${input.dir}: image ${input.fileName} is missing`, ErrorTypes.invalidInput);
  if (imageBytes !== input.expectedBytes) throw nonRetryable(`backup ${input.dir}: image ${input.fileName} is ${imageBytes} bytes, the manifest says ${input.expectedBytes}`, ErrorTypes.invalidInput);
  const image = await open(imagePath, 'r');
  try {
    // A resumed write re-hashes its prefix from the image file: that is what was written there.
    return await writeToDevice(settings, input, `backup ${input.dir}: image ${input.fileName}`, image, imageBytes, image);
  } finally {
    await image.close();
  }
}

/**
 * A point of an incremental chain onto the device: the disk composed from the chain's full and its
 * deltas in order, read through the same copy loop while it is composed (no scratch copy of the
 * disk). SHA-256 of what is written against the manifest's `imageSha256` (the whole disk at that
 * backup's time). A retried attempt re-hashes the prefix it keeps from the device itself, where that
 * prefix was durably written (composing it again would read every layer twice).
 */
async function writeChainPointToDevice(settings: CopySettings, input: WriteImageInput): Promise<WriteImageResult> {
  const manifest = await readChainManifest(settings.repositoryRoot, input.dir);
  if (!manifest) throw nonRetryable(`unknown backup ${input.dir}: no manifest.json there`, ErrorTypes.invalidInput);
  const disk = manifest.disks.find((d) => d.fileName === input.fileName);
  if (!disk) throw nonRetryable(`backup ${input.dir} holds no disk stored as ${input.fileName}`, ErrorTypes.invalidInput);
  const source = await openComposedImage(settings.repositoryRoot, input.dir, disk.id);
  const what = `backup ${input.dir}: disk ${disk.name ?? disk.id} composed from ${source.layers} backup(s)`;
  try {
    if (source.size !== input.expectedBytes) throw nonRetryable(`${what} is ${source.size} bytes, the restore expects ${input.expectedBytes}`, ErrorTypes.invalidInput);
    return await writeToDevice(settings, input, what, source, source.size);
  } finally {
    await source.close();
  }
}

/**
 * The one write of a restore: `source` onto the disk's device through the copy loop (writeInPlace),
 * the SHA-256 checked against the manifest's. For either repository (a restic image is read from
 * `restic dump`: restic/restic-repository.ts).
 */
export async function writeToDevice(settings: CopySettings, input: WriteImageInput, what: string, source: ReadAt, size: number, prefixFrom?: FileHandle): Promise<WriteImageResult> {
  const ctx = Context.current();
  const device = await requireDevice(input.diskId, deviceFolders(settings), input.logicalName);
  let written: number;
  let sha256: string;
  let resumedFromOffset: number;
  try {
    ({ bytes: written, sha256, resumedFromOffset } = await writeInPlace(ctx, settings, source, size, device.path, { prefixFrom }));
  } catch (err) {
    if (ctx.cancellationSignal.aborted && !(err instanceof CancelledFailure)) throw new CancelledFailure('restore write cancelled');
    throw err;
  }
  if (written !== input.expectedBytes) throw nonRetryable(`${what} gave ${written} bytes while written to ${device.path}, the manifest says ${input.expectedBytes}`, ErrorTypes.invalidInput);
  if (sha256 !== input.expectedSha256) {
    throw nonRetryable(`${what} hashes to sha256 ${sha256} while written to ${device.path}, the manifest says ${input.expectedSha256}`, ErrorTypes.hashMismatch, {
      file: input.fileName,
      expectedSha256: input.expectedSha256,
      sha256,
    });
  }
  return { device: device.path, bytes: written, sha256, resumedFromOffset, attempt: ctx.info.attempt };
}
