/**
 * The restore, end to end against the simulator: a backup of the demo VM comes back as a new VM
 * whose disks hold the source disks' bytes at backup time; a drill proves a good backup and catches
 * a flipped byte, leaving no sandbox either way; bad input is refused before any vendor change.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { open, readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { OvirtBackupManifest, OvirtRestoreDrillResult, OvirtRestoreResult } from '../../contracts/ovirt/results';
import { startOvirtHarness, type OvirtHarness } from '../helpers/ovirt-harness';
import { assertClean } from '../helpers/ovirt-inspect';

/** The message of a failed run, its cause's message included (the one line a user reads). */
async function failureOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, String(err));
    const cause = err.cause as (Error & { cause?: Error }) | undefined;
    return `${cause?.message ?? ''} ${cause?.cause?.message ?? ''}`;
  }
  assert.fail('the run was expected to fail');
}

/** VMs and disks on the engine that a restore made (they carry a restore tag), by name. */
function restoredObjects(h: OvirtHarness): { vms: string[]; disks: string[] } {
  return {
    vms: [...h.state.vms.values()].filter((vm) => vm.description.includes('[backup-orchestrator restore ')).map((vm) => vm.name),
    disks: [...h.state.disks.values()].filter((d) => d.description.includes('[backup-orchestrator restore ')).map((d) => d.name),
  };
}

/** Vendor calls that change something (what "before any vendor change" rules out). */
function changes(h: OvirtHarness): string[] {
  return h.simulator.calls
    .all()
    .filter((c) => c.method !== 'GET' && !c.path.includes('/sso/'))
    .map((c) => `${c.method} ${c.path}`);
}

