import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { OvirtBackupManifest } from '../../contracts/ovirt/results';
import type { Progress } from '../../contracts/progress';
import { startOvirtHarness, type OvirtHarness } from '../helpers/ovirt-harness';
import { assertClean, backupSnapshots } from '../helpers/ovirt-inspect';

for (const variant of [
  { apiVersion: 'v4', auth: 'sso' },
  { apiVersion: 'v3', auth: 'basic' },
] as const) {
  describe(`ovirtSnapshotBackup end to end (${variant.apiVersion} paths, ${variant.auth} auth)`, () => {
    let h: OvirtHarness;
    beforeAll(async () => {
      h = await startOvirtHarness(variant);
    });
    afterAll(async () => h?.stop());

    test('copies every eligible disk with the simulator’s bytes and leaves nothing behind', async () => {
      const handle = await h.client.workflow.start('ovirtSnapshotBackup', {
        taskQueue: h.taskQueue,
        workflowId: `backup-${variant.apiVersion}-${Date.now()}`,
        args: [h.input()],
      });
      const manifest = (await handle.result()) as OvirtBackupManifest;

      assert.equal(manifest.vm.id, h.demo.vmId);
      assert.deepEqual(manifest.disks.map((d) => d.id).sort(), [h.demo.osDiskId, h.demo.dataDiskId].sort());
      for (const disk of manifest.disks) {
        assert.equal(disk.sha256, await h.state.diskContentSha256(disk.id), `SHA-256 of disk ${disk.id}`);
        const onDisk = createHash('sha256')
          .update(await readFile(disk.path))
          .digest('hex');
        assert.equal(onDisk, disk.sha256, 'the repository file holds what the manifest says');
        assert.equal(disk.bytes, disk.provisionedSize);
      }
      assert.deepEqual(manifest.skippedDisks.map((d) => d.id).sort(), [h.demo.shareableDiskId, h.demo.lunDiskId].sort());
      assert.match(manifest.skippedDisks.find((d) => d.id === h.demo.lunDiskId)!.reason, /direct-LUN/);
      assert.match(await readFile(manifest.config.path, 'utf8'), /Envelope/, 'the OVF is kept with the backup');
      assert.ok(manifest.repository.manifestPath);
      assert.deepEqual(JSON.parse(await readFile(manifest.repository.manifestPath!, 'utf8')).disks.length, 2);
      assert.deepEqual(
        manifest.timings.map((t) => t.step),
        ['validate', 'preflight', 'snapshot', 'config', 'disks', 'attach', 'copy', 'detach', 'delete'],
      );

      await assertClean(h);
      const progress = await handle.query<Progress>('progress');
      assert.equal(progress.state, 'completed');
      assert.equal(progress.percent, 100);
      const description = await handle.describe();
      assert.deepEqual(description.searchAttributes.BackupProvider, ['ovirt']);
      assert.deepEqual(description.searchAttributes.BackupVmId, [h.demo.vmId]);
      assert.deepEqual(description.searchAttributes.BackupOutcome, ['completed']);
    });

    test('attach and detach read only the disk’s own attachment, never the proxy’s whole list', async () => {
      // A proxy serving many backups at once holds one attachment per disk in flight: listing them
      // all on every attach and detach made each call's cost grow with the load.
      const proxyDisks = variant.apiVersion === 'v4' ? 'diskattachments' : 'disks';
      const proxy = `/vms/${h.demo.proxyVmId}/${proxyDisks}`;
      h.simulator.calls.clear();
      const manifest = (await h.client.workflow.execute('ovirtSnapshotBackup', {
        taskQueue: h.taskQueue,
        workflowId: `attach-by-id-${variant.apiVersion}-${Date.now()}`,
        args: [h.input()],
      })) as OvirtBackupManifest;
      const diskIds = manifest.disks.map((d) => d.id).sort();
      const onProxy = (method: string) => h.simulator.calls.matching(method, new RegExp(`^${proxy}(/|$)`)).map((c) => c.path);
      assert.deepEqual(
        onProxy('GET').sort(),
        diskIds.map((id) => `${proxy}/${id}`),
        'one look at each disk’s attachment before attaching it, and no list',
      );
      assert.equal(onProxy('POST').length, diskIds.length);
      assert.deepEqual(
        onProxy('DELETE').sort(),
        diskIds.map((id) => `${proxy}/${id}`),
        'each detach addresses the attachment by its disk id',
      );
      await assertClean(h);
    });

    test('keepSnapshot leaves the snapshot on the engine, frozen at backup time', async () => {
      const manifest = (await h.client.workflow.execute('ovirtSnapshotBackup', {
        taskQueue: h.taskQueue,
        workflowId: `keep-${variant.apiVersion}-${Date.now()}`,
        args: [h.input({ keepSnapshot: true, diskIds: [h.demo.dataDiskId] })],
      })) as OvirtBackupManifest;
      assert.deepEqual(
        manifest.disks.map((d) => d.id),
        [h.demo.dataDiskId],
      );
      const snapshots = await backupSnapshots(h);
      assert.deepEqual(
        snapshots.map((s) => s.id),
        [manifest.snapshot.id],
      );
      await h.state.writeToDisk(h.demo.dataDiskId);
      assert.notEqual(await h.state.diskContentSha256(h.demo.dataDiskId), manifest.disks[0]!.sha256, 'the live disk moved on');
    });
  });
}

describe('ovirtSnapshotBackup on a proxy whose /dev/disk/by-id has no entry for the disks', () => {
  // The copy worker must then go by the attachment's logical_name, the guest's own device name
  // ("/dev/sdb"), looked up in its device folder: here the simulator's folder, which plays the
  // proxy guest's /dev.
  let h: OvirtHarness;
  let emptyById: string;
  beforeAll(async () => {
    emptyById = await mkdtemp(join(tmpdir(), 'no-by-id-'));
    h = await startOvirtHarness({ copy: { deviceByIdDir: emptyById } });
  });
  afterAll(async () => {
    await h?.stop();
    await rm(emptyById, { recursive: true, force: true });
  });

  test('finds each disk by its logical name and copies the snapshot’s bytes', async () => {
    const manifest = await h.execute<OvirtBackupManifest>('ovirtSnapshotBackup', h.input(), 'by-logical-name');
    assert.deepEqual(manifest.disks.map((d) => d.id).sort(), [h.demo.osDiskId, h.demo.dataDiskId].sort());
    for (const disk of manifest.disks) {
      assert.equal(dirname(disk.device), h.dirs.devices, `disk ${disk.id} was read from the guest's device folder`);
      assert.match(basename(disk.device), /^sd[b-z]$/);
      assert.equal(disk.sha256, await h.state.diskContentSha256(disk.id), `SHA-256 of disk ${disk.id}`);
    }
    await assertClean(h);
  });
});
