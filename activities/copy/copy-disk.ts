/**
 * Copies an attached disk into the repository with SHA-256, heartbeating the offset up to which the
 * image is durably written (copyLoop). A retried attempt (after a crash of the copy worker) starts
 * from the last heartbeated offset: it re-hashes the part already in the repository instead of
 * reading it from the device again. copyToPartFile is that copy for any source (an image
 * transfer's ranges too, incremental-chain.ts).
 */
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Context, CancelledFailure } from '@temporalio/activity';
import { ErrorTypes, nonRetryable } from '../../lib/errors';
import { openChunkHasher, DEFAULT_HASH_THREAD_MIN_BYTES, type ChunkHasher } from './chunk-hasher';
import { copyBufferBytes, copyLoop, HASH_ONLY, resumeOffset, streamLoop, type CopyLoopResult, type CopyProgress, type ReadAt } from './copy-loop';
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
  /**
   * Copies of at least this many bytes (or of unknown size) hash on a thread of their own, and write
   * with O_DIRECT (default 64 MiB; COPY_HASH_THREAD_MIN_BYTES: a test lowers it to take that path
   * with small disks).
   */
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
  /** Bytes written into the image with O_DIRECT, past the page cache (a directory repository's copy). */
  bytesWrittenDirect?: number;
  /** A restic repository's snapshot that holds the image (its `path` is then restic:<id>:/<file>). */
  resticSnapshotId?: string;
  /** What the backup added to a restic repository after deduplication and compression. */
  bytesAdded?: number;
}

export async function copyDiskToRepository(settings: CopySettings, input: CopyDiskInput): Promise<CopyDiskResult> {
  const ctx = Context.current();
  const device = await requireDevice(input.diskId, deviceFolders(settings), input.logicalName);
  const finalPath = repositoryPath(settings.repositoryRoot, input.dir, input.fileName);
  await mkdir(dirname(finalPath), { recursive: true });
  const source = await open(device.path, 'r');
  let copied: PartFileCopy;
  try {
    copied = await copyToPartFile(ctx, settings, source, finalPath, input.expectedBytes);
  } finally {
    await source.close();
  }
  if (input.expectedBytes !== undefined && copied.offset !== input.expectedBytes) {
    throw nonRetryable(`device ${device.path} gave ${copied.offset} bytes but disk ${input.diskId} is ${input.expectedBytes} bytes`, ErrorTypes.vendorRejected);
  }
  await commitPartFile(finalPath);
  return {
    path: finalPath,
    bytes: copied.offset,
    sha256: copied.sha256,
    device: device.path,
    resumedFromOffset: copied.resumedFromOffset,
    bytesReadFromDevice: copied.bytesRead,
    bytesWrittenDirect: copied.bytesWrittenDirect ?? 0,
    attempt: ctx.info.attempt,
  };
}

export interface PartFileCopy extends CopyLoopResult {
  sha256: string;
  resumedFromOffset: number;
}

/**
 * Copies `source` into `<finalPath>.part` through the copy loop, from the offset a killed attempt
 * heartbeated (resumeOffset; the prefix kept is re-hashed from the part file, the rest truncated
 * away). `size` is what the copy expects (it sizes the buffers and decides the hash thread and
 * direct writes). `sparse`: the part file is made `size` bytes up front, so what the source calls
 * a hole reads as zeros without being written (an image transfer's zero extents). A cancelled copy
 * removes the part file. The caller checks what was copied and then commits it (commitPartFile).
 */
