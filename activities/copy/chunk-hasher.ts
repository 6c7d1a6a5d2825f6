/**
 * The SHA-256 of a copy, computed where it does not hold up the copy's reads and writes: a large
 * copy hashes on a worker thread of its own, which reads the chunks from the same shared memory the
 * loop reads into and writes from; a small one hashes on the main thread (a thread's start would
 * cost more than its hash). Either way the copy loop sees the same interface, and the hasher is
 * closed by whoever opened it, on every path.
 */
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { CancelledFailure } from '@temporalio/activity';
import { hashRange, type HashReadProgress } from './hash-read';

export interface ChunkHasher {
  /** The buffers the copy loop reads into; `update` names one by its index. */
  readonly buffers: readonly Buffer[];
  /** Hashes buffers[index] up to length, after everything handed in before; resolves once the buffer may be reused. */
  update(index: number, length: number): Promise<void>;
  /** Hashes `handle` from 0 up to `end` (a resumed copy's prefix), heartbeating and open to cancellation. */
  hashPrefix(handle: FileHandle, end: number, progress: HashReadProgress): Promise<void>;
  digest(): Promise<string>;
  /** Ends the thread, if any; what is still pending rejects. Safe to call more than once. */
  close(): Promise<void>;
}

/** Copies at least this long hash on a thread of their own: a thread's start costs ~30 ms of CPU (docs/benchmarks.md, (d)). */
export const DEFAULT_HASH_THREAD_MIN_BYTES = 64 * 1024 * 1024;

/**
 * The buffers are `bufferBytes` each, one after the other from `pad` in `memory` (copyMemory: where
 * direct writes need them, direct-write.ts), or in memory of their own.
 */
export function openChunkHasher(bufferBytes: number, onThread: boolean, memory?: SharedArrayBuffer, pad = 0): ChunkHasher {
  return onThread ? new ThreadHasher(bufferBytes, memory ?? new SharedArrayBuffer(2 * bufferBytes), pad) : new MainThreadHasher(bufferBytes, memory, pad);
}

/** How many threads are running right now (tests check that none is left behind). */
export function runningHashThreads(): number {
  return ThreadHasher.running;
}

class MainThreadHasher implements ChunkHasher {
  readonly buffers: readonly Buffer[];
  private readonly hash: Hash = createHash('sha256');
  constructor(
    private readonly bufferBytes: number,
    memory: SharedArrayBuffer | undefined,
    pad: number,
  ) {
    this.buffers = memory ? [Buffer.from(memory, pad, bufferBytes), Buffer.from(memory, pad + bufferBytes, bufferBytes)] : [Buffer.allocUnsafeSlow(bufferBytes), Buffer.allocUnsafeSlow(bufferBytes)];
  }
  update(index: number, length: number): Promise<void> {
    // After the loop's next turn, by which it has issued the next read: the read runs while this hashes.
    return new Promise((resolve, reject) =>
      setImmediate(() => {
        try {
          this.hash.update(this.buffers[index]!.subarray(0, length));
          resolve();
        } catch (err) {
          reject(err);
        }
      }),
    );
  }
  async hashPrefix(handle: FileHandle, end: number, progress: HashReadProgress): Promise<void> {
    await hashRange(handle, 0, end, this.hash, this.bufferBytes, progress);
  }
  async digest(): Promise<string> {
    return this.hash.digest('hex');
  }
  async close(): Promise<void> {}
}

/**
 * The thread's side, a CommonJS script run with `eval` (no loader or bundler needs to know of a
 * file). Messages: [id, start, length] hashes that much of the shared memory; [id, -1, end, fd]
 * reads the file from 0 to end through the first buffer (at workerData.pad) and hashes it; [id, -2]
 * answers the digest.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readSync } = require('node:fs');
const hash = require('node:crypto').createHash('sha256');
const memory = Buffer.from(workerData.memory);
const { bufferBytes, pad } = workerData;
parentPort.on('message', ([id, start, length, fd]) => {
  try {
    if (start >= 0) {
      hash.update(memory.subarray(start, start + length));
      parentPort.postMessage([id]);
    } else if (start === -1) {
      for (let position = 0; position < length; ) {
        const n = readSync(fd, memory, pad, Math.min(bufferBytes, length - position), position);
        if (n === 0) break;
        hash.update(memory.subarray(pad, pad + n));
        position += n;
      }
      parentPort.postMessage([id]);
    } else {
      parentPort.postMessage([id, hash.digest('hex')]);
    }
  } catch (err) {
    parentPort.postMessage([id, undefined, String(err && err.message || err)]);
  }
});
`;

class ThreadHasher implements ChunkHasher {
  static running = 0;
  readonly buffers: readonly Buffer[];
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (hex: string | undefined) => void; reject: (err: Error) => void }>();
  private nextId = 0;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly bufferBytes: number,
    memory: SharedArrayBuffer,
    private readonly pad: number,
  ) {
    this.buffers = [Buffer.from(memory, pad, bufferBytes), Buffer.from(memory, pad + bufferBytes, bufferBytes)];
    this.worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { memory, bufferBytes, pad } });
    ThreadHasher.running++;
    this.worker.on('message', ([id, hex, error]: [number, string | undefined, string | undefined]) => {
      const waiter = this.pending.get(id);
      this.pending.delete(id);
      if (error !== undefined) waiter?.reject(new Error(`hash thread: ${error}`));
      else waiter?.resolve(hex);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => {
      ThreadHasher.running--;
      this.fail(new Error('hash thread exited'));
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.pending.values()) waiter.reject(this.failure);
    this.pending.clear();
  }

  private call(message: unknown[]): Promise<string | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage([id, ...message]);
    });
  }

  async update(index: number, length: number): Promise<void> {
    await this.call([this.pad + index * this.bufferBytes, length]);
  }

  async hashPrefix(handle: FileHandle, end: number, progress: HashReadProgress): Promise<void> {
    const { ctx } = progress;
    if (ctx.cancellationSignal.aborted) throw new CancelledFailure('read cancelled');
    // The thread reads on its own; this one heartbeats meanwhile and ends the thread on cancellation.
    const heartbeat = setInterval(() => ctx.heartbeat(progress.details(0)), progress.everyMs ?? 1000);
    // Heartbeats stop with the cancel itself, not when the terminated thread's call rejects later.
    const cancel = () => {
      clearInterval(heartbeat);
      void this.close();
    };
    ctx.cancellationSignal.addEventListener('abort', cancel);
    try {
      await this.call([-1, end, handle.fd]);
    } catch (err) {
      if (ctx.cancellationSignal.aborted) throw new CancelledFailure('read cancelled');
      throw err;
    } finally {
      clearInterval(heartbeat);
      ctx.cancellationSignal.removeEventListener('abort', cancel);
    }
  }

  async digest(): Promise<string> {
    return (await this.call([-2]))!;
  }

  close(): Promise<void> {
    this.closing ??= this.worker.terminate().then(() => undefined);
    return this.closing;
  }
}
