/**
 * What the copy worker reports written survives a crash of the proxy VM: the config and manifest
 * files are fsynced before their rename and their folder after it, and so is a disk image's folder
 * after the image's rename. Checked by watching which paths FileHandle.sync is called on.
 */
import { test, vi } from 'vitest';
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { writeRepositoryFile } from '../../activities/copy/repository';
import { copyDiskToRepository, type CopyDiskInput, type CopyDiskResult, type CopySettings } from '../../activities/copy/copy-disk';

async function watchSyncs(): Promise<{ synced: string[]; restore: () => void }> {
  const probe = await open(tmpdir(), 'r');
  const proto = Object.getPrototypeOf(probe) as { sync: (this: { fd: number }) => Promise<void> };
  await probe.close();
  const synced: string[] = [];
  const original = proto.sync;
  const spy = vi.spyOn(proto, 'sync').mockImplementation(function (this: { fd: number }) {
    synced.push(readlinkSync(`/proc/self/fd/${this.fd}`));
    return original.call(this);
  });
  return { synced, restore: () => spy.mockRestore() };
}

test('a repository file is fsynced before its rename and its folder after it', { skip: process.platform !== 'linux' }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'repo-durable-'));
  const watch = await watchSyncs();
  try {
    const written = await writeRepositoryFile(root, 'ovirt/vm-1/run-1', 'manifest.json', '{"ok":true}');
    assert.equal(await readFile(written.path, 'utf8'), '{"ok":true}');
    assert.ok(watch.synced.includes(`${written.path}.tmp`), `the file was fsynced before the rename: ${watch.synced.join(', ')}`);
    assert.ok(watch.synced.includes(dirname(written.path)), `its folder was fsynced: ${watch.synced.join(', ')}`);
  } finally {
    watch.restore();
    await rm(root, { recursive: true, force: true });
  }
});

test("a disk image's folder is fsynced after the image is renamed into place", { skip: process.platform !== 'linux' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'copy-durable-'));
  const diskId = 'dddddddd-0001-4c8e-9a10-00000000d00d';
  await mkdir(join(dir, 'by-id'));
  await writeFile(join(dir, 'device.img'), Buffer.alloc(100_000, 7));
  await symlink(join(dir, 'device.img'), join(dir, 'by-id', `scsi-0QEMU_QEMU_HARDDISK_${diskId}`));
  const settings: CopySettings = { repositoryRoot: join(dir, 'repo'), deviceByIdDir: join(dir, 'by-id'), chunkBytes: 64 * 1024, maxBytesPerSecond: 0 };
  const input: CopyDiskInput = { diskId, expectedBytes: 100_000, dir: 'vm/run', fileName: 'disk.raw' };
  const watch = await watchSyncs();
  try {
    const result: CopyDiskResult = await new MockActivityEnvironment({ attempt: 1 }).run((s: CopySettings, i: CopyDiskInput) => copyDiskToRepository(s, i), settings, input);
    assert.ok(watch.synced.includes(`${result.path}.part`), `the image was fsynced: ${watch.synced.join(', ')}`);
    assert.ok(watch.synced.includes(dirname(result.path)), `its folder was fsynced after the rename: ${watch.synced.join(', ')}`);
  } finally {
    watch.restore();
    await rm(dir, { recursive: true, force: true });
  }
});