for (const variant of [
  { apiVersion: 'v4', auth: 'sso' },
  { apiVersion: 'v3', auth: 'basic' },
] as const) {
  describe(`ovirtRestore and ovirtRestoreDrill end to end (${variant.apiVersion})`, () => {
    let h: OvirtHarness;
    let manifest: OvirtBackupManifest;
    const restoreInput = (overrides: Record<string, unknown> = {}) => h.input({ backup: 'latest', cluster: h.demo.clusterName, ...overrides });
    let n = 0;
    const id = (what: string) => `${what}-${variant.apiVersion}-${Date.now()}-${++n}`;

    beforeAll(async () => {
      h = await startOvirtHarness(variant);
      manifest = (await h.client.workflow.execute('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: id('backup'), args: [h.input()] })) as OvirtBackupManifest;
      // The guest writes on after the backup: a restore must bring back the bytes of backup time.
      for (const disk of manifest.disks) await h.state.writeToDisk(disk.id);
    });
    afterAll(async () => h?.stop());

    test('the latest backup comes back as a new VM whose disks hold the source disks’ bytes at backup time', async () => {
      const result = (await h.client.workflow.execute('ovirtRestore', {
        taskQueue: h.taskQueue,
        workflowId: id('restore'),
        args: [restoreInput({ vmName: `web-01-back-${variant.apiVersion}` })],
      })) as OvirtRestoreResult;

      assert.equal(result.backup.dir, manifest.repository.dir);
      assert.equal(result.vm?.name, `web-01-back-${variant.apiVersion}`);
      const vm = h.state.getVm(result.vm!.id);
      assert.equal(vm.status, 'down', 'the new VM is created down and unlocked');
      assert.equal(result.disks.length, manifest.disks.length);
      for (const backedUp of manifest.disks) {
        const restored = result.disks.find((d) => d.sourceDiskId === backedUp.id);
        assert.ok(restored, `disk ${backedUp.id} restored`);
        assert.notEqual(restored.diskId, backedUp.id, 'a new disk, not the source');
        assert.equal(await h.state.diskContentSha256(restored.diskId), backedUp.sha256, `the new disk ${restored.name} holds the backed-up bytes`);
        assert.notEqual(await h.state.diskContentSha256(backedUp.id), backedUp.sha256, 'the source moved on since the backup');
        assert.equal(restored.sha256, backedUp.sha256);
      }
      const attached = h.state.attachmentsOf(result.vm!.id);
      assert.deepEqual(attached.map((a) => a.diskId).sort(), result.disks.map((d) => d.diskId).sort(), 'the restored disks are attached to the new VM');
      const boot = attached.filter((a) => a.bootable).map((a) => a.diskId);
      assert.deepEqual(boot, [result.disks.find((d) => d.sourceDiskId === h.demo.osDiskId)!.diskId], 'the OS disk is the boot disk');
      await assertClean({ ...h, engine: h.engine });
    });

    test('disksOnly restores floating disks, detached from the proxy, and no VM', async () => {
      const before = h.state.vms.size;
      const result = (await h.client.workflow.execute('ovirtRestore', {
        taskQueue: h.taskQueue,
        workflowId: id('disks-only'),
        args: [restoreInput({ disksOnly: true, cluster: undefined, diskIds: [h.demo.dataDiskId] })],
      })) as OvirtRestoreResult;
      assert.equal(result.vm, undefined);
      assert.equal(h.state.vms.size, before);
      assert.equal(result.disks.length, 1);
      const disk = result.disks[0]!;
      assert.equal(await h.state.diskContentSha256(disk.diskId), manifest.disks.find((d) => d.id === h.demo.dataDiskId)!.sha256);
      assert.equal(h.state.attachments.filter((a) => a.diskId === disk.diskId).length, 0, 'floating: attached to nothing');
    });

    test('a drill against a good backup passes, records it on the backup, and leaves no sandbox', async () => {
      const before = restoredObjects(h);
      const result = (await h.client.workflow.execute('ovirtRestoreDrill', { taskQueue: h.taskQueue, workflowId: id('drill'), args: [restoreInput({ boot: true })] })) as OvirtRestoreDrillResult;
      assert.equal(result.verification.ok, true);
      assert.equal(result.sandbox.booted, true);
      assert.match(result.sandbox.vmName, /drill/);
      for (const d of result.disks) assert.equal(d.readBackSha256, d.manifestSha256);
      assert.deepEqual(restoredObjects(h), before, 'the sandbox VM and its disks are gone');
      assert.equal([...h.state.vms.values()].filter((vm) => vm.name === result.sandbox.vmName).length, 0);
      await assertClean({ ...h, engine: h.engine });
      const stored = JSON.parse(await readFile(manifest.repository.manifestPath!, 'utf8')) as { verifications?: Array<{ by: string; ok: boolean }> };
      assert.ok(
        stored.verifications?.some((v) => v.by === 'drill' && v.ok),
        'the manifest records the passing drill',
      );
    });

    test('a drill against a backup with one flipped byte fails, names the disk, and leaves no sandbox', async () => {
      // A backup of its own, so the flipped byte spoils no other test's backup.
      const spoiled = (await h.client.workflow.execute('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: id('backup-to-spoil'), args: [h.input()] })) as OvirtBackupManifest;
      const victim = spoiled.disks.find((d) => d.id === h.demo.dataDiskId)!;
      const fh = await open(victim.path, 'r+');
      const byte = Buffer.alloc(1);
      await fh.read(byte, 0, 1, 4096);
      byte[0] = byte[0]! ^ 0xff;
      await fh.write(byte, 0, 1, 4096);
      await fh.close();
      const before = restoredObjects(h);

      const message = await failureOf(
        h.client.workflow.execute('ovirtRestoreDrill', { taskQueue: h.taskQueue, workflowId: id('drill-spoiled'), args: [restoreInput({ backup: spoiled.repository.dir })] }),
      );
      assert.match(message, new RegExp(victim.id.slice(0, 8)), `the failure names the disk: ${message}`);
      assert.deepEqual(restoredObjects(h), before, 'no sandbox VM or disk is left');
      await assertClean({ ...h, engine: h.engine });
      const stored = JSON.parse(await readFile(join(h.dirs.repository, spoiled.repository.dir, 'manifest.json'), 'utf8')) as { verifications?: Array<{ by: string; ok: boolean }> };
      assert.ok(
        stored.verifications?.some((v) => v.by === 'drill' && !v.ok),
        'the manifest records the failed drill',
      );
    });

    describe('bad input: one line, before any vendor change', () => {
      const refusals: Array<[string, (h: OvirtHarness) => Promise<Record<string, unknown>>, RegExp]> = [
        ['an unknown backup', async () => ({ backup: 'ovirt/no-such-vm/20260101T000000-deadbeef' }), /no-such-vm|not found|no backup/i],
        ['a VM without backups', async (h) => ({ vmId: h.demo.proxyVmId }), /has no complete backup/],
        ['a name in use', async (h) => ({ vmName: h.demo.vmName }), /already|in use|exists/i],
        ['an unknown cluster', async () => ({ cluster: 'no-such-cluster' }), /no-such-cluster/],
        ['an unknown storage domain', async () => ({ storageDomain: 'no-such-domain' }), /no-such-domain/],
        ['a disk id not in the backup', async (h) => ({ diskIds: [h.demo.lunDiskId] }), new RegExp(OVIRT_LUN_PREFIX)],
      ];
      for (const [what, overrides, pattern] of refusals) {
        test(what, async () => {
          h.simulator.calls.clear();
          const message = await failureOf(h.client.workflow.execute('ovirtRestore', { taskQueue: h.taskQueue, workflowId: id('refused'), args: [restoreInput(await overrides(h))] }));
          assert.match(message, pattern);
          assert.ok(!message.trim().includes('\n'), `one line: ${message}`);
          assert.deepEqual(changes(h), [], `no vendor change for ${what}`);
        });
      }

      test('a manifest whose image is missing, or truncated', async () => {
        for (const spoil of ['missing', 'truncated'] as const) {
          const backup = (await h.client.workflow.execute('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: id(`backup-${spoil}`), args: [h.input()] })) as OvirtBackupManifest;
          const image = backup.disks[0]!.path;
          if (spoil === 'missing') await import('node:fs/promises').then((fs) => fs.rm(image));
          else await truncate(image, 4096);
          h.simulator.calls.clear();
          const message = await failureOf(
            h.client.workflow.execute('ovirtRestore', { taskQueue: h.taskQueue, workflowId: id(`restore-${spoil}`), args: [restoreInput({ backup: backup.repository.dir })] }),
          );
          assert.match(message, new RegExp(backup.disks[0]!.id), `${spoil}: names the image: ${message}`);
          assert.deepEqual(changes(h), [], `${spoil}: no vendor change`);
        }
      });

      test('a full storage domain', async () => {
        h.state.setStorageDomainFree(h.demo.storageDomainId, 1024);
        try {
          h.simulator.calls.clear();
          const message = await failureOf(h.client.workflow.execute('ovirtRestore', { taskQueue: h.taskQueue, workflowId: id('full'), args: [restoreInput({ backup: manifest.repository.dir })] }));
          assert.match(message, new RegExp(h.demo.storageDomainName));
          assert.deepEqual(changes(h), []);
        } finally {
          h.state.setStorageDomainFree(h.demo.storageDomainId, 500 * 1024 ** 3);
        }
      });
    });
  });
}

const OVIRT_LUN_PREFIX = 'a1d15c0e-0004';
