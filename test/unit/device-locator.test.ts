import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locateDevice } from '../../activities/copy/device-locator';

const diskId = '3b5e1f7a-9c2d-4e8f-a1b3-c5d7e9f1a3b5';

test('finds a virtio-scsi disk by its serial (the disk id cut to 20 characters), not its partitions', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'byid-'));
  await writeFile(join(dir, 'target'), 'x');
  await symlink(join(dir, 'target'), join(dir, `scsi-0QEMU_QEMU_HARDDISK_${diskId.slice(0, 20)}-part1`));
  await symlink(join(dir, 'target'), join(dir, `scsi-0QEMU_QEMU_HARDDISK_${diskId.slice(0, 20)}`));
  assert.deepEqual(await locateDevice(diskId, dir), { path: join(dir, `scsi-0QEMU_QEMU_HARDDISK_${diskId.slice(0, 20)}`), via: 'by-id' });
});

test('finds a virtio disk, and falls back to the logical name from the guest agent', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'byid-'));
  await writeFile(join(dir, `virtio-${diskId.slice(0, 20)}`), 'x');
  assert.equal((await locateDevice(diskId, dir))?.via, 'by-id');
  const empty = await mkdtemp(join(tmpdir(), 'byid-'));
  const dev = join(empty, 'sdb');
  await writeFile(dev, 'x');
  assert.deepEqual(await locateDevice(diskId, join(empty, 'missing'), dev), { path: dev, via: 'logical_name' });
  assert.equal(await locateDevice(diskId, join(empty, 'missing'), join(empty, 'sdz')), undefined);
  await mkdir(join(empty, 'unused'));
});
