/**
 * Reading a file or device only to hash it: a resumed copy's prefix, a device read back after a
 * restore, a stored image re-read by a check. The next chunk is read while the current one is
 * hashed; a long read heartbeats (so the activity's heartbeat timeout holds) and stops on
 * cancellation.
 */
import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { CancelledFailure, type Context } from '@temporalio/activity';
import { copyBufferBytes } from './copy-loop';

export interface HashReadProgress {
  ctx: Context;
  /** What each heartbeat carries, given the position reached. */
  details: (position: number) => unknown;
  /** Default 1 s. */
  everyMs?: number;
}

/**
 * Hashes `handle` from `start` up to `end` (or its end, if that comes first) and returns the
 * position reached. Its two buffers are a chunk each, or less when `end` (else `sizeHint`) says
 * there is less to read.
 */
export async function hashRange(handle: FileHandle, start: number, end: number | undefined, hash: Hash, chunkBytes: number, progress?: HashReadProgress, sizeHint?: number): Promise<number> {
  const limit = end ?? Number.POSITIVE_INFINITY;
  const everyMs = progress?.everyMs ?? 1000;
  const bufferBytes = copyBufferBytes(chunkBytes, end ?? sizeHint, start);
  const buffers = [Buffer.allocUnsafe(bufferBytes), Buffer.allocUnsafe(bufferBytes)] as const;
  const readAt = (i: number, position: number) => handle.read(buffers[i]!, 0, Math.min(bufferBytes, limit - position), position);
  let position = start;
  let lastHeartbeat = Date.now();
  let current = 0;
  let reading = position < limit ? readAt(current, position) : undefined;
  try {
    while (reading) {
      const { bytesRead } = await reading;
      reading = undefined;
      if (bytesRead === 0) break;
      const buffer = buffers[current]!;
      position += bytesRead;
      current = 1 - current;
      if (position < limit) reading = readAt(current, position);
      hash.update(buffer.subarray(0, bytesRead));
      if (progress) {
        if (progress.ctx.cancellationSignal.aborted) throw new CancelledFailure('read cancelled');
        const now = Date.now();
        if (now - lastHeartbeat >= everyMs) {
          lastHeartbeat = now;
          progress.ctx.heartbeat(progress.details(position));
        }
      }
    }
    return position;
  } finally {
    // The caller closes the handle: no read may still be running then.
    if (reading) await reading.catch(() => undefined);
  }
}
