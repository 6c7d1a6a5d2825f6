/**
 * A large copy writes its target with O_DIRECT: from the copy's own buffers straight to the disk,
 * not through the page cache. Buffered, every byte was copied into a freshly allocated page-cache
 * page and later written back from there, and that copy (with the page allocation and the
 * file system's delayed-allocation bookkeeping) was the largest CPU cost of the copy, larger than
 * the SHA-256 (docs/benchmarks.md, (d) and #20). The durability rules stay the same: the copy
 * loop still fdatasyncs before it heartbeats an offset (the disk's write cache and the file's size
 * and extents need it), and the image is fsynced before it is renamed into place.
 *
 * O_DIRECT wants the file offset, the length and the buffer's address aligned (to the device's
 * logical block size and DMA alignment; a page satisfies every one Linux has). Offsets and lengths
 * are the loop's business (a tail that is not a multiple goes through the ordinary handle). The
 * address JavaScript cannot see: the buffers are placed in a slightly larger shared memory at the
 * first offset from which the target accepts a direct write, found by trying (a misaligned direct
 * write fails with EINVAL and writes nothing).
 */
import { constants, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** Direct writes start at offsets that are multiples of this, and are multiples of it long. */
export const DIRECT_ALIGN = 4096;
/** Where the probe looks for an aligned address: steps of the alignment every allocator gives. */
const PAD_STEP = 16;

export interface DirectTarget {
  /** The target opened a second time, for O_DIRECT writes. */
  handle: FileHandle;
  /** The copy's memory, and where in it an aligned buffer starts. */
  memory: SharedArrayBuffer;
  pad: number;
}

/** The memory of a copy's two buffers, with room to start them at an aligned address. */
export function copyMemory(bufferBytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * bufferBytes + DIRECT_ALIGN);
}

/**
 * Opens `path` for direct writes and finds the aligned place in `memory`, by writing one aligned
 * block at `position`: only call it where the copy writes that block anyway (it starts there and
 * has at least DIRECT_ALIGN bytes to copy), so what the probe wrote is overwritten before any offset
 * past it is heartbeated. Undefined when the file system or device refuses direct writes: then the
 * copy writes through the page cache as before.
 */
export async function openDirectTarget(path: string, memory: SharedArrayBuffer, position: number): Promise<DirectTarget | undefined> {
  if (position % DIRECT_ALIGN !== 0 || constants.O_DIRECT === undefined) return undefined;
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_DIRECT);
  } catch {
    return undefined;
  }
  for (let pad = 0; pad < DIRECT_ALIGN; pad += PAD_STEP) {
    try {
      // Synchronous: a misaligned try fails at once, and one block is written at the end.
      writeSync(handle.fd, new Uint8Array(memory, pad, DIRECT_ALIGN), 0, DIRECT_ALIGN, position);
      return { handle, memory, pad };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL') break;
    }
  }
  await handle.close();
  return undefined;
}

export function isAligned(...values: number[]): boolean {
  return values.every((v) => v % DIRECT_ALIGN === 0);
}
