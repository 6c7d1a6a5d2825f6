/**
 * The copy worker dies (SIGKILL) in the middle of a disk; a new one takes over and resumes from
 * the last heartbeated offset instead of reading the whole device again. Once through the page
 * cache, once with O_DIRECT writes (the path of disks of 64 MiB or more, taken here by 4 MiB disks
 * with COPY_HASH_THREAD_MIN_BYTES=0): the whole image's SHA-256 is the disk's either way.
 */
import { ovirtTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hugePageTunables } from '../../activities/copy/huge-pages';
import { BackupClient } from '../../client/backup-client';
import type { OvirtBackupManifest } from '../../contracts/ovirt/results';
import type { OvirtHarness } from '../helpers/ovirt-harness';
import { assertClean, backupSnapshots } from '../helpers/ovirt-inspect';
import { eventually } from '../helpers/eventually';

const copyWorkerPath = fileURLToPath(new URL('../../workers/copy-worker.ts', import.meta.url));
const children: ChildProcess[] = [];

const test = ovirtTest({ inProcessCopyWorker: false, sim: { diskSizes: { os: 4 * 1024 * 1024, data: 512 * 1024 } } });
test.afterAll(async ({ h }) => {
  for (const c of children) c.kill('SIGKILL');
});

function startCopyWorker(h: OvirtHarness, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', copyWorkerPath], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: h.env.address,
      COPY_TASK_QUEUE: h.copyQueue,
      COPY_DEVICE_BY_ID_DIR: h.copySettings.deviceByIdDir,
      COPY_DEVICE_DIR: h.copySettings.deviceDir,
      BACKUP_REPOSITORY_DIR: h.copySettings.repositoryRoot,
      COPY_CHUNK_BYTES: String(128 * 1024),
      COPY_MAX_BYTES_PER_SECOND: String(1024 * 1024),
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(child);
  return child;
}

for (const direct of [false, true]) {
  // Direct writes as the copy worker's launchers run them: from huge-page buffers.
  const env: Record<string, string> = direct ? { COPY_HASH_THREAD_MIN_BYTES: '0', COPY_DIRECT_WRITES: 'true', GLIBC_TUNABLES: hugePageTunables() } : {};
  test(`SIGKILL of the copy worker mid-copy${direct ? ' while it writes with O_DIRECT' : ''}: the run completes and the copy resumes from a heartbeated offset`, async ({ h }) => {
    const first = startCopyWorker(h, env);
    const backups = new BackupClient(h.client, h.taskQueue);
    const handle = await h.client.workflow.start('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: `crash-${direct ? 'direct-' : ''}${Date.now()}`, args: [h.input()] });

    const live = await eventually(
      async () => (await backups.status(handle.workflowId)).liveBytes ?? 0,
      (bytes) => bytes >= 1024 * 1024,
      60_000,
    );
    assert.ok(live >= 1024 * 1024, `a copy heartbeated ${live} bytes before the kill`);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const second = startCopyWorker(h, env);

    try {
      const manifest = (await handle.result()) as OvirtBackupManifest;
      const resumed = manifest.disks.find((d) => d.resumedFromOffset > 0);
      assert.ok(resumed, `one disk resumed: ${JSON.stringify(manifest.disks.map((d) => ({ id: d.id, resumedFromOffset: d.resumedFromOffset, read: d.bytesReadFromDevice })))}`);
      assert.ok(resumed.attempts > 1);
      assert.ok(resumed.bytesReadFromDevice < resumed.bytes, `re-read ${resumed.bytesReadFromDevice} of ${resumed.bytes} bytes`);
      assert.equal(resumed.bytesReadFromDevice + resumed.resumedFromOffset, resumed.bytes);
      // Direct: every byte the resumed attempt wrote went past the page cache (its chunks are aligned); else none did.
      assert.equal(resumed.bytesWrittenDirect, direct ? resumed.bytesReadFromDevice : 0, `written with O_DIRECT: ${resumed.bytesWrittenDirect} of ${resumed.bytesReadFromDevice}`);
      for (const disk of manifest.disks) assert.equal(disk.sha256, await h.state.diskContentSha256(disk.id));
      await eventually(
        () => backupSnapshots(h),
        (s) => s.length === 0,
      );
      await assertClean(h);
    } finally {
      // The next case starts its own workers on the same queue.
      second.kill('SIGKILL');
      await new Promise((r) => second.once('exit', r));
    }
  });
}
