/**
 * The repository side of restores, drills and checks (activities/copy/*), in a mocked activity
 * context on files: finding a backup by folder, run id or `latest` and refusing damaged ones; a
 * restore write that is exact, resumes at a heartbeated offset and refuses a hash mismatch; the
 * read-back; a check that finds a flipped byte and whose slices cover every file once; the
 * verification record in the manifest; the listing.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createRepositoryActivities } from '../../activities/copy/activities';
import type { CopySettings } from '../../activities/copy/copy-disk';
import type { OvirtBackupManifest } from '../../contracts/ovirt/results';
import type { BackupRef, Verification } from '../../activities/copy/restore-types';
import { ErrorTypes } from '../../lib/errors';

const CHUNK = 64 * 1024;
const VM = '6f2a0d3e-5b1c-4c8e-9a10-00000000a001';
const OTHER_VM = '7a7a7a7a-5b1c-4c8e-9a10-00000000a002';
const DISK_A = 'aaaaaaaa-0001-4c8e-9a10-00000000d001';
const DISK_B = 'bbbbbbbb-0002-4c8e-9a10-00000000d002';
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

interface Fixture {
  root: string;
  settings: CopySettings;
  act: ReturnType<typeof createRepositoryActivities>;
  /** Writes a complete backup (images, OVF, manifest) and returns its folder and image bytes. */
  backup(options: { vmId?: string; vmName?: string; completedAt: string; workflowId?: string; runId?: string; sizes?: number[]; manifest?: boolean }): Promise<{ dir: string; images: Buffer[] }>;
  /** A device for a disk under by-id, holding `content`. */
  device(diskId: string, content: Buffer): Promise<string>;
}

