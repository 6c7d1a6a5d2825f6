/**
 * Copies an attached disk into the repository with SHA-256, heartbeating the offset up to which the
 * image is durably written (copyLoop). A retried attempt (after a crash of the copy worker) starts
 * from the last heartbeated offset: it re-hashes the part already in the repository instead of
 * reading it from the device again.
 */
import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Context, CancelledFailure } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorTypes, nonRetryable } from '../../lib/errors';
import { guestDeviceName, locateDevice } from './device-locator';
import { repositoryPath, syncDirectory } from './repository';

export interface CopySettings {
  repositoryRoot: string;
  /** /dev/disk/by-id on a real proxy VM; the simulator's device folder in tests and the demo. */
  deviceByIdDir: string;
  /**
   * The guest's /dev, where an attachment's logical_name ("/dev/sdb") is looked up when by-id has
   * no entry for the disk; the simulator's device folder in tests. Without it only by-id is used.
   */
  deviceDir?: string;
  chunkBytes: number;
  /** Bandwidth cap so a backup does not starve the storage domain; 0 = none. */
  maxBytesPerSecond: number;
  /** At the latest this long after the last checkpoint, written bytes are made durable and the resume offset heartbeated (default 1 s). */
  checkpointMs?: number;
  /** And at the latest after this many bytes written since it (default 64 MiB): keeps the disk writing while the copy runs. */
  checkpointBytes?: number;
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

interface CopyLoopResult {
  offset: number;
  bytesReadFromDevice: number;
}

/** How often, by default, written bytes are made durable and their end heartbeated as the resume offset. */
export const DEFAULT_CHECKPOINT_MS = 1000;
/**
 * Syncing by bytes as well as by time keeps a fast disk writing all along: with a sync once a second
 * only, it sat idle between syncs and the final fsync had up to a second of writes left
 * (docs/benchmarks.md, (d)).
 */
export const DEFAULT_CHECKPOINT_BYTES = 64 * 1024 * 1024;

async function writeFully(out: FileHandle, buffer: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await out.write(buffer, done, length - done, position + done);
    done += bytesWritten;
  }
}

/** Read sizes grow in these steps when a disk is smaller than a chunk. */
const SMALL_READ_STEP = 64 * 1024;

/**
 * The size of each of the loop's two buffers: a chunk, or less when the disk is known to be smaller.
 * Two chunk-sized buffers (16 MiB by default) are external memory the GC counts, and many small disks
 * copied one after the other would pay for them in collections; a device larger than expected
 * is still read to its end (in more reads), and then refused by the size check.
 */
export function copyBufferBytes(chunkBytes: number, expectedBytes: number | undefined, start: number): number {
  if (expectedBytes === undefined) return chunkBytes;
  const remaining = Math.max(expectedBytes - start, 1);
  return Math.min(chunkBytes, Math.ceil(remaining / SMALL_READ_STEP) * SMALL_READ_STEP);
}

/**
 * Copies the device from `start` to its end into `out` at the same offsets, hashing every byte once.
 * Two fixed buffers: the next chunk is read while the current one is written and hashed. Every
 * checkpointBytes (or checkpointMs, whichever comes first) the bytes written so far are fdatasync'ed
 * in the background (so the disk works while the copy goes on, and the final fsync has little left
 * to do), and only once that sync is done is their end heartbeated: the resume offset never points
 * past what is durably in the part file.
 */
async function copyLoop(ctx: Context, settings: CopySettings, source: FileHandle, out: FileHandle, start: number, hash: Hash, chunk: number): Promise<CopyLoopResult> {
  const checkpointMs = settings.checkpointMs ?? DEFAULT_CHECKPOINT_MS;
  const checkpointBytes = settings.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES;
  const buffers = [Buffer.allocUnsafeSlow(chunk), Buffer.allocUnsafeSlow(chunk)] as const;
  const quiet = <T>(p: Promise<T>) => (p.catch(() => undefined), p);
  const started = Date.now();
  let offset = start;
  let durable = start;
  let lastCheckpoint = started;
  let lastCheckpointOffset = start;
  let lastHeartbeat = started;
  let syncing: Promise<void> | undefined;
  let syncError: unknown;
  let writing: Promise<void> = Promise.resolve();
  let reading = quiet(source.read(buffers[0], 0, chunk, offset));
  let current = 0;
  try {
    for (;;) {
      const { bytesRead } = await reading;
      if (bytesRead === 0) break;
      // Everything before `offset` is written once the previous write is done; its buffer is free.
      await writing;
      if (syncError) throw syncError;
      if (ctx.cancellationSignal.aborted) throw new CancelledFailure('copy cancelled');
      const now = Date.now();
      if (!syncing && offset > durable && (now - lastCheckpoint >= checkpointMs || offset - lastCheckpointOffset >= checkpointBytes)) {
        const target = offset;
        lastCheckpoint = now;
        lastCheckpointOffset = offset;
        syncing = out.datasync().then(
          () => {
            durable = target;
            lastHeartbeat = Date.now();
            ctx.heartbeat({ offset: durable } satisfies CopyProgress);
            syncing = undefined;
          },
          (err) => {
            syncError = err;
          },
        );
      } else if (now - lastHeartbeat >= checkpointMs) {
        // Alive (and open to cancellation) while a slow sync runs; still only the durable offset.
        lastHeartbeat = now;
        ctx.heartbeat({ offset: durable } satisfies CopyProgress);
      }
      const buffer = buffers[current]!;
      const position = offset;
      offset += bytesRead;
      reading = quiet(source.read(buffers[1 - current]!, 0, chunk, offset));
      writing = quiet(writeFully(out, buffer, bytesRead, position));
      hash.update(buffer.subarray(0, bytesRead));
      current = 1 - current;
      if (settings.maxBytesPerSecond > 0) {
        const dueMs = ((offset - start) / settings.maxBytesPerSecond) * 1000 - (Date.now() - started);
        if (dueMs > 0) await ctx.sleep(dueMs);
      }
    }
    await writing;
    await syncing;
    if (syncError) throw syncError;
    await out.sync();
    return { offset, bytesReadFromDevice: offset - start };
  } finally {
    // Nothing may still use the handles or the buffers when the caller closes them.
    await Promise.allSettled([reading, writing, syncing]);
  }
}

