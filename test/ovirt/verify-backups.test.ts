/**
 * Repository checks end to end: back up the demo VM, `verifyBackups` passes and records it; a
 * flipped byte in one image makes it fail (BackupVerificationFailed naming the folder and the file)
 * after recording that too; slices N/T read every file once; `ovirtListBackups` shows the verdict.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { BackupSummary } from '../../activities/copy/restore-types';
import type { OvirtBackupManifest } from '../../contracts/ovirt/results';
import type { VerifyBackupsResult } from '../../contracts/repository/results';
import { ErrorTypes } from '../../lib/errors';
import { ovirtTest } from '../helpers/fixtures';

const test = ovirtTest();

test('a good backup passes the check, a flipped byte fails it naming the folder and the file, and the manifest records both', async ({ h }) => {
  const backup = await h.execute<OvirtBackupManifest>('ovirtSnapshotBackup', h.input());
  const dir = backup.repository.dir;
  const proxy = { proxyVmId: h.demo.proxyVmId };

  const good = await h.execute<VerifyBackupsResult>('verifyBackups', { ...proxy, all: true });
  assert.equal(good.ok, true);
  assert.deepEqual(
    good.backups.map((b) => [b.dir, b.ok, b.filesRead, b.recorded]),
    [[dir, true, backup.disks.length + 1, true]],
  );

  // Slices 1/2 and 2/2 read the backup's files once between them.
  const halves = [
    await h.execute<VerifyBackupsResult>('verifyBackups', { ...proxy, vmId: h.demo.vmId, subset: '1/2' }),
    await h.execute<VerifyBackupsResult>('verifyBackups', { ...proxy, vmId: h.demo.vmId, subset: '2/2' }),
  ];
  assert.equal(
    halves.reduce((n, r) => n + r.backups[0]!.filesRead, 0),
    backup.disks.length + 1,
  );

  const disk = backup.disks[0]!;
  const imagePath = join(h.dirs.repository, dir, basename(disk.path));
  const image = await readFile(imagePath);
  image[Math.floor(image.length / 2)] = image[Math.floor(image.length / 2)]! ^ 0x10;
  await writeFile(imagePath, image);

  const handle = await h.start('verifyBackups', { ...proxy, backup: 'latest', vmId: h.demo.vmId });
  const err = await handle.result().then(
    () => assert.fail('the check should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
  assert.equal(err.cause.type, ErrorTypes.verificationFailed);
  assert.equal(err.cause.nonRetryable, true);
  assert.ok(err.cause.message.includes(dir) && err.cause.message.includes(basename(disk.path)), err.cause.message);
  assert.ok(err.cause.message.includes(disk.sha256), 'names the recorded hash');
  const findings = err.cause.details?.[0] as VerifyBackupsResult;
  assert.deepEqual(
    findings.backups[0]!.bad.map((f) => f.file),
    [basename(disk.path)],
  );

  const manifest = JSON.parse(await readFile(join(h.dirs.repository, dir, 'manifest.json'), 'utf8')) as OvirtBackupManifest;
  const checks = manifest.verifications!.map((v) => [v.by, v.ok]);
  assert.deepEqual(checks[0], ['check', true]);
  assert.deepEqual(checks.at(-1), ['check', false]);
  assert.equal(manifest.verifications!.at(-1)!.workflowId, handle.workflowId);
  assert.match(manifest.verifications!.at(-1)!.summary, new RegExp(basename(disk.path)));
  assert.equal(manifest.disks.length, backup.disks.length, 'the manifest is otherwise the backup’s');

  const listed = await h.execute<BackupSummary[]>('ovirtListBackups', { ...proxy, vmId: h.demo.vmId });
  assert.deepEqual(
    listed.map((b) => [b.dir, b.disks, b.bytes, b.lastVerification?.ok]),
    [[dir, backup.disks.length, backup.disks.reduce((n, d) => n + d.bytes, 0), false]],
  );
});

test('two backups of the VM one after the other (the same minute, most often) land in folders of their own and both check out', async ({ h }) => {
  const first = await h.execute<OvirtBackupManifest>('ovirtSnapshotBackup', h.input());
  const second = await h.execute<OvirtBackupManifest>('ovirtSnapshotBackup', h.input());
  assert.notEqual(first.repository.dir, second.repository.dir);
  for (const b of [first, second]) {
    const checked = await h.execute<VerifyBackupsResult>('verifyBackups', { proxyVmId: h.demo.proxyVmId, backup: b.repository.dir });
    assert.deepEqual(
      checked.backups.map((c) => [c.dir, c.ok]),
      [[b.repository.dir, true]],
    );
  }
});

test('a backup that is not there, or a VM without backups, is bad input before anything is read', async ({ h }) => {
  for (const input of [
    { proxyVmId: h.demo.proxyVmId, backup: 'ovirt/nobody-00000000/nothing' },
    { proxyVmId: h.demo.proxyVmId, vmId: 'no-such-vm' },
  ]) {
    const err = await h.execute('verifyBackups', input).then(
      () => assert.fail('should be refused'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
    assert.equal(err.cause.type, ErrorTypes.invalidInput);
    assert.doesNotMatch(err.cause.message, /\n/);
  }
});