async function withRepository(body: (f: Fixture) => Promise<void>): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'repository-'));
  const root = join(base, 'repo');
  const byId = join(base, 'by-id');
  await mkdir(byId, { recursive: true });
  const settings: CopySettings = { repositoryRoot: root, deviceByIdDir: byId, deviceDir: base, chunkBytes: CHUNK, maxBytesPerSecond: 0, checkpointMs: 20 };
  const fixture: Fixture = {
    root,
    settings,
    act: createRepositoryActivities(settings),
    async backup({ vmId = VM, vmName = 'web-01', completedAt, workflowId = `backup-ovirt-${vmId}`, runId = randomBytes(8).toString('hex'), sizes = [3 * CHUNK + 17, CHUNK], manifest = true }) {
      const dir = `ovirt/${vmName}-${vmId.slice(0, 8)}/${completedAt.replace(/[:.-]/g, '').slice(0, 15)}-${runId.slice(0, 8)}`;
      const full = join(root, dir);
      await mkdir(full, { recursive: true });
      const images = sizes.map((n) => randomBytes(n));
      const diskIds = [DISK_A, DISK_B];
      const disks = [];
      for (const [i, image] of images.entries()) {
        const path = join(full, `${diskIds[i]}.raw`);
        await writeFile(path, image);
        disks.push({
          id: diskIds[i]!,
          name: `disk${i}`,
          format: 'raw',
          provisionedSize: image.length,
          path,
          bytes: image.length,
          sha256: sha(image),
          device: '/dev/x',
          resumedFromOffset: 0,
          bytesReadFromDevice: image.length,
          attempts: 1,
        });
      }
      const ovf = `<ovf:Envelope><Name>${vmName}</Name></ovf:Envelope>`;
      await writeFile(join(full, 'vm-config.ovf'), ovf);
      if (manifest) {
        const m: OvirtBackupManifest = {
          provider: 'ovirt',
          workflowId,
          runId,
          endpoint: 'ovirt-sim',
          vm: { id: vmId, name: vmName },
          proxyVm: { id: 'proxy', name: 'proxy' },
          snapshot: { id: 's', description: 'backup', kept: false },
          config: { type: 'ovf', path: join(full, 'vm-config.ovf'), bytes: ovf.length, sha256: sha(ovf) },
          disks,
          skippedDisks: [],
          repository: { dir },
          timings: [],
          startedAt: completedAt,
          completedAt,
        };
        await writeFile(join(full, 'manifest.json'), JSON.stringify(m));
      }
      return { dir, images };
    },
    async device(diskId, content) {
      const path = join(base, `dev-${diskId.slice(0, 8)}`);
      await writeFile(path, content);
      await symlink(path, join(byId, `scsi-0QEMU_QEMU_HARDDISK_${diskId.slice(0, 20)}`)).catch(() => undefined);
      return path;
    },
  };
  try {
    await body(fixture);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

const env = (details?: unknown) => new MockActivityEnvironment({ attempt: details ? 2 : 1, heartbeatDetails: details });
/** Runs an activity call in a mocked activity context, typed as the call is. */
const inContext = <R>(e: MockActivityEnvironment, call: () => Promise<R>): Promise<R> => e.run(call) as Promise<R>;

async function refusal(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => assert.fail('should be refused'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ApplicationFailure, String(err));
  return err;
}

test('findBackup finds a backup by folder, by the workflow or run id of its run, and as the newest complete one of a VM; it returns the OVF and the images', async () => {
  await withRepository(async (f) => {
    const old = await f.backup({ completedAt: '2026-12-01T10:00:00.000Z', runId: 'run-old-0000' });
    const newer = await f.backup({ completedAt: '2026-12-02T10:00:00.000Z', runId: 'run-new-0000' });
    // Newer still, but the run failed before its manifest: no backup.
    await f.backup({ completedAt: '2026-12-03T10:00:00.000Z', runId: 'run-failed00', manifest: false });
    await f.backup({ vmId: OTHER_VM, vmName: 'db-01', completedAt: '2026-12-04T10:00:00.000Z' });

    const byDir = await f.act.findBackup({ backup: old.dir });
    assert.equal(byDir.dir, old.dir);
    assert.match(byDir.ovf, /<Name>web-01<\/Name>/);
    assert.deepEqual(
      byDir.images.map((i) => [i.diskId, i.fileName, i.bytes, i.sha256]),
      old.images.map((b, i) => [[DISK_A, DISK_B][i], `${[DISK_A, DISK_B][i]}.raw`, b.length, sha(b)]),
    );
    assert.deepEqual(byDir.verifications, []);
    assert.equal((await f.act.findBackup({ backup: `backup-ovirt-${VM}` })).dir, newer.dir, 'a workflow id means its newest backup');
    assert.equal((await f.act.findBackup({ backup: 'run-old-0000' })).dir, old.dir);
    assert.equal((await f.act.findBackup({ backup: 'latest', vmId: VM })).dir, newer.dir, 'latest skips the folder without a manifest');
  });
});

test('findBackup refuses, in one non-retryable InvalidInput line: an unknown backup, a VM without backups, a missing or truncated image, a folder outside the repository', async () => {
  await withRepository(async (f) => {
    const { dir } = await f.backup({ completedAt: '2026-12-01T10:00:00.000Z' });
    const cases: Array<[BackupRef, RegExp]> = [
      [{ backup: 'ovirt/web-01-6f2a0d3e/nope' }, /^unknown backup ovirt\/web-01-6f2a0d3e\/nope: no manifest\.json there/],
      [{ backup: 'backup-ovirt-nobody' }, /^unknown backup backup-ovirt-nobody: /],
      [{ backup: 'latest', vmId: OTHER_VM }, new RegExp(`^VM ${OTHER_VM} has no complete backup in the repository$`)],
      [{ backup: 'latest' }, /^backup "latest" needs vmId/],
      [{ backup: '../../etc/x' }, /escapes the repository root/],
    ];
    for (const [ref, message] of cases) {
      const err = await refusal(f.act.findBackup(ref));
      assert.equal(err.type, ErrorTypes.invalidInput);
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, message);
      assert.ok(!err.message.includes('\n'), err.message);
    }
    await truncate(join(f.root, dir, `${DISK_A}.raw`), 1000);
    const truncated = await refusal(f.act.findBackup({ backup: dir }));
    assert.equal(truncated.message, `backup ${dir}: image ${DISK_A}.raw is truncated: 1000 bytes, the manifest says ${3 * CHUNK + 17}`);
    await unlink(join(f.root, dir, `${DISK_B}.raw`));
    await writeFile(join(f.root, dir, `${DISK_A}.raw`), Buffer.alloc(3 * CHUNK + 17));
    const missing = await refusal(f.act.findBackup({ backup: dir }));
    assert.equal(missing.message, `backup ${dir}: image ${DISK_B}.raw is missing`);
    assert.equal(missing.type, ErrorTypes.invalidInput);
  });
});

