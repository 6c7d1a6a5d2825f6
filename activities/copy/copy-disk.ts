/**
 * Copies an attached disk into the repository with SHA-256, heartbeating the offset up to which the
 * image is durably written (copyLoop). A retried attempt (after a crash of the copy worker) starts
 * from the last heartbeated offset: it re-hashes the part already in the repository instead of
 * reading it from the device again.
 */
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Context, CancelledFailure } from '@temporalio/activity';
import { ErrorTypes, nonRetryable } from '../../lib/errors';
import { openChunkHasher, DEFAULT_HASH_THREAD_MIN_BYTES, type ChunkHasher } from './chunk-hasher';
import { copyBufferBytes, copyLoop, type CopyLoopResult, type CopyProgress } from './copy-loop';
import { copyMemory, DIRECT_ALIGN, isAligned, openDirectTarget } from './direct-write';
import { requireDevice, type DeviceFolders } from './device-locator';
import { repositoryPath, syncDirectory } from './repository';
import type { ResticSettings } from './restic/restic-cli';

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
  /** Back up into this restic repository instead of repositoryRoot (BACKUP_REPOSITORY_KIND=restic). */
  restic?: ResticSettings;
  /** Copies of at least this many bytes (or of unknown size) hash on a thread of their own (default 64 MiB). */
  hashThreadMinBytes?: number;
  /**
   * Those copies, when their size is known, write their target with O_DIRECT, past the page cache
   * (default true; COPY_DIRECT_WRITES=false turns it off): direct-write.ts.
   */
  directWrites?: boolean;
  /** PEM file of the CA that signs the engine's imageio (transfer URLs of incremental backups); default: the system's CAs. */
  imageioCaFile?: string;
}

export interface CopyDiskInput {
  /** The VM the disk belongs to: tags its restic snapshot. */
  vmId?: string;
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
  /** A restic repository's snapshot that holds the image (its `path` is then restic:<id>:/<file>). */
  resticSnapshotId?: string;
  /** What the backup added to a restic repository after deduplication and compression. */
  bytesAdded?: number;
}

export async function copyDiskToRepository(settings: CopySettings, input: CopyDiskInput): Promise<CopyDiskResult> {
  const ctx = Context.current();
  const device = await requireDevice(input.diskId, deviceFolders(settings), input.logicalName);
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

  // Device and part file are opened together; 'w' empties what a first attempt may have left.
  const opened = await Promise.allSettled([open(device.path, 'r'), open(partPath, offset > 0 ? 'r+' : 'w')]);
  const openFailure = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (openFailure) {
    await Promise.all(opened.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    throw openFailure.reason;
  }
  const [source, out] = opened.map((r) => (r as PromiseFulfilledResult<FileHandle>).value) as [FileHandle, FileHandle];
  const { hasher, direct } = await openCopyBuffers(settings, input.expectedBytes, offset, partPath);
  const closeAll = async () => {
    await hasher.close();
    await Promise.all([source.close(), out.close(), direct?.close()]);
  };
  let copied: CopyLoopResult;
  let sha256: string;
  try {
    if (offset > 0) {
      await out.truncate(offset);
      // Heartbeating the offset it resumes from: a long prefix must not run into the heartbeat timeout.
      await hasher.hashPrefix(out, offset, { ctx, details: () => ({ offset: resumedFromOffset }) satisfies CopyProgress });
    }
    copied = await copyLoop(ctx, settings, source, out, offset, hasher, direct);
    sha256 = await hasher.digest();
  } catch (err) {
    await closeAll();
    if (ctx.cancellationSignal.aborted) {
      // A cancelled backup leaves no half-written image behind.
      await rm(partPath, { force: true });
      throw err instanceof CancelledFailure ? err : new CancelledFailure('copy cancelled');
    }
    throw err;
  }
  await closeAll();
  offset = copied.offset;
  const bytesReadFromDevice = copied.bytesRead;

  if (input.expectedBytes !== undefined && offset !== input.expectedBytes) {
    throw nonRetryable(`device ${device.path} gave ${offset} bytes but disk ${input.diskId} is ${input.expectedBytes} bytes`, ErrorTypes.vendorRejected);
  }
  await rename(partPath, finalPath);
  await syncDirectory(dirname(finalPath));
  return {
    path: finalPath,
    bytes: offset,
    sha256,
    device: device.path,
    resumedFromOffset,
    bytesReadFromDevice,
    attempt: ctx.info.attempt,
  };
}

export function deviceFolders(settings: CopySettings): DeviceFolders {
  return { byIdDir: settings.deviceByIdDir, deviceDir: settings.deviceDir };
}

/**
 * The buffers and hasher of a copy from `start` into `targetPath`: buffers sized to what is left to
 * copy; on a thread when the whole disk (a resumed copy re-hashes its prefix) is large or of unknown
 * size; and for such a copy of known size, the target opened for direct writes with the buffers
 * aligned for them (direct-write.ts; undefined where the target refuses them). The caller closes
 * both.
 */
export async function openCopyBuffers(settings: CopySettings, expectedBytes: number | undefined, start: number, targetPath: string): Promise<{ hasher: ChunkHasher; direct?: FileHandle }> {
  const onThread = (expectedBytes ?? Number.POSITIVE_INFINITY) >= (settings.hashThreadMinBytes ?? DEFAULT_HASH_THREAD_MIN_BYTES);
  const bufferBytes = copyBufferBytes(settings.chunkBytes, expectedBytes, start);
  // The probe writes the first aligned block at `start`: only where the copy writes it anyway.
  const direct =
    onThread && settings.directWrites !== false && expectedBytes !== undefined && expectedBytes - start >= DIRECT_ALIGN && isAligned(bufferBytes)
      ? await openDirectTarget(targetPath, copyMemory(bufferBytes), start)
      : undefined;
  return direct ? { hasher: openChunkHasher(bufferBytes, onThread, direct.memory, direct.pad), direct: direct.handle } : { hasher: openChunkHasher(bufferBytes, onThread) };
}
