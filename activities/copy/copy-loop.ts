/**
 * The one copy loop of the copy worker: a backup copies a device (or an image transfer's ranges)
 * into a part file of the repository, a restore copies an image onto a device, a restic backup
 * streams a device into `restic backup --stdin`, a chain's composed disk is only hashed. Each reads
 * its source from an offset to its end into the two buffers of a ChunkHasher (SHA-256 on a thread
 * of its own for a large copy), hashes every byte once and hands it to a sink in order, reading the
 * next chunk meanwhile: streamLoop. A file or device target (copyLoop) is written at the same
 * offsets (O_DIRECT where it can), fdatasync'ed in the background, and only offsets that are
 * durably written are heartbeated, so a retried attempt resumes there (resumeOffset).
 */
import { stat, type FileHandle } from 'node:fs/promises';
import { CancelledFailure, type Context } from '@temporalio/activity';
import type { ChunkHasher } from './chunk-hasher';
import type { CopySettings } from './copy-disk';
import { isAligned } from './direct-write';

/** What a copy heartbeats: the offset up to which the target is durably written. */
export interface CopyProgress {
  offset: number;
}

/**
 * What the loop reads from: an open file or device, or anything that reads like one at an offset (a
 * composed chain image, an image transfer's ranges). A read may return fewer bytes than asked (0 at
 * the end); `hole` says the bytes read are zeros the target already holds (a sparse file's
 * unwritten part): they are hashed but not written.
 */
export interface ReadAt {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number; hole?: boolean }>;
}

/**
 * Where the loop hands each chunk, in order. `write` resolves once the buffer may be reused (the
 * bytes are in the target, or were handed to the OS). With `sync` the loop makes what was written
 * durable now and then and heartbeats only offsets that are; without it, the offset handed on.
 */
export interface ChunkSink {
  write(buffer: Buffer, length: number, position: number, hole: boolean): Promise<void>;
  sync?(): Promise<void>;
}

export interface CopyLoopResult {
  offset: number;
  /** Bytes read from the source by this call. */
  bytesRead: number;
  /** Of those, bytes written to the target with O_DIRECT (copyLoop). */
  bytesWrittenDirect?: number;
}

export interface StreamLoopOptions extends Pick<CopySettings, 'checkpointMs' | 'checkpointBytes' | 'maxBytesPerSecond'> {
  /** What a heartbeat carries, given the offset reached (durably, with a syncing sink); default CopyProgress. */
  details?: (offset: number) => unknown;
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
 * Where copyLoop writes: `out`, and for aligned chunks `direct` (the same target opened with
 * O_DIRECT, direct-write.ts) when there is one. A direct write the target refuses as misaligned
 * (EINVAL: nothing written) is written through `out`, and so is every later one. A hole is not
 * written: the caller made the target read as zeros there (a sparse part file).
 */
class CopyTarget implements ChunkSink {
  /** Bytes written through `direct`: what a test or a benchmark checks to know the direct path was taken. */
  directBytes = 0;
  constructor(
    private readonly out: FileHandle,
    private direct: FileHandle | undefined,
  ) {}

  async write(buffer: Buffer, length: number, position: number, hole: boolean): Promise<void> {
    if (hole) return;
    let done = 0;
    while (done < length) {
      done += await this.writeSome(buffer, done, length - done, position + done);
    }
  }

  sync(): Promise<void> {
    return this.out.datasync();
  }

