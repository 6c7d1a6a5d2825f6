/**
 * A large copy writes its target with O_DIRECT (activities/copy/direct-write.ts): the image is
 * byte for byte the device, its unaligned tail written through the page cache, a resumed copy keeps
 * its prefix, and a target that refuses a direct write gets every chunk through the page cache.
 * Needs a temporary directory on a file system with O_DIRECT (ext4, xfs, tmpfs ≥ 6.6); elsewhere
 * the copies are still checked, through the page cache.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { openChunkHasher } from '../../activities/copy/chunk-hasher';
import { copyDiskToRepository, openCopyBuffers, type CopyDiskInput, type CopyDiskResult, type CopySettings } from '../../activities/copy/copy-disk';
import { copySettingsFromEnv } from '../../activities/copy/activities';
import { copyLoop } from '../../activities/copy/copy-loop';
import { copyMemory, DIRECT_ALIGN } from '../../activities/copy/direct-write';

const DISK_ID = 'dddddddd-0003-4c8e-9a10-00000000d1ec';
const CHUNK = 64 * 1024;

async function setup(size: number, overrides: Partial<CopySettings> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'copy-direct-'));
  const byId = join(dir, 'by-id');
  await mkdir(byId);
  const device = randomBytes(size);
  await writeFile(join(dir, 'device.img'), device);
  await symlink(join(dir, 'device.img'), join(byId, `scsi-0QEMU_QEMU_HARDDISK_${DISK_ID}`));
  const settings: CopySettings = { repositoryRoot: join(dir, 'repo'), deviceByIdDir: byId, chunkBytes: CHUNK, maxBytesPerSecond: 0, hashThreadMinBytes: 0, ...overrides };
  const input: CopyDiskInput = { diskId: DISK_ID, expectedBytes: size, dir: 'vm/run', fileName: 'disk.raw' };
  const image = join(dir, 'repo', 'vm', 'run', 'disk.raw');
  return { dir, device, settings, input, image, sha256: createHash('sha256').update(device).digest('hex') };
}

function run(env: MockActivityEnvironment, settings: CopySettings, input: CopyDiskInput): Promise<CopyDiskResult> {
  return env.run((s: CopySettings, i: CopyDiskInput) => copyDiskToRepository(s, i), settings, input);
}

const fakeContext = { cancellationSignal: new AbortController().signal, heartbeat: () => undefined } as unknown as Context;

test('a large copy opens its target for direct writes with buffers they accept; a small one, or one with COPY_DIRECT_WRITES off, does not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'copy-direct-'));
  const target = join(dir, 'target');
  try {
    await writeFile(target, '');
    const settings: CopySettings = { repositoryRoot: dir, deviceByIdDir: dir, chunkBytes: CHUNK, maxBytesPerSecond: 0 };
    const large = await openCopyBuffers(settings, 1024 * 1024 * 1024, 0, target);
    try {
      if (!large.direct) return console.warn(`${tmpdir()} refuses O_DIRECT: only the fallback is checked here`);
      // Both buffers accept a direct write at an aligned offset (the probe found their alignment).
      for (const [i, buffer] of large.hasher.buffers.entries()) await large.direct.write(buffer, 0, DIRECT_ALIGN, i * CHUNK);
    } finally {
      await large.hasher.close();
      await large.direct?.close();
    }
    const small = await openCopyBuffers(settings, 4 * 1024 * 1024, 0, target);
    await small.hasher.close();
    assert.equal(small.direct, undefined, 'a copy below hashThreadMinBytes writes through the page cache');
    const off = await openCopyBuffers({ ...settings, directWrites: false }, 1024 * 1024 * 1024, 0, target);
    await off.hasher.close();
    assert.equal(off.direct, undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

for (const size of [DIRECT_ALIGN, 5 * CHUNK, 5 * CHUNK + 3 * DIRECT_ALIGN + 123]) {
  test(`written directly, a ${size}-byte device is copied byte for byte with its SHA-256 (an unaligned tail through the page cache)`, async () => {
    const s = await setup(size);
    try {
      const result = await run(new MockActivityEnvironment({ attempt: 1 }), s.settings, s.input);
      assert.equal(result.sha256, s.sha256);
      assert.ok((await readFile(s.image)).equals(s.device));
      // What went past the page cache: every chunk but an unaligned last one (nothing where the file system refuses O_DIRECT).
      const tail = size % CHUNK;
      if (result.bytesWrittenDirect) assert.equal(result.bytesWrittenDirect, tail % DIRECT_ALIGN === 0 ? size : size - tail);
    } finally {
      await rm(s.dir, { recursive: true, force: true });
    }
  });
}

test('written directly, a resumed copy keeps its prefix, rewrites from the chunk it resumes at, and hashes the whole device', async () => {
  const size = 9 * CHUNK + 777;
  const s = await setup(size);
  try {
    await mkdir(join(s.settings.repositoryRoot, 'vm', 'run'), { recursive: true });
    // A part file as a killed attempt leaves it: its prefix right, garbage after the heartbeated offset.
    await writeFile(`${s.image}.part`, Buffer.concat([s.device.subarray(0, 4 * CHUNK), randomBytes(2 * CHUNK)]));
    const result = await run(new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { offset: 4 * CHUNK + 3 } }), s.settings, s.input);
    assert.equal(result.resumedFromOffset, 4 * CHUNK);
    assert.equal(result.bytesReadFromDevice, size - 4 * CHUNK);
    assert.equal(result.sha256, s.sha256);
    assert.ok((await readFile(s.image)).equals(s.device));
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('a target that refuses a direct write (misaligned buffers) gets it, and every later chunk, through the page cache', async () => {
  const s = await setup(6 * CHUNK + 5);
  const target = join(s.dir, 'out.img');
  const [source, out] = await Promise.all([open(join(s.dir, 'device.img'), 'r'), open(target, 'w')]);
  // One byte past the start of page-aligned or malloc-aligned memory: aligned for no device.
  const hasher = openChunkHasher(CHUNK, true, copyMemory(CHUNK), 1);
  const direct = await open(target, constants.O_WRONLY | constants.O_DIRECT).catch(() => undefined);
  try {
    const result = await copyLoop(fakeContext, s.settings, source, out, 0, hasher, direct);
    assert.equal(result.offset, s.device.length);
    assert.equal(await hasher.digest(), s.sha256);
    assert.ok((await readFile(target)).equals(s.device));
  } finally {
    await hasher.close();
    await Promise.all([source.close(), out.close(), direct?.close()]);
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('COPY_DIRECT_WRITES=false turns direct writes off; unset leaves the default (on); a bad value is refused', () => {
  assert.equal(copySettingsFromEnv({ COPY_DIRECT_WRITES: 'false' }).directWrites, false);
  assert.equal(copySettingsFromEnv({}).directWrites, undefined);
  assert.throws(() => copySettingsFromEnv({ COPY_DIRECT_WRITES: 'maybe' }));
});

test('COPY_HASH_THREAD_MIN_BYTES sets the size from which copies hash on a thread and write directly; a bad value is refused', () => {
  assert.equal(copySettingsFromEnv({ COPY_HASH_THREAD_MIN_BYTES: '0' }).hashThreadMinBytes, 0);
  assert.equal(copySettingsFromEnv({ COPY_HASH_THREAD_MIN_BYTES: '1048576' }).hashThreadMinBytes, 1024 * 1024);
  assert.equal(copySettingsFromEnv({}).hashThreadMinBytes, undefined);
  for (const bad of ['', '-1', '1.5', 'lots']) assert.throws(() => copySettingsFromEnv({ COPY_HASH_THREAD_MIN_BYTES: bad }), /COPY_HASH_THREAD_MIN_BYTES/);
});
