/**
 * The sources that put restic chains and chain restores on the one copy loop: SequentialSource (a
 * stream read in order as a ReadAt: `restic dump`'s output), overlaySource (a chain point's disk:
 * the parent's image read in order with the dirty ranges fetched from imageio over it, zeros for a
 * full's base), and writeInPlace (the one write path of a restore or a composed chain image) resumed
 * by a rerun of a killed attempt over a stream that cannot seek.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { openChunkHasher, runningHashThreads } from '../../activities/copy/chunk-hasher';
import { writeInPlace, type CopySettings } from '../../activities/copy/copy-disk';
import { HASH_ONLY, SequentialSource, streamLoop } from '../../activities/copy/copy-loop';
import { checkOverlays, overlaySource, type Overlay } from '../../activities/copy/restic/restic-incremental';
import { fakeImageio } from '../helpers/fake-imageio';

const KiB = 1024;
const CHUNK = 64 * KiB;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
type Written = Awaited<ReturnType<typeof writeInPlace>>;
const fakeContext = { cancellationSignal: new AbortController().signal, heartbeat: () => undefined } as unknown as Context;

/** A stream of `data` in pieces of uneven sizes (as a pipe delivers them). */
function piecesOf(data: Buffer, sizes = [1000, 70_000, 3, 65_536, 12_345]): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, data.length - at);
    pieces.push(data.subarray(at, at + n));
    at += n;
  }
  return Readable.from(pieces);
}

/** Reads `source` to its end through the loop (on the hash thread), nothing written: its bytes' SHA-256 and count. */
async function hashThrough(source: SequentialSource | ReturnType<typeof overlaySource>, size: number): Promise<{ sha256: string; bytes: number }> {
  const hasher = openChunkHasher(CHUNK, true);
  try {
    const { offset } = await streamLoop(fakeContext, { maxBytesPerSecond: 0 }, source, 0, hasher, HASH_ONLY);
    assert.equal(offset, size);
    return { sha256: await hasher.digest(), bytes: offset };
  } finally {
    await hasher.close();
  }
}

test('SequentialSource: reads fill whole buffers across the pieces of a stream, skip forward, never go back, and its end runs `ended` once', async () => {
  const data = randomBytes(300 * KiB);
  let ends = 0;
  const source = new SequentialSource(piecesOf(data), async () => void ends++);
  const buffer = Buffer.alloc(CHUNK);
  assert.deepEqual(await source.read(buffer, 0, CHUNK, 0), { bytesRead: CHUNK });
  assert.ok(buffer.equals(data.subarray(0, CHUNK)), 'the first chunk, whole, from several pieces');
  // A jump forward drops what lies between (a resumed write, a range an overlay replaces).
  assert.deepEqual(await source.read(buffer, 0, 1000, 200 * KiB), { bytesRead: 1000 });
  assert.ok(buffer.subarray(0, 1000).equals(data.subarray(200 * KiB, 200 * KiB + 1000)));
  await assert.rejects(source.read(buffer, 0, 10, 0), /cannot be read backwards/);
  assert.deepEqual(await source.read(buffer, 0, CHUNK, 200 * KiB + 1000), { bytesRead: CHUNK });
  const last = await source.read(buffer, 0, CHUNK, 200 * KiB + 1000 + CHUNK);
  assert.equal(last.bytesRead, 100 * KiB - 1000 - CHUNK, 'the last read stops at the stream’s end');
  assert.deepEqual(await source.read(buffer, 0, CHUNK, 300 * KiB), { bytesRead: 0 });
  assert.deepEqual(await source.read(buffer, 0, CHUNK, 300 * KiB), { bytesRead: 0 });
  assert.equal(ends, 1, '`ended` ran once');

  // A producer that failed (restic dump's exit status): its failure is the read's at the end, not a short copy.
  const failing = new SequentialSource(piecesOf(data.subarray(0, 10 * KiB)), async () => {
    throw new Error('restic dump failed (exit 1): snapshot not found');
  });
  await assert.rejects(hashThrough(failing, 10 * KiB), /snapshot not found/);
});

