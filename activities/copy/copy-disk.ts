/**
 * Streams an attached disk into the repository with SHA-256, heartbeating the offset. A retried
 * attempt (after a crash of the copy worker) starts from the last heartbeated offset: it re-hashes
 * the part already in the repository instead of reading it from the device again.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Context, CancelledFailure } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorTypes, nonRetryable } from '../../lib/errors';
import { locateDevice } from './device-locator';
import { repositoryPath } from './repository';

export interface CopySettings {
  repositoryRoot: string;
  /** /dev/disk/by-id on a real proxy VM; the simulator's device folder in tests and the demo. */
  deviceByIdDir: string;
  chunkBytes: number;
  /** Bandwidth cap so a backup does not starve the storage domain; 0 = none. */
  maxBytesPerSecond: number;
}

export interface CopyDiskInput {
  diskId: string;
  logicalName?: string;
  expectedBytes?: number;
  dir: string;
  fileName: string;
}

export interface CopyDiskResult {
  path: string;
  bytes: number;
  sha256: string;
  device: string;
  /** Offset the copy resumed from (0 on a first attempt). */
  resumedFromOffset: number;
  /** Bytes read from the device by the attempt that finished. */
  bytesReadFromDevice: number;
  attempt: number;
}

interface CopyProgress {
  offset: number;
}

async function hashPrefix(handle: FileHandle, length: number, hash: Hash, chunkBytes: number): Promise<void> {
  const buffer = Buffer.allocUnsafe(chunkBytes);
  let position = 0;
  while (position < length) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(chunkBytes, length - position), position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
}

export async function copyDiskToRepository(settings: CopySettings, input: CopyDiskInput): Promise<CopyDiskResult> {
  const ctx = Context.current();
  const device = await locateDevice(input.diskId, settings.deviceByIdDir, input.logicalName);
  if (!device) {
    // udev may not have created the link yet: a retry a little later can succeed.
    throw ApplicationFailure.create({
      message: `no device for disk ${input.diskId} under ${settings.deviceByIdDir}${input.logicalName ? ` nor at ${input.logicalName}` : ''}`,
      type: 'DeviceNotFound',
    });
  }
  const finalPath = repositoryPath(settings.repositoryRoot, input.dir, input.fileName);
  const partPath = `${finalPath}.part`;
  await mkdir(dirname(finalPath), { recursive: true });

  const previous = ctx.info.heartbeatDetails as CopyProgress | undefined;
  const partSize = await stat(partPath).then((s) => s.size, () => 0);
  // Trust only what is both heartbeated and on disk; the chunk boundary keeps reads aligned.
  let offset = previous?.offset ? Math.min(previous.offset, partSize) : 0;
  offset -= offset % settings.chunkBytes;
  const resumedFromOffset = offset;

  const hash = createHash('sha256');
  const out = await open(partPath, offset > 0 ? 'r+' : 'w');
  let bytesReadFromDevice = 0;
  try {
    await out.truncate(offset);
    if (offset > 0) await hashPrefix(out, offset, hash, settings.chunkBytes);

    const started = Date.now();
    const source = createReadStream(device.path, { start: offset, highWaterMark: settings.chunkBytes });
    const onCancel = () => source.destroy(new CancelledFailure('copy cancelled'));
    ctx.cancellationSignal.addEventListener('abort', onCancel, { once: true });
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        // Hash while the write runs on the thread pool (docs/benchmarks.md, (d)).
        const written = out.write(chunk, 0, chunk.length, offset);
        hash.update(chunk);
        await written;
        offset += chunk.length;
        bytesReadFromDevice += chunk.length;
        ctx.heartbeat({ offset } satisfies CopyProgress);
        if (settings.maxBytesPerSecond > 0) {
          const dueMs = (bytesReadFromDevice / settings.maxBytesPerSecond) * 1000 - (Date.now() - started);
          if (dueMs > 0) await ctx.sleep(dueMs);
        }
      }
    } finally {
      ctx.cancellationSignal.removeEventListener('abort', onCancel);
    }
    await out.sync();
  } catch (err) {
    await out.close();
    if (ctx.cancellationSignal.aborted) {
      // A cancelled backup leaves no half-written image behind.
      await rm(partPath, { force: true });
      throw err instanceof CancelledFailure ? err : new CancelledFailure('copy cancelled');
    }
    throw err;
  }
  await out.close();

  if (input.expectedBytes !== undefined && offset !== input.expectedBytes) {
    throw nonRetryable(`device ${device.path} gave ${offset} bytes but disk ${input.diskId} is ${input.expectedBytes} bytes`, ErrorTypes.vendorRejected);
  }
  await rename(partPath, finalPath);
  return {
    path: finalPath,
    bytes: offset,
    sha256: hash.digest('hex'),
    device: device.path,
    resumedFromOffset,
    bytesReadFromDevice,
    attempt: ctx.info.attempt,
  };
}
