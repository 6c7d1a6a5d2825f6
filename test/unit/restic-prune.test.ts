/**
 * Retention in a restic repository against a real restic: removeBackup forgets every snapshot of a
 * backup (its disks, its OVF, each stored copy of its manifest), the manifest's first, and a retry
 * of a removal already done or half done finishes it; pruneRepository frees the data nothing uses
 * any more (the other backup still restores byte for byte, `restic check` is clean, a second prune
 * finds nothing to delete or repack); a dead process's lock is removed first, a live one stays and
 * is a retryable one-line error naming its holder.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createCopyActivities } from '../../activities/copy/activities';
import type { CopySettings } from '../../activities/copy/copy-disk';
import { resticSnapshots } from '../../activities/copy/restic/restic-store';
import { runRestic } from '../../activities/copy/restic/restic-cli';
import { ErrorTypes } from '../../lib/errors';
import { resticForTests, tempResticRepository, RESTIC_TEST_PASSWORD } from '../helpers/restic';

const binary = resticForTests();
const VM = '6f2a0d3e-5b1c-4c8e-9a10-00000000a001';
const DISK = 'aaaaaaaa-0001-4c8e-9a10-00000000d001';
const VM_FOLDER = 'ovirt/web-01-6f2a0d3e';
const MiB = 1024 * 1024;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const inContext = <R>(call: () => Promise<R>, attempt = 1): Promise<R> => new MockActivityEnvironment({ attempt }).run(call) as Promise<R>;

describe.skipIf(!binary)('restic retention: forget and prune', { timeout: 240_000 }, () => {
  let base: string;
  let repo: Awaited<ReturnType<typeof tempResticRepository>>;
  let act: ReturnType<typeof createCopyActivities>;
  const device = () => join(base, 'by-id', `virtio-${DISK.slice(0, 20)}`);

  /** A backup as ovirtSnapshotBackup stores it: the OVF, the disk as it is on the device now, the manifest. */
  async function storeBackup(dir: string, completedAt: string): Promise<{ dir: string; sha256: string; bytes: number }> {
    const config = await inContext(() => act.writeBackupFile({ dir, fileName: 'vm-config.ovf', content: `<ovf:Envelope id="${dir}"/>`, vmId: VM }));
    const { attempt, ...disk } = await inContext(() => act.copyDisk({ diskId: DISK, dir, fileName: `${DISK}.raw`, vmId: VM }));
    const manifest = {
      provider: 'ovirt',
      workflowId: `backup-${dir}`,
      runId: `run-${dir}`,
      endpoint: 'e',
      vm: { id: VM, name: 'web-01' },
      proxyVm: { id: 'p', name: 'proxy' },
      snapshot: { id: 's', description: '', kept: false },
      config: { type: 'ovf', path: config.path, bytes: config.bytes, sha256: config.sha256 },
      disks: [{ id: DISK, name: 'os', format: 'raw', ...disk, attempts: attempt }],
      skippedDisks: [],
      repository: { dir },
      timings: [],
      startedAt: completedAt,
      completedAt,
    };
    await inContext(() => act.writeBackupFile({ dir, fileName: 'manifest.json', content: JSON.stringify(manifest) }));
    return { dir, sha256: disk.sha256, bytes: disk.bytes };
  }

  const snapshotsIn = async (dir: string) => (await resticSnapshots(repo.settings, [])).filter((s) => s.paths.some((p) => p.startsWith(`/${dir}/`)));
  /** What the snapshots reference (restic stats --mode raw-data), and what the repository's data packs take on disk. */
  const rawBytes = async () => (JSON.parse(await runRestic(repo.settings, ['stats', '--json', '--mode', 'raw-data'])) as { total_size: number }).total_size;
  const packBytes = async () => {
    let total = 0;
    for (const entry of await readdir(join(repo.path, 'data'), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
    }
    return total;
  };
  const locks = async () => (await readdir(join(repo.path, 'locks'))).filter((name) => !name.includes('-tmp-'));
  const untilLocked = async () => {
    while ((await locks()).length === 0) await new Promise((r) => setTimeout(r, 5));
  };
  const env = () => ({ ...process.env, RESTIC_REPOSITORY: repo.path, RESTIC_PASSWORD: RESTIC_TEST_PASSWORD });

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'restic-prune-'));
    await mkdir(join(base, 'by-id'));
    repo = await tempResticRepository(binary!);
    const settings: CopySettings = { repositoryRoot: join(base, 'unused'), deviceByIdDir: join(base, 'by-id'), deviceDir: base, chunkBytes: 256 * 1024, maxBytesPerSecond: 0, restic: repo.settings };
    act = createCopyActivities(settings);
  });
  afterAll(async () => {
    await repo?.remove();
    await rm(base, { recursive: true, force: true });
  });

  test('forget removes every snapshot of one backup, manifest first; prune frees its data and the other backup still restores byte for byte', async () => {
    // Two backups of a 6 MiB disk; between them 2 MiB of it are rewritten. A third, unrelated disk content goes with the first.
    const disk = randomBytes(6 * MiB);
    await writeFile(device(), disk);
    const first = await storeBackup(`${VM_FOLDER}/20250101T0000-aaaa0001`, '2025-01-01T00:01:00Z');
    await inContext(() => act.recordVerification({ dir: first.dir, verification: { at: '2025-01-02T00:00:00Z', by: 'check', ok: true, workflowId: 'check-1', summary: 'all good' } }));
    randomBytes(2 * MiB).copy(disk, 3 * MiB);
    await writeFile(device(), disk);
    const second = await storeBackup(`${VM_FOLDER}/20250102T0000-aaaa0002`, '2025-01-02T00:01:00Z');
    assert.equal(second.sha256, sha(disk));
    assert.equal((await snapshotsIn(first.dir)).length, 4, 'the first backup: OVF, disk, manifest and the manifest stored again with its verification');
    const [referencedBefore, before] = [await rawBytes(), await packBytes()];

    const removed = await inContext(() => act.removeBackup({ dir: `${first.dir}/` }));
    assert.equal(removed.dir, first.dir);
    assert.equal(removed.removed, true);
    assert.equal(removed.snapshots?.length, 4);
    assert.deepEqual(await snapshotsIn(first.dir), []);
    assert.equal((await snapshotsIn(second.dir)).length, 3, 'the other backup keeps every snapshot');
    assert.deepEqual(
      (await inContext(() => act.listBackups({ vmId: VM }))).map((b) => b.dir),
      [second.dir],
    );
    // A retry of a removal already done: nothing left to forget, no error.
    assert.deepEqual(await inContext(() => act.removeBackup({ dir: first.dir }), 2), { dir: first.dir, removed: false, snapshots: [], pruneAfter: true });
    const referencedAfter = await rawBytes();
    assert.ok(referencedBefore - referencedAfter >= 1.5 * MiB, `the snapshots left reference ${referencedBefore - referencedAfter} bytes less`);
    assert.equal(await packBytes(), before, 'forget alone frees no space');

    const pruned = await inContext(() => act.pruneRepository({}));
    assert.equal(pruned.kind, 'restic');
    assert.match(pruned.summary, /total prune: \d+ blobs \/ [\d.]+ \S+; remaining: /);
    const after = await packBytes();
    // The first backup's own data was its 2 MiB that the second rewrote, rounded up to restic's chunk
    // boundaries (512 KiB to 8 MiB, where they fall differs per repository): prune frees about that,
    // and never more than what the forgotten snapshots alone referenced (plus pack headers).
    const unreferenced = referencedBefore - referencedAfter;
    assert.ok(before - after >= 1.5 * MiB, `prune freed ${before - after} bytes`);
    assert.ok(before - after <= unreferenced * 1.05 + 64 * 1024, `prune freed ${before - after} bytes, more than the ${unreferenced} only the forgotten backup referenced`);
    assert.ok(Math.abs(after - referencedAfter) < 0.1 * MiB, `the packs (${after} bytes) hold what the snapshots reference (${referencedAfter}), no unreferenced pack`);

    const check = await runRestic(repo.settings, ['check']);
    assert.match(check, /no errors were found/);
    const again = await runRestic(repo.settings, ['prune', '--dry-run']);
    assert.match(again, /to repack:\s+0 blobs \/ 0 B/);
    assert.match(again, /to delete:\s+0 blobs \/ 0 B/);

    // The second backup restores byte for byte.
    const target = 'bbbbbbbb-0002-4c8e-9a10-00000000d002';
    const targetPath = join(base, 'by-id', `virtio-${target.slice(0, 20)}`);
    await writeFile(targetPath, Buffer.alloc(disk.length));
    await inContext(() => act.writeImageToDevice({ dir: second.dir, fileName: `${DISK}.raw`, diskId: target, expectedBytes: second.bytes, expectedSha256: second.sha256 }));
    assert.ok((await readFile(targetPath)).equals(disk));
  });

  test('a removal a crash cut short after the manifest is finished by the retry', async () => {
    await writeFile(device(), randomBytes(MiB));
    const backup = await storeBackup(`${VM_FOLDER}/20250103T0000-aaaa0003`, '2025-01-03T00:01:00Z');
    const manifests = (await snapshotsIn(backup.dir)).filter((s) => s.paths[0]!.endsWith('/manifest.json'));
    await runRestic(repo.settings, ['forget', ...manifests.map((s) => s.id)]);
    assert.equal((await snapshotsIn(backup.dir)).length, 2, 'the OVF and the disk are left');
    const retried = await inContext(() => act.removeBackup({ dir: backup.dir }), 2);
    assert.equal(retried.removed, true);
    assert.equal(retried.snapshots?.length, 2);
    assert.deepEqual(await snapshotsIn(backup.dir), []);
  });

  test("a killed restic's lock is removed before forget and prune; a live process's lock stays and is a retryable one-line error", async () => {
    await writeFile(device(), randomBytes(MiB));
    const backup = await storeBackup(`${VM_FOLDER}/20250104T0000-aaaa0004`, '2025-01-04T00:01:00Z');

    // A backup reading stdin holds its lock until killed; SIGKILL leaves the lock behind.
    const killed = spawn(binary!, ['backup', '--stdin', '--stdin-filename', 'x'], { env: env(), stdio: ['pipe', 'ignore', 'ignore'] });
    await untilLocked();
    killed.kill('SIGKILL');
    await new Promise((r) => killed.once('close', r));
    assert.equal((await locks()).length, 1);
    assert.equal((await inContext(() => act.removeBackup({ dir: backup.dir }))).removed, true);
    assert.deepEqual(await locks(), []);

    // A live backup holds its lock: forget and prune (exclusive) are refused while it runs, and its lock stays.
    const live = spawn(binary!, ['backup', '--stdin', '--stdin-filename', 'y'], { env: env(), stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      await untilLocked();
      const calls: Array<() => Promise<unknown>> = [() => act.pruneRepository({}), () => act.removeBackup({ dir: `${VM_FOLDER}/20250102T0000-aaaa0002` })];
      for (const call of calls) {
        const err = await inContext(call).then(
          () => assert.fail('expected a lock failure'),
          (e: unknown) => e as ApplicationFailure,
        );
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, ErrorTypes.repositoryUnavailable);
        assert.equal(err.nonRetryable, false, 'a retry may find the repository free');
        assert.match(err.message, new RegExp(`is locked by a live process \\(PID ${live.pid} on \\S+\\)`));
        assert.ok(!err.message.includes('\n'), 'one line');
        assert.equal((await locks()).length, 1, "the live process's lock stays");
      }
    } finally {
      live.kill('SIGKILL');
      await new Promise((r) => live.once('close', r));
    }
    // Once it is gone, the prune goes through (its stale lock removed first).
    assert.equal((await inContext(() => act.pruneRepository({}))).kind, 'restic');
    assert.deepEqual(await locks(), []);
    assert.match(await runRestic(repo.settings, ['check']), /no errors were found/);
  });
});
