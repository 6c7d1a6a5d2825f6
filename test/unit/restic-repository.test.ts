/**
 * The copy worker against a real restic on a temp repository: a disk streamed into `restic backup
 * --stdin` with its SHA-256, the OVF and manifest as snapshots tagged alike, read back by
 * findBackup/listBackups, restored byte for byte, verified and `restic check`ed; a device that
 * ends early leaves no snapshot; the preflight's one-line errors (missing repository, wrong
 * password, live lock, restic missing) and its removal of a dead process's lock.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createCopyActivities } from '../../activities/copy/activities';
import type { CopySettings } from '../../activities/copy/copy-disk';
import { resticSnapshots } from '../../activities/copy/restic/restic-store';
import { runRestic, type ResticSettings } from '../../activities/copy/restic/restic-cli';
import { ErrorTypes } from '../../lib/errors';
import { resticForTests, tempResticRepository, RESTIC_TEST_PASSWORD } from '../helpers/restic';

const binary = resticForTests();
const VM = '6f2a0d3e-5b1c-4c8e-9a10-00000000a001';
const DISK = 'aaaaaaaa-0001-4c8e-9a10-00000000d001';
const DIR = 'ovirt/web-01-6f2a0d3e/20250101T0000-abcd1234';
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const inContext = <R>(call: () => Promise<R>, attempt = 1): Promise<R> => new MockActivityEnvironment({ attempt }).run(call) as Promise<R>;

async function rejectsWith(p: Promise<unknown>, pattern: RegExp, nonRetryable = true): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    assert.match(err.message, pattern);
    assert.equal(err.type, ErrorTypes.repositoryUnavailable);
    assert.equal(err.nonRetryable, nonRetryable);
    assert.ok(!err.message.includes('\n'), 'one line');
    assert.ok(!err.message.includes(RESTIC_TEST_PASSWORD), 'no password in the message');
    return err.message;
  }
  assert.fail('expected a failure');
}

// Each restic call costs a process start and a repository open: a few dozen of them take a while on a busy machine.
describe.skipIf(!binary)('restic repository', { timeout: 180_000 }, () => {
  let base: string;
  let repo: Awaited<ReturnType<typeof tempResticRepository>>;
  let settings: CopySettings;
  let act: ReturnType<typeof createCopyActivities>;
  const image = Buffer.concat([randomBytes(700 * 1024), Buffer.alloc(300 * 1024), randomBytes(12345)]);

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'restic-unit-'));
    await mkdir(join(base, 'by-id'));
    await writeFile(join(base, 'by-id', `virtio-${DISK.slice(0, 20)}`), image);
    repo = await tempResticRepository(binary!);
    settings = { repositoryRoot: join(base, 'unused'), deviceByIdDir: join(base, 'by-id'), deviceDir: base, chunkBytes: 64 * 1024, maxBytesPerSecond: 0, restic: repo.settings };
    act = createCopyActivities(settings);
  });
  afterAll(async () => {
    await repo?.remove();
    await rm(base, { recursive: true, force: true });
  });

  test('a backup stored in restic is found, listed, restored byte for byte, verified and checked', async () => {
    await inContext(() => act.repositoryPreflight());
    const config = await inContext(() => act.writeBackupFile({ dir: DIR, fileName: 'vm-config.ovf', content: '<ovf:Envelope/>', vmId: VM }));
    const copy = await inContext(() => act.copyDisk({ diskId: DISK, expectedBytes: image.length, dir: DIR, fileName: `${DISK}.raw`, vmId: VM }));
    assert.equal(copy.sha256, sha(image));
    assert.equal(copy.bytes, image.length);
    assert.match(copy.path, new RegExp(`^restic:${copy.resticSnapshotId}:/${DIR}/${DISK}\\.raw$`));
    const { attempt, ...disk } = copy;
    const manifest = {
      provider: 'ovirt',
      workflowId: `backup-ovirt-${VM}`,
      runId: 'run-1',
      endpoint: 'e',
      vm: { id: VM, name: 'web-01' },
      proxyVm: { id: 'p', name: 'proxy' },
      snapshot: { id: 's', description: '', kept: false },
      config: { type: 'ovf', path: config.path, bytes: config.bytes, sha256: config.sha256 },
      disks: [{ id: DISK, name: 'os', format: 'raw', provisionedSize: image.length, ...disk, attempts: attempt }],
      skippedDisks: [],
      repository: { dir: DIR },
      timings: [],
      startedAt: '2025-01-01T00:00:00Z',
      completedAt: '2025-01-01T00:01:00Z',
    };
    await inContext(() => act.writeBackupFile({ dir: DIR, fileName: 'manifest.json', content: JSON.stringify(manifest) }));

    // Every snapshot of the run carries its tags; the disk's is found by VM, run and disk.
    const tagged = await resticSnapshots(repo.settings, [`vm:${VM}`, 'run:00000000-0000-0000-0000-000000000000', `disk:${DISK}`]);
    assert.deepEqual(
      tagged.map((s) => s.paths[0]),
      [`/${DIR}/${DISK}.raw`],
    );
    assert.equal((await resticSnapshots(repo.settings, ['run:00000000-0000-0000-0000-000000000000'])).length, 3);

    const found = await inContext(() => act.findBackup({ backup: 'latest', vmId: VM }));
    assert.equal(found.dir, DIR);
    assert.equal(found.ovf, '<ovf:Envelope/>');
    assert.deepEqual(
      found.images.map((i) => [i.fileName, i.bytes, i.sha256]),
      [[`${DISK}.raw`, image.length, sha(image)]],
    );
    const listed = await inContext(() => act.listBackups({ vmId: VM }));
    assert.deepEqual(
      listed.map((b) => [b.dir, b.bytes, b.disks]),
      [[DIR, image.length, 1]],
    );

    // Restored onto another disk's device: the same bytes.
    const target = 'bbbbbbbb-0002-4c8e-9a10-00000000d002';
    const targetPath = join(base, 'by-id', `virtio-${target.slice(0, 20)}`);
    await writeFile(targetPath, Buffer.alloc(image.length));
    const written = await inContext(() => act.writeImageToDevice({ dir: DIR, fileName: `${DISK}.raw`, diskId: target, expectedBytes: image.length, expectedSha256: sha(image) }));
    assert.equal(written.sha256, sha(image));
    assert.ok((await readFile(targetPath)).equals(image));
    // A manifest that expects other bytes is refused after the write, naming both hashes.
    await assert.rejects(
      inContext(() => act.writeImageToDevice({ dir: DIR, fileName: `${DISK}.raw`, diskId: target, expectedBytes: image.length, expectedSha256: '0'.repeat(64) })),
      (err: ApplicationFailure) => err.type === ErrorTypes.hashMismatch && err.message.includes(sha(image)),
    );

    const verified = await inContext(() => act.verifyBackup({ dir: DIR }));
    assert.equal(verified.ok, true);
    assert.deepEqual(verified.files.map((f) => f.file).sort(), [`${DISK}.raw`, 'vm-config.ovf'].sort());
    const recorded = await inContext(() => act.recordVerification({ dir: DIR, verification: { at: '2025-01-02T00:00:00Z', by: 'check', ok: true, workflowId: 'check-1', summary: 'all good' } }));
    assert.equal(recorded.length, 1);
    assert.equal((await inContext(() => act.findBackup({ backup: DIR }))).verifications.length, 1);

    const check = await inContext(() => act.repositoryIntegrityCheck({ subset: { n: 1, t: 2 } }));
    assert.equal(check.ok, true, check.summary);
    assert.equal(check.command, 'restic check --read-data-subset=1/2');
  });

  test('RESTIC_COMPRESSION reaches restic: the same compressible file takes its size with off, far less with max', async () => {
    const text = Array.from({ length: 40_000 }, (_, i) => `line ${i % 97} of a VM configuration that compresses well\n`).join('');
    const stored = async (compression: 'off' | 'max') => {
      const own = await tempResticRepository(binary!);
      try {
        await inContext(() => createCopyActivities({ ...settings, restic: { ...own.settings, compression } }).writeBackupFile({ dir: DIR, fileName: 'big.txt', content: text, vmId: VM }));
        return (JSON.parse(await runRestic(own.settings, ['stats', '--json', '--mode', 'raw-data'])) as { total_size: number }).total_size;
      } finally {
        await own.remove();
      }
    };
    const [off, max] = [await stored('off'), await stored('max')];
    assert.ok(off >= Buffer.byteLength(text), `off stored ${off} bytes of ${Buffer.byteLength(text)}`);
    assert.ok(max < off / 5, `max stored ${max} bytes, off ${off}`);
  });

  test('a device that ends before the disk does leaves no snapshot of it', async () => {
    const short = 'cccccccc-0003-4c8e-9a10-00000000d003';
    await writeFile(join(base, 'by-id', `virtio-${short.slice(0, 20)}`), randomBytes(100_000));
    await assert.rejects(
      inContext(() => act.copyDisk({ diskId: short, expectedBytes: 200_000, dir: DIR, fileName: `${short}.raw`, vmId: VM })),
      /gave 100000 bytes/,
    );
    assert.deepEqual(await resticSnapshots(repo.settings, [`disk:${short}`]), []);
  });

  test('preflight: a missing repository, a wrong password, no password, restic missing: one line each, non-retryable', async () => {
    const preflight = (restic: ResticSettings) => inContext(() => createCopyActivities({ ...settings, restic }).repositoryPreflight());
    await rejectsWith(preflight({ ...repo.settings, repository: join(base, 'nowhere') }), /does not exist \(create it with `restic init`\)/);
    await rejectsWith(preflight({ ...repo.settings, password: 'not-the-password' }), /wrong password/);
    await rejectsWith(preflight({ repository: repo.path, binary }), /has no password/);
    await rejectsWith(preflight({ ...repo.settings, binary: join(base, 'no-restic') }), /restic is not installed on this proxy/);
  });

  test('preflight removes the lock of a killed restic, and refuses a repository a live process holds exclusively', async () => {
    // The local backend writes a lock under a -tmp- name first, then renames it.
    const locks = async () => (await readdir(join(repo.path, 'locks'))).filter((name) => !name.includes('-tmp-'));
    const env = { ...process.env, RESTIC_REPOSITORY: repo.path, RESTIC_PASSWORD: RESTIC_TEST_PASSWORD };
    const untilLocked = async () => {
      while ((await locks()).length === 0) await new Promise((r) => setTimeout(r, 5));
    };

    // A backup reading stdin holds its lock until killed; SIGKILL leaves the lock behind.
    const stuck = spawn(binary!, ['backup', '--stdin', '--stdin-filename', 'x'], { env, stdio: ['pipe', 'ignore', 'ignore'] });
    await untilLocked();
    stuck.kill('SIGKILL');
    await new Promise((r) => stuck.once('close', r));
    assert.equal((await locks()).length, 1);
    await inContext(() => act.repositoryPreflight());
    assert.deepEqual(await locks(), []);
    assert.deepEqual(await resticSnapshots(repo.settings, ['kind:disk']).then((s) => s.filter((x) => x.paths[0] === '/x')), [], 'a killed backup stored nothing');

    // A prune, stopped while it holds its exclusive lock, is a live process: its lock stays.
    const prune = spawn(binary!, ['prune'], { env, stdio: 'ignore' });
    try {
      await untilLocked();
      prune.kill('SIGSTOP');
      const message = await rejectsWith(
        inContext(() => act.repositoryPreflight()),
        /is locked by a live process \(PID \d+ on \S+\)/,
      );
      assert.match(message, new RegExp(`PID ${prune.pid}`));
      assert.equal((await locks()).length, 1);
    } finally {
      prune.kill('SIGCONT');
      prune.kill('SIGKILL');
      await new Promise((r) => prune.once('close', r));
      await runRestic(repo.settings, ['unlock']);
    }
  });
});
