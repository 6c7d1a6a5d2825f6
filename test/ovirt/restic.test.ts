/**
 * The oVirt backup into a restic repository, end to end: the copy worker configured with restic
 * backs up the demo VM (the workflow is the same), ovirtRestore brings it back byte for byte from
 * restic, and a second backup of the unchanged VM adds at most 1 % of the disks' size to the
 * repository (restic's deduplication). Skipped, saying why, without restic.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { OvirtBackupManifest, OvirtRestoreResult } from '../../contracts/ovirt/results';
import { runRestic } from '../../activities/copy/restic/restic-cli';
import { resticSnapshots } from '../../activities/copy/restic/restic-store';
import { startOvirtHarness, type OvirtHarness } from '../helpers/ovirt-harness';
import { resticForTests, tempResticRepository, RESTIC_TEST_PASSWORD } from '../helpers/restic';

const binary = resticForTests();
const MiB = 1024 * 1024;

async function rawDataBytes(repo: Awaited<ReturnType<typeof tempResticRepository>>): Promise<number> {
  return (JSON.parse(await runRestic(repo.settings, ['stats', '--json', '--mode', 'raw-data'])) as { total_size: number }).total_size;
}

describe.skipIf(!binary)('oVirt backup into a restic repository', () => {
  let h: OvirtHarness;
  let repo: Awaited<ReturnType<typeof tempResticRepository>>;
  let n = 0;
  const id = (what: string) => `${what}-restic-${Date.now()}-${++n}`;

  beforeAll(async () => {
    repo = await tempResticRepository(binary!);
    h = await startOvirtHarness({
      copy: { restic: repo.settings },
      sim: { diskSizes: { os: 16 * MiB + 12345, data: 4 * MiB } },
      // Scanned for in every history and log at stop.
      secrets: { RESTIC_PASSWORD: RESTIC_TEST_PASSWORD },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await repo?.remove();
  });

  test('backs up into restic, restores byte for byte, and a second backup of the unchanged VM adds ≤ 1 % of the disks', async () => {
    const backup = () => h.client.workflow.execute('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: id('backup'), args: [h.input()] }) as Promise<OvirtBackupManifest>;
    const first = await backup();
    const diskBytes = first.disks.reduce((sum, d) => sum + d.bytes, 0);
    for (const disk of first.disks) {
      assert.ok(disk.resticSnapshotId, `disk ${disk.id} is in a restic snapshot`);
      assert.match(disk.path, new RegExp(`^restic:${disk.resticSnapshotId}:/${first.repository.dir}/`));
      assert.equal(disk.sha256, await h.state.diskContentSha256(disk.id));
      const [snapshot] = await resticSnapshots(repo.settings, [`disk:${disk.id}`, `vm:${h.demo.vmId}`, `run:${first.runId}`]);
      assert.ok(snapshot, `the disk's snapshot carries the VM, run and disk tags`);
    }
    assert.match(first.config.path, /^restic:[0-9a-f]+:\//);
    // Nothing was written to the directory repository.
    assert.equal((await import('node:fs')).existsSync(h.dirs.repository), false);

    const afterFirst = await rawDataBytes(repo);
    const second = await backup();
    const growth = (await rawDataBytes(repo)) - afterFirst;
    assert.ok(growth <= diskBytes / 100, `the second backup added ${growth} bytes of data for ${diskBytes} bytes of disks`);
    assert.deepEqual(
      second.disks.map((d) => d.sha256),
      first.disks.map((d) => d.sha256),
    );

    const restored = (await h.client.workflow.execute('ovirtRestore', {
      taskQueue: h.taskQueue,
      workflowId: id('restore'),
      args: [h.input({ backup: 'latest', cluster: h.demo.clusterName, vmName: 'web-01-from-restic' })],
    })) as OvirtRestoreResult;
    assert.equal(restored.backup.dir, second.repository.dir);
    for (const disk of second.disks) {
      const back = restored.disks.find((d) => d.sourceDiskId === disk.id);
      assert.ok(back, `disk ${disk.id} restored`);
      assert.equal(await h.state.diskContentSha256(back.diskId), disk.sha256, 'the restored disk holds the backed-up bytes');
    }

    const check = await runRestic(repo.settings, ['check']);
    assert.match(check, /no errors were found/);
  });
});
