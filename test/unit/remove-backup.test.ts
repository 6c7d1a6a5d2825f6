/**
 * Retention's removal of a backup folder (activities/copy/remove-backup.ts): the manifest goes
 * first and is made durable, so a crash at any point leaves an unfinished run, never a backup that
 * looks complete with files missing; a retry finishes the job; nothing but a backup folder is removed.
 */
import { test, vi } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync, readlinkSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeBackup } from '../../activities/copy/remove-backup';
import { listStoredBackups } from '../../activities/copy/backup-store';
import type { CopySettings } from '../../activities/copy/copy-disk';

const DIR = 'ovirt/web-01-6f2a0d3e/20261206T120000-abcd1234';

async function repositoryWithBackup(): Promise<CopySettings> {
  const root = await mkdtemp(join(tmpdir(), 'remove-backup-'));
  await mkdir(join(root, DIR), { recursive: true });
  await writeFile(join(root, DIR, 'disk-1.raw'), Buffer.alloc(4096, 7));
  await writeFile(join(root, DIR, 'vm-config.ovf'), '<ovf/>');
  await writeFile(join(root, DIR, 'manifest.json'), JSON.stringify({ vm: { id: '6f2a0d3e-vm', name: 'web-01' }, completedAt: '2026-12-06T12:00:00Z', disks: [] }));
  return { repositoryRoot: root, deviceByIdDir: '', deviceDir: '', chunkBytes: 1 << 20, maxBytesPerSecond: 0 };
}

test('a crash right after the manifest is gone leaves an unfinished run, not a backup; the retry removes the rest', { skip: process.platform !== 'linux' }, async () => {
  const settings = await repositoryWithBackup();
  const folder = join(settings.repositoryRoot, DIR);
  const probe = await open(tmpdir(), 'r');
  const proto = Object.getPrototypeOf(probe) as { sync: (this: { fd: number }) => Promise<void> };
  await probe.close();
  const original = proto.sync;
  const seen: Array<{ manifest: boolean; image: boolean }> = [];
  // The first durable point of the removal is the folder's fsync: the process "dies" there.
  const spy = vi.spyOn(proto, 'sync').mockImplementation(function (this: { fd: number }) {
    if (readlinkSync(`/proc/self/fd/${this.fd}`) === folder && !seen.length) {
      seen.push({ manifest: existsSync(join(folder, 'manifest.json')), image: existsSync(join(folder, 'disk-1.raw')) });
      return Promise.reject(new Error('killed'));
    }
    return original.call(this);
  });
  try {
    await assert.rejects(removeBackup(settings, { dir: DIR }), /killed/);
    assert.deepEqual(seen, [{ manifest: false, image: true }], 'the manifest was removed, and made durable, before any other file');
    assert.deepEqual(await listStoredBackups(settings.repositoryRoot), [], 'what is left is no backup');
    assert.deepEqual(await removeBackup(settings, { dir: DIR }), { dir: DIR, removed: true });
    assert.equal(existsSync(folder), false);
    assert.equal(existsSync(join(settings.repositoryRoot, 'ovirt/web-01-6f2a0d3e')), true, 'the VM folder stays');
    assert.deepEqual(await removeBackup(settings, { dir: `${DIR}/` }), { dir: DIR, removed: false }, 'gone already: nothing to do');
  } finally {
    spy.mockRestore();
    await rm(settings.repositoryRoot, { recursive: true, force: true });
  }
});

test('only a backup folder is removed: not the VM folder, the provider folder, or anything outside', async () => {
  const settings = await repositoryWithBackup();
  try {
    for (const dir of ['ovirt/web-01-6f2a0d3e', 'ovirt', '.', '', '../elsewhere/x', 'ovirt/web-01-6f2a0d3e/../../..', `${DIR}/../..`, 'other/a/b']) {
      await assert.rejects(removeBackup(settings, { dir }), /is not a backup folder|escapes the repository root/, dir);
    }
    assert.equal(existsSync(join(settings.repositoryRoot, DIR, 'manifest.json')), true);
  } finally {
    await rm(settings.repositoryRoot, { recursive: true, force: true });
  }
});