  private async writeSome(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    if (this.direct && isAligned(offset, length, position)) {
      try {
        const { bytesWritten } = await this.direct.write(buffer, offset, length, position);
        this.directBytes += bytesWritten;
        return bytesWritten;
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
 * Where a retried copy resumes: the offset its last attempt heartbeated (durably written by then),
 * no further than what is there (`partPath`'s size: a crash may have lost a tail) or than the
 * copy's `size`, rounded down to a chunk so reads and direct writes stay aligned. 0 on a first
 * attempt (which then looks at no file: file-system round trips are most of a small disk's copy).
 */
export async function resumeOffset(ctx: Context, chunkBytes: number, bound: { partPath: string } | { size: number }): Promise<number> {
  const previous = (ctx.info.heartbeatDetails as CopyProgress | undefined)?.offset;
  if (!previous || previous < 0) return 0;
  const there =
    'size' in bound
      ? bound.size
      : await stat(bound.partPath).then(
          (s) => s.size,
          () => 0,
        );
  const offset = Math.min(previous, there);
  return offset - (offset % chunkBytes);
}

/**
 * Copies `source` from `start` to its end into `out` at the same offsets, hashing every byte once
 * (`hasher`, whose two buffers the loop reads into): streamLoop with the file as its sink. Every
 * checkpointBytes (or checkpointMs, whichever comes first) the bytes written so far are
 * fdatasync'ed in the background (so the disk works while the copy goes on, and the final fsync has
 * little left to do), and only once that sync is done is their end heartbeated: the resume offset
 * never points past what is durably in the target. With `direct` (the target opened with O_DIRECT,
 * the hasher's buffers aligned for it: openCopyBuffers) aligned chunks are written through it,
 * bypassing the page cache; the syncs go through `out` all the same (fdatasync is the file's,
 * whichever handle wrote). Ends with the target fsynced.
 */
export async function copyLoop(ctx: Context, settings: CopySettings, source: ReadAt, out: FileHandle, start: number, hasher: ChunkHasher, direct?: FileHandle): Promise<CopyLoopResult> {
  const target = new CopyTarget(out, direct);
  const result = await streamLoop(ctx, settings, source, start, hasher, target);
  await out.sync();
  return { ...result, bytesWrittenDirect: target.directBytes };
}

/**
 * The core of every copy: reads `source` from `start` to its end into the hasher's two buffers,
 * hashes each chunk once (on the hasher's thread, for a large copy) while `sink` takes it, and reads
 * the next chunk into the other buffer meanwhile; a buffer is read into again only once both the
 * hash and the sink are done with it. Heartbeats at least every checkpointMs (open to cancellation
 * between chunks); with a syncing sink, also syncs every checkpointBytes or checkpointMs and
 * heartbeats only synced offsets. maxBytesPerSecond paces what is read (holes excepted: nothing
 * was fetched for them).
 */
export async function streamLoop(ctx: Context, options: StreamLoopOptions, source: ReadAt, start: number, hasher: ChunkHasher, sink: ChunkSink): Promise<CopyLoopResult> {
  const checkpointMs = options.checkpointMs ?? DEFAULT_CHECKPOINT_MS;
  const checkpointBytes = options.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES;
  const details = options.details ?? ((offset: number) => ({ offset }) satisfies CopyProgress);
  const { buffers } = hasher;
  const chunk = buffers[0]!.length;
  const quiet = <T>(p: Promise<T>) => (p.catch(() => undefined), p);
  const started = Date.now();
  let offset = start;
  // With a syncing sink, what is durable; without, what was handed on.
  let durable = start;
  let paced = 0;
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
      const { bytesRead, hole } = await reading;
      if (bytesRead === 0) break;
      if (syncError) throw syncError;
      if (ctx.cancellationSignal.aborted) throw new CancelledFailure('copy cancelled');
      const now = Date.now();
      if (!sink.sync) durable = offset;
      if (sink.sync && !syncing && offset > durable && (now - lastCheckpoint >= checkpointMs || offset - lastCheckpointOffset >= checkpointBytes)) {
        const target = offset;
        const sync = sink.sync.bind(sink);
        lastCheckpoint = now;
        lastCheckpointOffset = offset;
        syncing = writing.then(sync).then(
          () => {
            durable = target;
            lastHeartbeat = Date.now();
            ctx.heartbeat(details(durable));
            syncing = undefined;
          },
          (err) => {
            syncError = err;
          },
        );
      } else if (now - lastHeartbeat >= checkpointMs) {
        // Alive (and open to cancellation) while a slow sync runs; still only the durable offset.
        lastHeartbeat = now;
        ctx.heartbeat(details(durable));
      }
      const position = offset;
      const index = current;
      offset += bytesRead;
      if (!hole) paced += bytesRead;
      writing = quiet(writing.then(() => sink.write(buffers[index]!, bytesRead, position, hole === true)));
      inUse[index] = quiet(Promise.all([writing, hasher.update(index, bytesRead)]));
      current = 1 - current;
      // The other buffer is free once the previous chunk is written and hashed; the next read goes there.
      await inUse[current];
      reading = quiet(source.read(buffers[current]!, 0, chunk, offset));
      if (options.maxBytesPerSecond > 0) {
        const dueMs = (paced / options.maxBytesPerSecond) * 1000 - (Date.now() - started);
        if (dueMs > 0) await ctx.sleep(dueMs);
      }
    }
    await Promise.all(inUse);
    await syncing;
    if (syncError) throw syncError;
    return { offset, bytesRead: offset - start };
  } finally {
    // Nothing may still use the handles or the buffers when the caller closes them.
    await Promise.allSettled([reading, writing, syncing, ...inUse]);
  }
}

/** A sink that keeps nothing: the loop only hashes (a chain's composed disk). */
export const HASH_ONLY: ChunkSink = { write: async () => undefined };

/**
 * A stream (a `restic dump`'s output) read as a ReadAt, in order: each read is at the position the
 * last one reached, or further on (what lies between is read and dropped: a resumed write, or the
 * part of a parent image an overlay replaces); never backwards. A read fills its buffer unless the
 * stream ends first. At the stream's end `ended` runs once and may throw (the producer's failure).
 */
export class SequentialSource implements ReadAt {
  /** Bytes of the stream taken so far (read or dropped). */
  position = 0;
  private readonly pieces: AsyncIterator<Buffer>;
  private rest: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(
    stream: NodeJS.ReadableStream,
    private readonly ended?: () => Promise<void>,
  ) {
    this.pieces = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    if (position < this.position) throw new Error(`a stream cannot be read backwards: it is at ${this.position}, ${position} was asked for`);
    while (this.position < position) {
      if (!(await this.take(position - this.position))) return { bytesRead: 0 };
    }
    let got = 0;
    while (got < length) {
      const piece = await this.take(length - got);
      if (!piece) break;
      piece.copy(buffer, offset + got);
      got += piece.length;
    }
    return { bytesRead: got };
  }

  /** Up to `max` bytes of the stream, undefined at its end. */
  private async take(max: number): Promise<Buffer | undefined> {
    while (this.rest.length === 0) {
      if (this.done) return undefined;
      const next = await this.pieces.next();
      if (next.done) {
        this.done = true;
        await this.ended?.();
        return undefined;
      }
      this.rest = next.value;
    }
    const piece = this.rest.subarray(0, max);
    this.rest = this.rest.subarray(piece.length);
    this.position += piece.length;
    return piece;
  }
}