test('writeImageToDevice writes the image byte for byte onto the disk’s device, with its SHA-256; hashDevice reads it back', async () => {
  await withRepository(async (f) => {
    const { dir, images } = await f.backup({ completedAt: '2026-12-01T10:00:00.000Z' });
    const image = images[0]!;
    const device = await f.device(DISK_A, Buffer.alloc(image.length));
    const input = { dir, fileName: `${DISK_A}.raw`, diskId: DISK_A, expectedBytes: image.length, expectedSha256: sha(image) };
    const result = await inContext(env(), () => f.act.writeImageToDevice(input));
    assert.deepEqual({ ...result, device: undefined }, { device: undefined, bytes: image.length, sha256: sha(image), resumedFromOffset: 0, attempt: 1 });
    assert.ok((await readFile(device)).equals(image), 'the device holds the image');
    const readBack = await inContext(env(), () => f.act.hashDevice({ diskId: DISK_A, expectedBytes: image.length }));
    assert.equal(readBack.sha256, sha(image));
    assert.equal(readBack.bytes, image.length);
  });
});

test('a retried write resumes at the heartbeated offset (from its chunk start): the bytes below it are kept, re-hashed from the image file', async () => {
  await withRepository(async (f) => {
    const { dir, images } = await f.backup({ completedAt: '2026-12-01T10:00:00.000Z', sizes: [9 * CHUNK + 777] });
    const image = images[0]!;
    // The device as the killed attempt left it: the first 3 chunks written; marked so that a rewrite would show.
    const left = Buffer.alloc(image.length);
    image.copy(left, 0, 0, 3 * CHUNK);
    left[10] = image[10]! ^ 0xff;
    const device = await f.device(DISK_A, left);
    const input = { dir, fileName: `${DISK_A}.raw`, diskId: DISK_A, expectedBytes: image.length, expectedSha256: sha(image) };
    const result = await inContext(env({ offset: 3 * CHUNK + 1000 }), () => f.act.writeImageToDevice(input));
    assert.equal(result.resumedFromOffset, 3 * CHUNK);
    assert.equal(result.attempt, 2);
    assert.equal(result.sha256, sha(image), 'the prefix is hashed from the image, as written there');
    const after = await readFile(device);
    assert.equal(after[10], left[10], 'the kept prefix was not written again');
    assert.ok(after.subarray(3 * CHUNK).equals(image.subarray(3 * CHUNK)), 'the rest is the image');
  });
});

test('a write whose hash differs from the manifest fails non-retryable as BackupHashMismatch, naming the file and both hashes', async () => {
  await withRepository(async (f) => {
    const { dir, images } = await f.backup({ completedAt: '2026-12-01T10:00:00.000Z' });
    const image = images[0]!;
    await f.device(DISK_A, Buffer.alloc(image.length));
    const recorded = sha(Buffer.from('what the manifest says'));
    const err = await refusal(inContext(env(), () => f.act.writeImageToDevice({ dir, fileName: `${DISK_A}.raw`, diskId: DISK_A, expectedBytes: image.length, expectedSha256: recorded })));
    assert.equal(err.type, ErrorTypes.hashMismatch);
    assert.equal(err.nonRetryable, true);
    assert.ok(err.message.includes(`${DISK_A}.raw`) && err.message.includes(sha(image)) && err.message.includes(recorded), err.message);
  });
});

test('a cancelled write stops at its next chunk', async () => {
  await withRepository(async (f) => {
    const { dir, images } = await f.backup({ completedAt: '2026-12-01T10:00:00.000Z', sizes: [40 * CHUNK] });
    const image = images[0]!;
    const device = await f.device(DISK_A, Buffer.alloc(image.length));
    // About a second for the whole image: the cancel comes after the first durable heartbeat.
    const slow = createRepositoryActivities({ ...f.settings, maxBytesPerSecond: image.length });
    const e = env();
    e.on('heartbeat', (d: { offset: number }) => {
      if (d.offset > 0) e.cancel();
    });
    await assert.rejects(
      inContext(e, () => slow.writeImageToDevice({ dir, fileName: `${DISK_A}.raw`, diskId: DISK_A, expectedBytes: image.length, expectedSha256: sha(image) })),
      (err) => err instanceof CancelledFailure,
    );
    assert.ok(!(await readFile(device)).equals(image), 'the write stopped before its end');
  });
});

