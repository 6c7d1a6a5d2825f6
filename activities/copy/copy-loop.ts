/**
 * The one copy loop of the copy worker: a backup copies a device into a part file of the
 * repository, a restore copies an image file onto a device. Either way: read the source from an
 * offset to its end, write the same offsets of the target, SHA-256 every byte once, and heartbeat
 * only offsets that are durably written, so a retried attempt resumes there.
 */
import type { FileHandle } from 'node:fs/promises';
import { CancelledFailure, type Context } from '@temporalio/activity';
import type { ChunkHasher } from './chunk-hasher';
import type { CopySettings } from './copy-disk';
import { isAligned } from './direct-write';

/** What a copy heartbeats: the offset up to which the target is durably written. */
export interface CopyProgress {
  offset: number;
}

/** What the loop reads from: an open file or device, or anything that reads like one at an offset (a composed chain image). */
export interface ReadAt {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

export interface CopyLoopResult {
  offset: number;
  /** Bytes read from the source by this call. */
  bytesRead: number;
}

/** How often, by default, written bytes are made durable and their end heartbeated as the resume offset. */
export const DEFAULT_CHECKPOINT_MS = 1000;
/**
 * Syncing by bytes as well as by time keeps a fast disk writing all along: with a sync once a second
 * only, it sat idle between syncs and the final fsync had up to a second of writes left
 * (docs/benchmarks.md, (d)).
 */
export const DEFAULT_CHECKPOINT_BYTES = 64 * 1024 * 1024;

/**
 * Where the loop writes: `out`, and for aligned chunks `direct` (the same target opened with
 * O_DIRECT, direct-write.ts) when there is one. A direct write the target refuses as misaligned
 * (EINVAL: nothing written) is written through `out`, and so is every later one.
 */
class CopyTarget {
  constructor(
    private readonly out: FileHandle,
    private direct: FileHandle | undefined,
  ) {}

  async writeFully(buffer: Buffer, length: number, position: number): Promise<void> {
    let done = 0;
    while (done < length) {
      done += await this.write(buffer, done, length - done, position + done);
    }
  }

  private async write(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    if (this.direct && isAligned(offset, length, position)) {
      try {
        return (await this.direct.write(buffer, offset, length, position)).bytesWritten;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
        this.direct = undefined;
      }
    }
    return (await this.out.write(buffer, offset, length, position)).bytesWritten;
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
 * Copies `source` from `start` to its end into `out` at the same offsets, hashing every byte once
 * (`hasher`, whose two buffers the loop reads into). The next chunk is read while the current one is
 * written and hashed (on the hasher's thread, for a large copy). Every checkpointBytes (or
 * checkpointMs, whichever comes first) the bytes written so far are fdatasync'ed in the background
 * (so the disk works while the copy goes on, and the final fsync has little left to do), and only
 * once that sync is done is their end heartbeated: the resume offset never points past what is
 * durably in the target. With `direct` (the target opened with O_DIRECT, the hasher's buffers
 * aligned for it: openCopyBuffers) aligned chunks are written through it, bypassing the page cache;
 * the syncs go through `out` all the same (fdatasync is the file's, whichever handle wrote).
 */
export async function copyLoop(ctx: Context, settings: CopySettings, source: ReadAt, out: FileHandle, start: number, hasher: ChunkHasher, direct?: FileHandle): Promise<CopyLoopResult> {
  const checkpointMs = settings.checkpointMs ?? DEFAULT_CHECKPOINT_MS;
  const checkpointBytes = settings.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES;
  const { buffers } = hasher;
  const chunk = buffers[0]!.length;
  const quiet = <T>(p: Promise<T>) => (p.catch(() => undefined), p);
  const writer = new CopyTarget(out, direct);
  const started = Date.now();
  let offset = start;
  let durable = start;
  let lastCheckpoint = started;
  let lastCheckpointOffset = start;
  let lastHeartbeat = started;
  let syncing: Promise<void> | undefined;
  let syncError: unknown;
  // Every write issued so far, in order: once it is settled, everything before `offset` is written.
  let writing: Promise<void> = Promise.resolve();
  // Per buffer: settled once its last chunk is both written and hashed, and the buffer is free.
  const inUse: Array<Promise<unknown>> = buffers.map(() => Promise.resolve());
  let reading = quiet(source.read(buffers[0]!, 0, chunk, offset));
  let current = 0;
  try {
    for (;;) {
      const { bytesRead } = await reading;
      if (bytesRead === 0) break;
      if (syncError) throw syncError;
      if (ctx.cancellationSignal.aborted) throw new CancelledFailure('copy cancelled');
      const now = Date.now();
      if (!syncing && offset > durable && (now - lastCheckpoint >= checkpointMs || offset - lastCheckpointOffset >= checkpointBytes)) {
        const target = offset;
        lastCheckpoint = now;
        lastCheckpointOffset = offset;
        syncing = writing
          .then(() => out.datasync())
          .then(
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
      const position = offset;
      const index = current;
      offset += bytesRead;
      writing = quiet(writing.then(() => writer.writeFully(buffers[index]!, bytesRead, position)));
      inUse[index] = quiet(Promise.all([writing, hasher.update(index, bytesRead)]));
      current = 1 - current;
      // The other buffer is free once the previous chunk is written and hashed; the next read goes there.
      await inUse[current];
      reading = quiet(source.read(buffers[current]!, 0, chunk, offset));
      if (settings.maxBytesPerSecond > 0) {
        const dueMs = ((offset - start) / settings.maxBytesPerSecond) * 1000 - (Date.now() - started);
        if (dueMs > 0) await ctx.sleep(dueMs);
      }
    }
    await Promise.all(inUse);
    await syncing;
    if (syncError) throw syncError;
    await out.sync();
    return { offset, bytesRead: offset - start };
  } finally {
    // Nothing may still use the handles or the buffers when the caller closes them.
    await Promise.allSettled([reading, writing, syncing, ...inUse]);
  }
}
