/**
 * A large copy hashes on a thread of its own (activities/copy/chunk-hasher.ts); these run the backup
 * copy and the restore's write with the thread for every size (hashThreadMinBytes 0): the bytes and
 * the SHA-256 are right, a resumed copy's prefix is hashed by the thread, and no thread is left
 * running after a copy that finished, failed or was cancelled.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import type { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { openChunkHasher, runningHashThreads } from '../../activities/copy/chunk-hasher';
import { copyDiskToRepository, type CopyDiskInput, type CopyDiskResult, type CopySettings } from '../../activities/copy/copy-disk';
import { writeImageToDevice, type WriteImageInput, type WriteImageResult } from '../../activities/copy/write-image';

const DISK_ID = 'cccccccc-0002-4c8e-9a10-00000000c0de';
const CHUNK = 64 * 1024;

async function setup(size: number) {
  const dir = await mkdtemp(join(tmpdir(), 'copy-thread-'));
  const byId = join(dir, 'by-id');
  await mkdir(byId);
  const device = randomBytes(size);
  await writeFile(join(dir, 'device.img'), device);
  await symlink(join(dir, 'device.img'), join(byId, `scsi-0QEMU_QEMU_HARDDISK_${DISK_ID}`));
  const settings: CopySettings = { repositoryRoot: join(dir, 'repo'), deviceByIdDir: byId, chunkBytes: CHUNK, maxBytesPerSecond: 0, hashThreadMinBytes: 0 };
  const input: CopyDiskInput = { diskId: DISK_ID, expectedBytes: size, dir: 'vm/run', fileName: 'disk.raw' };
  const image = join(dir, 'repo', 'vm', 'run', 'disk.raw');
  return { dir, byId, device, settings, input, image, sha256: createHash('sha256').update(device).digest('hex') };
}

function run(env: MockActivityEnvironment, settings: CopySettings, input: CopyDiskInput): Promise<CopyDiskResult> {
  return env.run((s: CopySettings, i: CopyDiskInput) => copyDiskToRepository(s, i), settings, input);
}

for (const size of [0, 1, CHUNK - 1, 2 * CHUNK + 1, 7 * CHUNK + 12_345]) {
  test(`hashed on its thread, a ${size}-byte device is copied byte for byte with its SHA-256, and the thread ends with the copy`, async () => {
    const s = await setup(size);
    try {
      const result = await run(new MockActivityEnvironment({ attempt: 1 }), s.settings, s.input);
      assert.equal(result.sha256, s.sha256);
      assert.ok((await readFile(s.image)).equals(s.device));
      assert.equal(runningHashThreads(), 0);
    } finally {
      await rm(s.dir, { recursive: true, force: true });
    }
  });
}

test('hashed on its thread, a resumed copy re-hashes the prefix it keeps: the SHA-256 is the whole device', async () => {
  const size = 9 * CHUNK + 777;
  const s = await setup(size);
  try {
    await mkdir(join(s.settings.repositoryRoot, 'vm', 'run'), { recursive: true });
    await writeFile(`${s.image}.part`, s.device.subarray(0, 5 * CHUNK + 10));
    const result = await run(new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { offset: 4 * CHUNK + 3 } }), s.settings, s.input);
    assert.equal(result.resumedFromOffset, 4 * CHUNK);
    assert.equal(result.sha256, s.sha256);
    assert.ok((await readFile(s.image)).equals(s.device));
    assert.equal(runningHashThreads(), 0);
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('a copy cancelled mid-way stops, leaves no part file and no hash thread behind', async () => {
  const size = 40 * CHUNK;
  const s = await setup(size);
  try {
    const settings: CopySettings = { ...s.settings, maxBytesPerSecond: size / 0.6, checkpointMs: 50 };
    const env = new MockActivityEnvironment({ attempt: 1 });
    let offsets = 0;
    env.on('heartbeat', (d: { offset: number }) => {
      if (d.offset > 0 && offsets++ === 0) env.cancel();
    });
    await assert.rejects(run(env, settings, s.input), (err) => err instanceof CancelledFailure);
    assert.ok(offsets > 0, 'cancelled after a checkpoint');
    await assert.rejects(stat(`${s.image}.part`), 'no part file');
    assert.equal(runningHashThreads(), 0);
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('a copy whose device cannot be read fails with the read error and leaves no hash thread behind', async () => {
  const s = await setup(CHUNK);
  try {
    // A directory where the device should be: it opens, and its first read fails.
    const notADevice = join(s.dir, 'not-a-device');
    await mkdir(notADevice);
    await rm(join(s.byId, `scsi-0QEMU_QEMU_HARDDISK_${DISK_ID}`));
    await symlink(notADevice, join(s.byId, `scsi-0QEMU_QEMU_HARDDISK_${DISK_ID}`));
    await assert.rejects(run(new MockActivityEnvironment({ attempt: 1 }), s.settings, s.input), /EISDIR/);
    assert.equal(runningHashThreads(), 0);
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test("hashed on its thread, a restore's write puts the image on the device, a resumed one re-hashes its prefix, and no thread is left", async () => {
  const size = 6 * CHUNK + 99;
  const s = await setup(size);
  try {
    await run(new MockActivityEnvironment({ attempt: 1 }), s.settings, s.input);
    await writeFile(join(s.dir, 'device.img'), Buffer.alloc(size));
    const input: WriteImageInput = { diskId: DISK_ID, dir: 'vm/run', fileName: 'disk.raw', expectedBytes: size, expectedSha256: s.sha256 };
    const write = (env: MockActivityEnvironment): Promise<WriteImageResult> => env.run((st: CopySettings, i: WriteImageInput) => writeImageToDevice(st, i), s.settings, input);
    const first = await write(new MockActivityEnvironment({ attempt: 1 }));
    assert.equal(first.sha256, s.sha256);
    assert.ok((await readFile(join(s.dir, 'device.img'))).equals(s.device));
    const resumed = await write(new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { offset: 3 * CHUNK } }));
    assert.equal(resumed.resumedFromOffset, 3 * CHUNK);
    assert.equal(resumed.sha256, s.sha256);
    assert.equal(runningHashThreads(), 0);
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

function fakeContext(signal: AbortSignal, heartbeat: (details: unknown) => void): Context {
  return { cancellationSignal: signal, heartbeat } as unknown as Context;
}

test("a resumed copy's prefix hashed on the thread heartbeats meanwhile, and a cancel ends the thread at once", async () => {
  const hasher = openChunkHasher(1024 * 1024, true);
  const controller = new AbortController();
  const beats: unknown[] = [];
  const ctx = fakeContext(controller.signal, (details) => {
    beats.push(details);
    if (beats.length === 2) controller.abort();
  });
  // An endless prefix: only the cancel can end this read.
  const zero = await open('/dev/zero', 'r');
  try {
    await assert.rejects(hasher.hashPrefix(zero, 2 ** 50, { ctx, details: () => ({ offset: 7 }), everyMs: 20 }), (err) => err instanceof CancelledFailure);
    assert.deepEqual(beats, [{ offset: 7 }, { offset: 7 }]);
    assert.equal(runningHashThreads(), 0);
  } finally {
    await hasher.close();
    await zero.close();
  }
});

test("a read error in the thread's prefix is the copy's error, and closing the hasher ends the thread", async () => {
  const hasher = openChunkHasher(64 * 1024, true);
  // A directory opens, and its first read fails.
  const directory = await open(tmpdir(), 'r');
  try {
    await assert.rejects(hasher.hashPrefix(directory, 1024, { ctx: fakeContext(new AbortController().signal, () => undefined), details: () => ({}) }), /hash thread: EISDIR/);
  } finally {
    await hasher.close();
    await directory.close();
  }
  assert.equal(runningHashThreads(), 0);
});
