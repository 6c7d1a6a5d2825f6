/**
 * The copy loop of copyDiskToRepository (activities/copy/copy-disk.ts), run in a mocked activity
 * context on files: the image equals the device byte for byte and its SHA-256 is the device's, for
 * sizes that are not a multiple of the chunk; a retried attempt resumes from a heartbeated offset
 * in the middle of a chunk; heartbeats only ever carry offsets that are in the part file; a cancel
 * leaves no part file behind.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { copyBufferBytes } from '../../activities/copy/copy-loop';
import { copyDiskToRepository, type CopyDiskInput, type CopyDiskResult, type CopySettings } from '../../activities/copy/copy-disk';

const DISK_ID = 'cccccccc-0001-4c8e-9a10-00000000c0de';
const CHUNK = 64 * 1024;

async function setup(size: number) {
  const dir = await mkdtemp(join(tmpdir(), 'copy-disk-'));
  const byId = join(dir, 'by-id');
  await mkdir(byId);
  const device = randomBytes(size);
  await writeFile(join(dir, 'device.img'), device);
  await symlink(join(dir, 'device.img'), join(byId, `scsi-0QEMU_QEMU_HARDDISK_${DISK_ID}`));
  const settings: CopySettings = { repositoryRoot: join(dir, 'repo'), deviceByIdDir: byId, chunkBytes: CHUNK, maxBytesPerSecond: 0 };
  const input: CopyDiskInput = { diskId: DISK_ID, expectedBytes: size, dir: 'vm/run', fileName: 'disk.raw' };
  const image = join(dir, 'repo', 'vm', 'run', 'disk.raw');
  return { dir, device, settings, input, image, sha256: createHash('sha256').update(device).digest('hex') };
}

function run(env: MockActivityEnvironment, settings: CopySettings, input: CopyDiskInput): Promise<CopyDiskResult> {
  return env.run((s: CopySettings, i: CopyDiskInput) => copyDiskToRepository(s, i), settings, input);
}

for (const size of [0, 1, CHUNK - 1, CHUNK, 2 * CHUNK + 1, 7 * CHUNK + 12_345]) {
  test(`a ${size}-byte device is copied byte for byte with its SHA-256 (chunk ${CHUNK})`, async () => {
    const s = await setup(size);
    try {
      const result = await run(new MockActivityEnvironment({ attempt: 1 }), s.settings, s.input);
      assert.equal(result.bytes, size);
      assert.equal(result.sha256, s.sha256);
      assert.equal(result.resumedFromOffset, 0);
      assert.equal(result.bytesReadFromDevice, size);
      assert.ok((await readFile(s.image)).equals(s.device), 'the image equals the device');
      await assert.rejects(stat(`${s.image}.part`), 'no part file is left');
    } finally {
      await rm(s.dir, { recursive: true, force: true });
    }
  });
}

test('a retry resumes from a heartbeated offset in the middle of a chunk: it re-reads from the chunk start, and the image is still exact', async () => {
  const size = 9 * CHUNK + 777;
  const s = await setup(size);
  try {
    const heartbeated = 3 * CHUNK + 1000;
    // What the crashed attempt left: the part file a little beyond its last heartbeat.
    await mkdir(join(s.settings.repositoryRoot, 'vm', 'run'), { recursive: true });
    await writeFile(`${s.image}.part`, s.device.subarray(0, heartbeated + 5000));
    const result = await run(new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { offset: heartbeated } }), s.settings, s.input);
    assert.equal(result.resumedFromOffset, 3 * CHUNK);
    assert.equal(result.bytesReadFromDevice, size - 3 * CHUNK);
    assert.equal(result.sha256, s.sha256);
    assert.ok((await readFile(s.image)).equals(s.device));
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('a heartbeated offset beyond the part file (a crash lost the tail) resumes from what the part file holds', async () => {
  const size = 6 * CHUNK + 5;
  const s = await setup(size);
  try {
    await mkdir(join(s.settings.repositoryRoot, 'vm', 'run'), { recursive: true });
    await writeFile(`${s.image}.part`, s.device.subarray(0, 2 * CHUNK + 10));
    const result = await run(new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { offset: 5 * CHUNK } }), s.settings, s.input);
    assert.equal(result.resumedFromOffset, 2 * CHUNK);
    assert.equal(result.sha256, s.sha256);
    assert.ok((await readFile(s.image)).equals(s.device));
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('heartbeats carry only offsets already written to the part file, growing, and a cancel removes the part file', async () => {
  const size = 40 * CHUNK;
  const s = await setup(size);
  try {
    // ~0.6 s for the whole device, a checkpoint every 50 ms.
    const settings: CopySettings = { ...s.settings, maxBytesPerSecond: size / 0.6, checkpointMs: 50 };
    const env = new MockActivityEnvironment({ attempt: 1 });
    const offsets: number[] = [];
    env.on('heartbeat', (d: { offset: number }) => {
      offsets.push(d.offset);
    });
    const first = await run(env, settings, s.input);
    assert.equal(first.sha256, s.sha256);
    assert.ok(offsets.length >= 2, `heartbeats during the copy: ${offsets.join(', ')}`);
    assert.ok(
      offsets.some((o) => o > 0 && o < size),
      `a heartbeat in the middle: ${offsets.join(', ')}`,
    );
    for (let i = 0; i < offsets.length; i++) {
      assert.ok(offsets[i]! <= size);
      if (i > 0) assert.ok(offsets[i]! >= offsets[i - 1]!, `offsets grow: ${offsets.join(', ')}`);
    }

    // The same copy again, cancelled after its first checkpoint.
    const input = { ...s.input, fileName: 'again.raw' };
    const partPath = join(s.settings.repositoryRoot, 'vm', 'run', 'again.raw.part');
    const env2 = new MockActivityEnvironment({ attempt: 1 });
    const seen: Array<{ offset: number; partBytes: number }> = [];
    env2.on('heartbeat', (d: { offset: number }) => {
      seen.push({ offset: d.offset, partBytes: -1 });
      void stat(partPath).then(
        (st) => (seen.at(-1)!.partBytes = st.size),
        () => undefined,
      );
      if (d.offset > 0) env2.cancel();
    });
    await assert.rejects(run(env2, settings, input), (err) => err instanceof CancelledFailure);
    assert.ok(
      seen.some((h) => h.offset > 0),
      'cancelled after a checkpoint',
    );
    for (const h of seen) if (h.partBytes >= 0) assert.ok(h.offset <= h.partBytes, `heartbeated ${h.offset} with ${h.partBytes} bytes in the part file`);
    await assert.rejects(stat(partPath), 'a cancelled copy leaves no part file');
    await assert.rejects(stat(join(s.settings.repositoryRoot, 'vm', 'run', 'again.raw')));
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('a fast copy checkpoints by bytes written, not only by time: durable offsets come every checkpointBytes', async () => {
  const size = 32 * CHUNK;
  const s = await setup(size);
  try {
    // No time-based checkpoint can come within the copy; only the byte count can trigger one.
    const settings: CopySettings = { ...s.settings, checkpointMs: 3_600_000, checkpointBytes: 4 * CHUNK };
    const env = new MockActivityEnvironment({ attempt: 1 });
    const offsets: number[] = [];
    env.on('heartbeat', (d: { offset: number }) => offsets.push(d.offset));
    const result = await run(env, settings, s.input);
    assert.equal(result.sha256, s.sha256);
    const inTheMiddle = offsets.filter((o) => o > 0 && o < size);
    // One sync at a time runs in the background, so how many 4-chunk marks get their own depends on
    // how fast the disk syncs (only one did in a CI run on a busy disk); with no time-based
    // checkpoint possible, any at all came from the byte count.
    assert.ok(inTheMiddle.length >= 1, `checkpoints during the copy: ${offsets.join(', ')}`);
    for (const o of inTheMiddle) assert.equal(o % CHUNK, 0, `a checkpoint ends on a chunk: ${o}`);
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('a disk smaller than a chunk is read through buffers of its own size (rounded up to 64 KiB), a larger or unknown one through chunks', () => {
  const MiB = 1024 * 1024;
  assert.equal(copyBufferBytes(8 * MiB, 64 * 1024, 0), 64 * 1024);
  assert.equal(copyBufferBytes(8 * MiB, 64 * 1024 + 1, 0), 128 * 1024);
  assert.equal(copyBufferBytes(8 * MiB, 0, 0), 64 * 1024, 'an empty disk still gets a buffer to read its end with');
  assert.equal(copyBufferBytes(8 * MiB, 3 * MiB, 2 * MiB), MiB, 'a resumed copy sizes for what is left');
  assert.equal(copyBufferBytes(8 * MiB, 20 * MiB, 0), 8 * MiB);
  assert.equal(copyBufferBytes(8 * MiB, undefined, 0), 8 * MiB);
});

for (const size of [1, 100_000, 3 * CHUNK + 5]) {
  test(`with 1 MiB chunks, a ${size}-byte device is still copied exactly, and a device larger than the disk's size is refused`, async () => {
    const s = await setup(size);
    const settings = { ...s.settings, chunkBytes: 1024 * 1024 };
    try {
      const result = await run(new MockActivityEnvironment({ attempt: 1 }), settings, s.input);
      assert.equal(result.sha256, s.sha256);
      assert.ok((await readFile(s.image)).equals(s.device));
      // The engine said the disk is smaller than what the device holds: the copy reads on past the
      // buffers sized for the expected bytes, to the device's end, and refuses the mismatch.
      await assert.rejects(
        run(new MockActivityEnvironment({ attempt: 1 }), settings, { ...s.input, fileName: 'short.raw', expectedBytes: Math.max(0, size - 1) }),
        new RegExp(`gave ${size} bytes but disk ${DISK_ID} is ${Math.max(0, size - 1)} bytes`),
      );
    } finally {
      await rm(s.dir, { recursive: true, force: true });
    }
  });
}