test("overlaySource: the parent's image in order with the dirty ranges over it, fetched from imageio once each (bytes fetched = bytes rewritten), zero ranges as zeros; hashed on the hash thread", async () => {
  const size = 1024 * KiB;
  const parent = randomBytes(size);
  const now = randomBytes(size);
  const overlays: Overlay[] = checkOverlays(
    [
      { start: 500 * KiB, length: 64 * KiB, zero: false },
      { start: 0, length: 10 * KiB, zero: false },
      // Straddles two chunks of the loop: fetched in two reads, each byte once.
      { start: 60 * KiB, length: 100 * KiB, zero: false },
      { start: 300 * KiB, length: 20 * KiB, zero: true },
      { start: size - 3 * KiB, length: 3 * KiB, zero: false },
    ],
    size,
    'disk-1',
  );
  const expected = Buffer.from(parent);
  for (const o of overlays) (o.zero ? Buffer.alloc(o.length) : now.subarray(o.start, o.start + o.length)).copy(expected, o.start);
  const imageio = fakeImageio(now);
  const threadsBefore = runningHashThreads();
  const source = overlaySource(imageio, overlays, size, new SequentialSource(piecesOf(parent)), 'the parent');
  const { sha256 } = await hashThrough(source, size);
  await source.ended();
  assert.equal(sha256, sha(expected), 'the disk at this point');
  const dataBytes = overlays.filter((o) => !o.zero).reduce((n, o) => n + o.length, 0);
  assert.equal(source.fetched, dataBytes, 'imageio gave exactly the rewritten data ranges');
  assert.equal(
    imageio.fetched.reduce((n, [, l]) => n + l, 0),
    dataBytes,
  );
  assert.equal(runningHashThreads(), threadsBefore, 'the hash thread ended');

  // A full: the data ranges with zeros between, no parent.
  const full = overlaySource(fakeImageio(now), [{ start: 100 * KiB, length: 200 * KiB, zero: false }], size, undefined, 'none');
  const whole = Buffer.alloc(size);
  now.copy(whole, 100 * KiB, 100 * KiB, 300 * KiB);
  assert.equal((await hashThrough(full, size)).sha256, sha(whole));
});

test('overlaySource: a parent image shorter or longer than the disk, and overlapping or out-of-range extents, fail the copy with what is wrong', async () => {
  const size = 256 * KiB;
  const now = randomBytes(size);
  const short = overlaySource(fakeImageio(now), [], size, new SequentialSource(piecesOf(randomBytes(size - 1))), 'the image of disk d at p1');
  await assert.rejects(hashThrough(short, size), /the image of disk d at p1 ended before 262144 bytes/);
  const long = overlaySource(fakeImageio(now), [], size, new SequentialSource(piecesOf(randomBytes(size + 1))), 'the image of disk d at p1');
  await hashThrough(long, size);
  await assert.rejects(long.ended(), /is longer than 262144 bytes/);
  assert.throws(
    () =>
      checkOverlays(
        [
          { start: 0, length: 10, zero: false },
          { start: 5, length: 10, zero: false },
        ],
        size,
        'd',
      ),
    /overlapping extents at 5/,
  );
  assert.throws(() => checkOverlays([{ start: size - 1, length: 2, zero: false }], size, 'd'), /past the end of disk d/);
});

test('writeInPlace: a rerun of a killed attempt resumes at its heartbeated offset over a stream (the bytes before dropped), re-hashes the kept prefix, and the target is the whole image', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'write-in-place-'));
  try {
    const size = 1024 * KiB;
    const image = randomBytes(size);
    const targetPath = join(dir, 'target.img');
    // What the killed attempt durably wrote up to its heartbeated offset, and garbage after it (a torn write).
    const kept = 5 * CHUNK + 100;
    const before = randomBytes(size);
    image.copy(before, 0, 0, kept);
    await writeFile(targetPath, before);
    const settings: CopySettings = { repositoryRoot: dir, deviceByIdDir: dir, chunkBytes: CHUNK, maxBytesPerSecond: 0, hashThreadMinBytes: 0 };
    const source = new SequentialSource(piecesOf(image));
    const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { offset: kept } });
    const result = (await env.run(() => writeInPlace(Context.current(), settings, source, size, targetPath))) as Written;
    assert.equal(result.resumedFromOffset, 5 * CHUNK, 'resumed at the heartbeated offset, rounded down to a chunk');
    assert.equal(result.bytes, size);
    assert.equal(result.sha256, sha(image), 'the whole image’s SHA-256: the prefix re-hashed from the target');
    assert.ok((await readFile(targetPath)).equals(image), 'the target is the image');

    // A first attempt makes a file that is not there.
    const fresh = join(dir, 'fresh.img');
    const first = (await new MockActivityEnvironment().run(() => writeInPlace(Context.current(), settings, new SequentialSource(piecesOf(image)), size, fresh))) as Written;
    assert.equal(first.resumedFromOffset, 0);
    assert.ok((await readFile(fresh)).equals(image));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