export async function copyToPartFile(ctx: Context, settings: CopySettings, source: ReadAt, finalPath: string, size: number | undefined, options: { sparse?: boolean } = {}): Promise<PartFileCopy> {
  const partPath = `${finalPath}.part`;
  const resumedFromOffset = await resumeOffset(ctx, settings.chunkBytes, { partPath });
  // 'w' empties what a first attempt may have left.
  const out = await open(partPath, resumedFromOffset > 0 ? 'r+' : 'w');
  let hasher: ChunkHasher | undefined;
  let direct: FileHandle | undefined;
  const closeAll = async () => {
    await hasher?.close();
    await Promise.all([out.close(), direct?.close()]);
  };
  let copied: CopyLoopResult;
  let sha256: string;
  try {
    if (resumedFromOffset > 0) await out.truncate(resumedFromOffset);
    // Zeros past the offset: holes are never written (nor is anything a killed attempt left there).
    if (options.sparse && size !== undefined) await out.truncate(size);
    // The direct probe writes a block of zeros (fresh memory) at the offset: a hole there stays zeros.
    ({ hasher, direct } = await openCopyBuffers(settings, size, resumedFromOffset, partPath));
    if (resumedFromOffset > 0) {
      // Heartbeating the offset it resumes from: a long prefix must not run into the heartbeat timeout.
      await hasher.hashPrefix(out, resumedFromOffset, { ctx, details: () => ({ offset: resumedFromOffset }) satisfies CopyProgress });
    }
    copied = await copyLoop(ctx, settings, source, out, resumedFromOffset, hasher, direct);
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
  return { ...copied, sha256, resumedFromOffset };
}

/**
 * Writes `source` (`size` bytes) over `targetPath` in place (a device, or an image file made if it
 * is not there; never truncated) through the copy loop: SHA-256 on the hash thread for a large
 * source, O_DIRECT where it can, durable offsets heartbeated, fsynced at the end. A retried attempt
 * resumes at the heartbeated offset (fdatasync'ed before it was sent, so it is there) and re-hashes
 * the prefix it keeps from `prefixFrom` (default: the target itself). A restore's write
 * (write-image.ts) and a chain point written to a file (incremental-chain.ts).
 */
export async function writeInPlace(
  ctx: Context,
  settings: CopySettings,
  source: ReadAt,
  size: number,
  targetPath: string,
  options: { prefixFrom?: FileHandle; exactFile?: boolean } = {},
): Promise<{ bytes: number; sha256: string; resumedFromOffset: number }> {
  const resumedFromOffset = await resumeOffset(ctx, settings.chunkBytes, { size });
  // r+: a block device cannot be truncated, and the simulator's file must keep its size; 'a' first makes a file that is not there.
  await (await open(targetPath, 'a')).close();
  const target = await open(targetPath, 'r+');
  try {
    // exactFile: a file target holds nothing past the image either (what a killed attempt left over a longer file); a device keeps its size.
    if (options.exactFile && (await target.stat()).isFile()) await target.truncate(size);
    const { hasher, direct } = await openCopyBuffers(settings, size, resumedFromOffset, targetPath);
    try {
      if (resumedFromOffset > 0) await hasher.hashPrefix(options.prefixFrom ?? target, resumedFromOffset, { ctx, details: () => ({ offset: resumedFromOffset }) satisfies CopyProgress });
      const { offset } = await copyLoop(ctx, settings, source, target, resumedFromOffset, hasher, direct);
      return { bytes: offset, sha256: await hasher.digest(), resumedFromOffset };
    } finally {
      await hasher.close();
      await direct?.close();
    }
  } finally {
    await target.close();
  }
}

/** The part file, copied and checked, becomes the image: renamed into place, the rename made durable. */
export async function commitPartFile(finalPath: string): Promise<void> {
  await rename(`${finalPath}.part`, finalPath);
  await syncDirectory(dirname(finalPath));
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
  const { onThread, bufferBytes } = hasherShape(settings, expectedBytes, start);
  // The probe writes the first aligned block at `start` (zeros): only where the copy writes it anyway, or a sparse copy's hole keeps zeros.
  const direct =
    onThread && settings.directWrites !== false && expectedBytes !== undefined && expectedBytes - start >= DIRECT_ALIGN && isAligned(bufferBytes)
      ? await openDirectTarget(targetPath, copyMemory(bufferBytes), start)
      : undefined;
  return direct ? { hasher: openChunkHasher(bufferBytes, onThread, direct.memory, direct.pad), direct: direct.handle } : { hasher: openChunkHasher(bufferBytes, onThread) };
}

function hasherShape(settings: CopySettings, expectedBytes: number | undefined, start: number): { onThread: boolean; bufferBytes: number } {
  return {
    onThread: (expectedBytes ?? Number.POSITIVE_INFINITY) >= (settings.hashThreadMinBytes ?? DEFAULT_HASH_THREAD_MIN_BYTES),
    bufferBytes: copyBufferBytes(settings.chunkBytes, expectedBytes, start),
  };
}

/** The hasher of a copy that writes no file (a restic stream, a hash only): openCopyBuffers without direct writes. */
export function openStreamHasher(settings: CopySettings, expectedBytes: number | undefined): ChunkHasher {
  const { onThread, bufferBytes } = hasherShape(settings, expectedBytes, 0);
  return openChunkHasher(bufferBytes, onThread);
}

/**
 * SHA-256 of `source` from 0 to its end (`size` bytes expected), through the loop with nothing to
 * write: on the hash thread for a large source, heartbeating `details`, open to cancellation.
 */
export async function hashSource(ctx: Context, settings: CopySettings, source: ReadAt, size: number, details: () => unknown): Promise<{ bytes: number; sha256: string }> {
  const hasher = openStreamHasher(settings, size);
  try {
    const { offset } = await streamLoop(ctx, { ...settings, maxBytesPerSecond: 0, details }, source, 0, hasher, HASH_ONLY);
    return { bytes: offset, sha256: await hasher.digest() };
  } finally {
    await hasher.close();
  }
}