test('verifyBackup re-reads images and OVF and finds a flipped byte, a truncated image and a missing OVF', async () => {
  await withRepository(async (f) => {
    const { dir, images } = await f.backup({ completedAt: '2026-12-01T10:00:00.000Z' });
    const clean = await inContext(env(), () => f.act.verifyBackup({ dir }));
    assert.equal(clean.ok, true);
    assert.deepEqual(clean.files.map((c) => c.file).sort(), [`${DISK_A}.raw`, `${DISK_B}.raw`, 'vm-config.ovf'].sort());

    const flipped = Buffer.from(images[1]!);
    flipped[flipped.length - 1] = flipped[flipped.length - 1]! ^ 0x01;
    await writeFile(join(f.root, dir, `${DISK_B}.raw`), flipped);
    await truncate(join(f.root, dir, `${DISK_A}.raw`), CHUNK);
    await unlink(join(f.root, dir, 'vm-config.ovf'));
    const damaged = await inContext(env(), () => f.act.verifyBackup({ dir }));
    assert.equal(damaged.ok, false);
    const byName = Object.fromEntries(damaged.files.map((c) => [c.file, c]));
    assert.deepEqual(
      { ok: byName[`${DISK_B}.raw`]!.ok, bytes: byName[`${DISK_B}.raw`]!.bytes, sha256: byName[`${DISK_B}.raw`]!.sha256 },
      { ok: false, bytes: images[1]!.length, sha256: sha(flipped) },
      'same size, other hash',
    );
    assert.equal(byName[`${DISK_B}.raw`]!.expectedSha256, sha(images[1]!));
    assert.deepEqual([byName[`${DISK_A}.raw`]!.ok, byName[`${DISK_A}.raw`]!.bytes], [false, CHUNK]);
    assert.deepEqual([byName['vm-config.ovf']!.ok, byName['vm-config.ovf']!.missing], [false, true]);
  });
});

test('subsets n/t of several backups read every file exactly once over n = 1..t', async () => {
  await withRepository(async (f) => {
    const dirs: string[] = [];
    for (let day = 1; day <= 4; day++) dirs.push((await f.backup({ completedAt: `2026-12-0${day}T10:00:00.000Z`, sizes: [100, 200] })).dir);
    const everything = dirs.flatMap((dir) => [`${DISK_A}.raw`, `${DISK_B}.raw`, 'vm-config.ovf'].map((file) => `${dir}/${file}`)).sort();
    for (const t of [1, 2, 3, 5]) {
      const read: string[] = [];
      for (let n = 1; n <= t; n++) {
        for (const dir of dirs) {
          const result = await inContext(env(), () => f.act.verifyBackup({ dir, subset: { n, t } }));
          assert.equal(result.ok, true);
          read.push(...result.files.map((c) => `${dir}/${c.file}`));
        }
      }
      assert.deepEqual(read.sort(), everything, `t=${t}`);
    }
    const err = await refusal(inContext(env(), () => f.act.verifyBackup({ dir: dirs[0]!, subset: { n: 4, t: 3 } })));
    assert.equal(err.type, ErrorTypes.invalidInput);
  });
});

test('recordVerification appends to the manifest, which stays a readable manifest; listBackups lists newest first with size, disks and the last verification', async () => {
  await withRepository(async (f) => {
    const old = await f.backup({ completedAt: '2026-12-01T10:00:00.000Z', sizes: [1000, 24] });
    const newer = await f.backup({ completedAt: '2026-12-02T10:00:00.000Z', sizes: [4096] });
    await f.backup({ vmId: OTHER_VM, vmName: 'db-01', completedAt: '2026-12-03T10:00:00.000Z' });
    const first: Verification = { at: '2026-12-05T00:00:00.000Z', by: 'check', ok: true, workflowId: 'verifyBackups-1', summary: 'read 3 files, all match' };
    const second: Verification = { at: '2026-12-06T00:00:00.000Z', by: 'drill', ok: false, workflowId: 'drill-1', summary: 'disk a differs' };
    // Concurrent records of one manifest: neither is lost.
    const [a, b] = await Promise.all([f.act.recordVerification({ dir: old.dir, verification: first }), f.act.recordVerification({ dir: old.dir, verification: second })]);
    assert.equal(Math.max(a.length, b.length), 2);
    assert.deepEqual(await f.act.recordVerification({ dir: old.dir, verification: second }), [first, second], 'a retried record is not recorded twice');
    const manifest = JSON.parse(await readFile(join(f.root, old.dir, 'manifest.json'), 'utf8')) as OvirtBackupManifest;
    assert.deepEqual(manifest.verifications, [first, second]);
    assert.equal(manifest.vm.id, VM);
    assert.deepEqual((await f.act.findBackup({ backup: old.dir })).verifications, [first, second]);

    const mine = await f.act.listBackups({ vmId: VM });
    assert.deepEqual(
      mine.map((s) => [s.dir, s.bytes, s.disks, s.lastVerification?.workflowId]),
      [
        [newer.dir, 4096, 1, undefined],
        [old.dir, 1024, 2, 'drill-1'],
      ],
    );
    assert.equal(mine[0]!.completedAt, '2026-12-02T10:00:00.000Z');
    assert.equal((await f.act.listBackups({})).length, 3);
    assert.deepEqual(await f.act.listBackups({ vmId: '00000000-none' }), []);
  });
});