export async function copyDiskToRepository(settings: CopySettings, input: CopyDiskInput): Promise<CopyDiskResult> {
  const ctx = Context.current();
  const device = await locateDevice(input.diskId, { byIdDir: settings.deviceByIdDir, deviceDir: settings.deviceDir }, input.logicalName);
  if (!device) {
    // udev may not have created the link yet: a retry a little later can succeed.
    throw ApplicationFailure.create({
      message: `no device for disk ${input.diskId} under ${settings.deviceByIdDir}${input.logicalName ? `, nor for logical_name ${input.logicalName} (${logicalNameLookup(input.logicalName, settings.deviceDir)})` : ''}`,
      type: ErrorTypes.deviceNotFound,
    });
  }
  const finalPath = repositoryPath(settings.repositoryRoot, input.dir, input.fileName);
  const partPath = `${finalPath}.part`;
  await mkdir(dirname(finalPath), { recursive: true });

  const previous = ctx.info.heartbeatDetails as CopyProgress | undefined;
  // Trust only what is both heartbeated and on disk; the chunk boundary keeps reads aligned. A first
  // attempt has no part file to look at (file-system round trips are most of a small disk's copy).
  const partSize = previous?.offset
    ? await stat(partPath).then(
        (s) => s.size,
        () => 0,
      )
    : 0;
  let offset = previous?.offset ? Math.min(previous.offset, partSize) : 0;
  offset -= offset % settings.chunkBytes;
  const resumedFromOffset = offset;

  const hash = createHash('sha256');
  // Device and part file are opened together; 'w' empties what a first attempt may have left.
  const opened = await Promise.allSettled([open(device.path, 'r'), open(partPath, offset > 0 ? 'r+' : 'w')]);
  const openFailure = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (openFailure) {
    await Promise.all(opened.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    throw openFailure.reason;
  }
  const [source, out] = opened.map((r) => (r as PromiseFulfilledResult<FileHandle>).value) as [FileHandle, FileHandle];
  let copied: CopyLoopResult;
  try {
    if (offset > 0) {
      await out.truncate(offset);
      await hashPrefix(out, offset, hash, settings.chunkBytes);
    }
    copied = await copyLoop(ctx, settings, source, out, offset, hash, copyBufferBytes(settings.chunkBytes, input.expectedBytes, offset));
  } catch (err) {
    await Promise.all([source.close(), out.close()]);
    if (ctx.cancellationSignal.aborted) {
      // A cancelled backup leaves no half-written image behind.
      await rm(partPath, { force: true });
      throw err instanceof CancelledFailure ? err : new CancelledFailure('copy cancelled');
    }
    throw err;
  }
  await Promise.all([source.close(), out.close()]);
  offset = copied.offset;
  const bytesReadFromDevice = copied.bytesReadFromDevice;

  if (input.expectedBytes !== undefined && offset !== input.expectedBytes) {
    throw nonRetryable(`device ${device.path} gave ${offset} bytes but disk ${input.diskId} is ${input.expectedBytes} bytes`, ErrorTypes.vendorRejected);
  }
  await rename(partPath, finalPath);
  await syncDirectory(dirname(finalPath));
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

/** Where a logical_name was looked for, or why it was not, for the DeviceNotFound message. */
function logicalNameLookup(logicalName: string, deviceDir: string | undefined): string {
  const name = guestDeviceName(logicalName);
  if (name === undefined) return 'refused: not a plain device name under /dev';
  if (deviceDir === undefined) return 'not looked up: no device folder configured';
  return `not at ${join(deviceDir, name)}`;
}
