/**
 * The one copy loop (activities/copy/copy-loop.ts) under its other sources and sinks: an image
 * transfer's ranges read through transferSource (file offsets mapped to disk ranges, zeros between a
 * full's pieces neither fetched nor written, a resumed copy fetching only from its offset and
 * re-hashing what it keeps), and a stream into a child's stdin (stdinSink, the restic stream) with
 * the hash thread's shared buffers, a child that exits early failing the copy instead of hanging,
 * and copyDiskToRestic through it against a real restic.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { openChunkHasher, runningHashThreads } from '../../activities/copy/chunk-hasher';
import { commitPartFile, copyToPartFile, type CopyDiskResult, type CopySettings, type PartFileCopy } from '../../activities/copy/copy-disk';
import { streamLoop } from '../../activities/copy/copy-loop';
import { transferSource, type Piece } from '../../activities/copy/incremental-chain';
import { copyDiskToRestic, stdinSink } from '../../activities/copy/restic/restic-backup';
import { startRestic, type ResticExit } from '../../activities/copy/restic/restic-cli';
import { resticForTests, tempResticRepository } from '../helpers/restic';
import { fakeImageio } from '../helpers/fake-imageio';

const KiB = 1024;
const CHUNK = 64 * KiB;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const fakeContext = { cancellationSignal: new AbortController().signal, heartbeat: () => undefined } as unknown as Context;

async function tempRepo() {
  const dir = await mkdtemp(join(tmpdir(), 'one-loop-'));
  await mkdir(join(dir, 'repo'), { recursive: true });
  const settings: CopySettings = { repositoryRoot: join(dir, 'repo'), deviceByIdDir: dir, chunkBytes: CHUNK, maxBytesPerSecond: 0 };
  return { dir, settings, finalPath: join(dir, 'repo', 'disk.raw') };
}

function copyIn(env: MockActivityEnvironment, settings: CopySettings, source: ReturnType<typeof transferSource>, finalPath: string, size: number): Promise<PartFileCopy> {
  return env.run(() => copyToPartFile(Context.current(), settings, source, finalPath, size, { sparse: true }));
}

test("transferSource: an incremental's file is its ranges one after the other, each fetched once at its disk offset; a read fills a whole chunk across ranges", async () => {
  const disk = randomBytes(1024 * KiB);
  const imageio = fakeImageio(disk);
  const pieces: Piece[] = [
    { start: 100 * KiB, length: 40 * KiB, out: 0 },
    { start: 300 * KiB, length: 50 * KiB, out: 40 * KiB },
    { start: 900 * KiB + 7, length: 33, out: 90 * KiB },
  ];
  const size = 90 * KiB + 33;
  const source = transferSource(imageio, pieces, size);
  const buffer = Buffer.alloc(CHUNK);
  const first = await source.read(buffer, 0, CHUNK, 0);
  assert.deepEqual(first, { bytesRead: CHUNK });
  assert.ok(buffer.equals(Buffer.concat([disk.subarray(100 * KiB, 140 * KiB), disk.subarray(300 * KiB, 324 * KiB)])));
  const second = await source.read(buffer, 0, CHUNK, CHUNK);
  assert.equal(second.bytesRead, size - CHUNK);
  assert.ok(buffer.subarray(0, second.bytesRead).equals(Buffer.concat([disk.subarray(324 * KiB, 350 * KiB), disk.subarray(900 * KiB + 7, 900 * KiB + 40)])));
  assert.deepEqual(await source.read(buffer, 0, CHUNK, size), { bytesRead: 0 });
  assert.deepEqual(imageio.fetched, [
    [100 * KiB, 40 * KiB],
    [300 * KiB, 24 * KiB],
    [324 * KiB, 26 * KiB],
    [900 * KiB + 7, 33],
  ]);
  assert.equal(source.fetched, size);
});

test("transferSource: a full's zeros between pieces are holes, read as zeros and never fetched; a read stops where a hole starts or ends", async () => {
  const disk = randomBytes(512 * KiB);
  const imageio = fakeImageio(disk);
  const pieces: Piece[] = [
    { start: 64 * KiB, length: 16 * KiB, out: 64 * KiB },
    { start: 200 * KiB, length: 100 * KiB, out: 200 * KiB },
  ];
  const source = transferSource(imageio, pieces, disk.length);
  const buffer = Buffer.alloc(CHUNK, 0xff);
  assert.deepEqual(await source.read(buffer, 0, CHUNK, 0), { bytesRead: 64 * KiB, hole: true });
  assert.ok(buffer.equals(Buffer.alloc(CHUNK)), 'a hole reads as zeros');
  assert.deepEqual(await source.read(buffer, 0, CHUNK, 64 * KiB), { bytesRead: 16 * KiB });
  assert.deepEqual(await source.read(buffer, 0, CHUNK, 80 * KiB), { bytesRead: CHUNK, hole: true });
  assert.deepEqual(await source.read(buffer, 0, CHUNK, 144 * KiB), { bytesRead: 56 * KiB, hole: true });
  assert.deepEqual(await source.read(buffer, 0, CHUNK, 290 * KiB), { bytesRead: 10 * KiB });
  assert.deepEqual(await source.read(buffer, 0, CHUNK, 300 * KiB), { bytesRead: CHUNK, hole: true });
  assert.deepEqual(imageio.fetched, [
    [64 * KiB, 16 * KiB],
    [290 * KiB, 10 * KiB],
  ]);
  assert.equal(source.fetched, 26 * KiB);
});

test("a full through the copy loop: the stored file is the disk's data at its offsets, sparse where it is zero; only the data is fetched; the SHA-256 is the whole disk's", async () => {
  const size = 4 * 1024 * KiB;
  const disk = Buffer.alloc(size);
  const pieces: Piece[] = [
    { start: 0, length: 128 * KiB, out: 0 },
    { start: 1024 * KiB + 4 * KiB, length: 200 * KiB + 5, out: 1024 * KiB + 4 * KiB },
    { start: 3 * 1024 * KiB, length: 64 * KiB, out: 3 * 1024 * KiB },
  ];
  for (const p of pieces) randomBytes(p.length).copy(disk, p.start);
  const r = await tempRepo();
  try {
    const source = transferSource(fakeImageio(disk), pieces, size);
    // On the hash thread with direct writes where the file system takes them: the copy as a large disk's.
    const copied = await copyIn(new MockActivityEnvironment({ attempt: 1 }), { ...r.settings, hashThreadMinBytes: 0 }, source, r.finalPath, size);
    await commitPartFile(r.finalPath);
    assert.equal(copied.offset, size);
    assert.equal(copied.sha256, sha(disk));
    assert.equal(source.fetched, 128 * KiB + 200 * KiB + 5 + 64 * KiB, 'only the data ranges are fetched');
    assert.ok((await readFile(r.finalPath)).equals(disk));
    // 3.6 MiB of zeros were not written: the file holds little more than its data.
    const { blocks } = await stat(r.finalPath);
    assert.ok(blocks * 512 < 1024 * KiB, `the image is sparse: ${blocks * 512} bytes allocated`);
    assert.equal(runningHashThreads(), 0);
  } finally {
    await rm(r.dir, { recursive: true, force: true });
  }
});

test('a resumed transfer copy fetches only from its chunk-aligned offset on, keeps and re-hashes the prefix, and zeroes what the killed attempt left past it', async () => {
  const size = 10 * CHUNK + 123;
  const disk = randomBytes(size);
  const pieces: Piece[] = [{ start: 0, length: size, out: 0 }];
  const r = await tempRepo();
  try {
    // What a killed attempt leaves: the prefix right, garbage after it, a heartbeat a little past a chunk boundary.
    await writeFile(`${r.finalPath}.part`, Buffer.concat([disk.subarray(0, 6 * CHUNK), randomBytes(2 * CHUNK)]));
    const imageio = fakeImageio(disk);
    const source = transferSource(imageio, pieces, size);
    const copied = await copyIn(new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { offset: 4 * CHUNK + 5 } }), r.settings, source, r.finalPath, size);
    assert.equal(copied.resumedFromOffset, 4 * CHUNK);
    assert.equal(source.fetched, size - 4 * CHUNK);
    assert.ok(imageio.fetched.every(([start]) => start >= 4 * CHUNK));
    assert.equal(copied.sha256, sha(disk));
    assert.ok((await readFile(`${r.finalPath}.part`)).equals(disk));
  } finally {
    await rm(r.dir, { recursive: true, force: true });
  }
});

test('a resumed sparse copy: a hole past the offset reads as zeros even where the killed attempt wrote something', async () => {
  const size = 8 * CHUNK;
  const disk = Buffer.alloc(size);
  randomBytes(2 * CHUNK).copy(disk, 0);
  randomBytes(CHUNK).copy(disk, 6 * CHUNK);
  const pieces: Piece[] = [
    { start: 0, length: 2 * CHUNK, out: 0 },
    { start: 6 * CHUNK, length: CHUNK, out: 6 * CHUNK },
  ];
  const r = await tempRepo();
  try {
    await writeFile(`${r.finalPath}.part`, Buffer.concat([disk.subarray(0, 2 * CHUNK), randomBytes(size - 2 * CHUNK)]));
    const source = transferSource(fakeImageio(disk), pieces, size);
    const copied = await copyIn(new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { offset: 2 * CHUNK } }), r.settings, source, r.finalPath, size);
    assert.equal(copied.sha256, sha(disk));
    assert.equal(source.fetched, CHUNK);
    assert.ok((await readFile(`${r.finalPath}.part`)).equals(disk));
  } finally {
    await rm(r.dir, { recursive: true, force: true });
  }
});

test('a cancelled transfer copy leaves no part file', async () => {
  const size = 6 * CHUNK;
  const disk = randomBytes(size);
  const r = await tempRepo();
  try {
    const env = new MockActivityEnvironment({ attempt: 1 });
    const slow = {
      async read(start: number, length: number): Promise<Buffer> {
        if (start >= 2 * CHUNK) env.cancel();
        return Buffer.from(disk.subarray(start, start + length));
      },
    };
    const source = transferSource(slow, [{ start: 0, length: size, out: 0 }], size);
    await assert.rejects(copyIn(env, r.settings, source, r.finalPath, size), CancelledFailure);
    await assert.rejects(stat(`${r.finalPath}.part`), 'no part file is left');
  } finally {
    await rm(r.dir, { recursive: true, force: true });
  }
});

/** A child that copies its stdin into `path` (what restic backup --stdin reads), with its exit. */
function catInto(path: string, script = `cat > '${path}'`) {
  const child = spawn('sh', ['-c', script], { stdio: ['pipe', 'ignore', 'pipe'] });
  child.stdin.on('error', () => undefined);
  const exited = new Promise<ResticExit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr: '' })));
  return { child, exited };
}

test('the restic stream through the loop: a device read into the hash thread shared buffers reaches the child stdin byte for byte, hashed once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'one-loop-'));
  const data = randomBytes(9 * CHUNK + 4321);
  await writeFile(join(dir, 'device.img'), data);
  const { child, exited } = catInto(join(dir, 'out'));
  const hasher = openChunkHasher(CHUNK, true);
  const device = await open(join(dir, 'device.img'), 'r');
  const beats: unknown[] = [];
  const ctx = { ...fakeContext, heartbeat: (d: unknown) => beats.push(d) } as unknown as Context;
  try {
    const sink = stdinSink(child.stdin, exited, (exit) => new Error(`exit ${exit.code}`));
    // checkpointMs 0: a heartbeat with every chunk, carrying the offset handed on.
    const result = await streamLoop(ctx, { maxBytesPerSecond: 0, checkpointMs: 0, details: (offset) => ({ bytesRead: offset }) }, device, 0, hasher, sink);
    child.stdin.end();
    assert.equal((await exited).code, 0);
    assert.equal(result.offset, data.length);
    assert.equal(await hasher.digest(), sha(data));
    assert.ok((await readFile(join(dir, 'out'))).equals(data));
    assert.ok(beats.length > 0 && beats.every((b) => (b as { bytesRead: number }).bytesRead <= data.length));
  } finally {
    await hasher.close();
    await device.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the restic stream: a child that exits before its input ends fails the copy with its exit, instead of waiting for a pipe no one reads', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'one-loop-'));
  const data = randomBytes(64 * CHUNK);
  await writeFile(join(dir, 'device.img'), data);
  const { child, exited } = catInto('', 'head -c 1000 > /dev/null; exit 3');
  const hasher = openChunkHasher(CHUNK, false);
  const device = await open(join(dir, 'device.img'), 'r');
  try {
    const sink = stdinSink(child.stdin, exited, (exit) => new Error(`restic exited with ${exit.code}`));
    await assert.rejects(streamLoop(fakeContext, { maxBytesPerSecond: 0 }, device, 0, hasher, sink), /restic exited with 3/);
  } finally {
    await hasher.close();
    await device.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the restic stream: a cancel while restic reads nothing ends restic and the copy, with no snapshot (its input never ended)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'one-loop-'));
  const DISK = 'aaaaaaaa-0010-4c8e-9a10-00000000d010';
  try {
    await mkdir(join(dir, 'by-id'));
    await writeFile(join(dir, 'by-id', `virtio-${DISK.slice(0, 20)}`), randomBytes(64 * CHUNK));
    // A restic that never reads its stdin: the pipe fills and the loop waits on the write.
    const fake = join(dir, 'restic');
    await writeFile(fake, '#!/bin/sh\nexec sleep 60\n', { mode: 0o755 });
    const restic = { repository: join(dir, 'repo'), password: 'x', binary: fake };
    const settings: CopySettings = { repositoryRoot: join(dir, 'unused'), deviceByIdDir: join(dir, 'by-id'), chunkBytes: CHUNK, maxBytesPerSecond: 0, restic };
    const env = new MockActivityEnvironment({ attempt: 1 });
    const copying = env.run(() => copyDiskToRestic(settings, restic, { diskId: DISK, expectedBytes: 64 * CHUNK, dir: 'vm/run', fileName: 'disk.raw' }));
    setTimeout(() => env.cancel(), 300);
    await assert.rejects(copying, CancelledFailure);
    assert.equal(runningHashThreads(), 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const binary = resticForTests();
describe.skipIf(!binary)('copyDiskToRestic through the loop', { timeout: 120_000 }, () => {
  const DISK = 'aaaaaaaa-0009-4c8e-9a10-00000000d009';
  let base: string;
  let repo: Awaited<ReturnType<typeof tempResticRepository>>;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'one-loop-restic-'));
    repo = await tempResticRepository(binary!);
  });
  afterAll(async () => {
    await repo?.remove();
    await rm(base, { recursive: true, force: true });
  });

  test('hashed on its thread, a disk streamed into restic is stored byte for byte with the SHA-256 of the device', async () => {
    const image = Buffer.concat([randomBytes(300 * KiB), Buffer.alloc(200 * KiB), randomBytes(777)]);
    await mkdir(join(base, 'by-id'), { recursive: true });
    await writeFile(join(base, 'by-id', `virtio-${DISK.slice(0, 20)}`), image);
    const settings: CopySettings = { repositoryRoot: join(base, 'unused'), deviceByIdDir: join(base, 'by-id'), chunkBytes: CHUNK, maxBytesPerSecond: 0, hashThreadMinBytes: 0, restic: repo.settings };
    const copy = (await new MockActivityEnvironment({ attempt: 1 }).run(() =>
      copyDiskToRestic(settings, repo.settings, { diskId: DISK, expectedBytes: image.length, dir: 'vm/run', fileName: 'disk.raw' }),
    )) as CopyDiskResult;
    assert.equal(copy.bytes, image.length);
    assert.equal(copy.sha256, sha(image));
    assert.equal(runningHashThreads(), 0);
    const { child, exited } = startRestic(repo.settings, ['dump', copy.resticSnapshotId!, copy.path.split(':').slice(2).join(':')]);
    const stored: Buffer[] = [];
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) stored.push(chunk);
    assert.equal((await exited).code, 0);
    assert.ok(Buffer.concat(stored).equals(image), 'restic holds the device byte for byte');
  });
});
