import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestDeviceName, locateDevice } from '../../activities/copy/device-locator';

const diskId = '3b5e1f7a-9c2d-4e8f-a1b3-c5d7e9f1a3b5';

/** A guest's /dev in a temporary folder: `by-id/` and the kernel's device nodes beside it. */
async function guestDev(): Promise<{ dev: string; byId: string }> {
  const dev = await mkdtemp(join(tmpdir(), 'guest-dev-'));
  await mkdir(join(dev, 'by-id'));
  return { dev, byId: join(dev, 'by-id') };
}

test('finds a virtio-scsi disk by its serial (the disk id cut to 20 characters), not its partitions', async () => {
  const { dev, byId } = await guestDev();
  await writeFile(join(dev, 'target'), 'x');
  await symlink(join(dev, 'target'), join(byId, `scsi-0QEMU_QEMU_HARDDISK_${diskId.slice(0, 20)}-part1`));
  await symlink(join(dev, 'target'), join(byId, `scsi-0QEMU_QEMU_HARDDISK_${diskId.slice(0, 20)}`));
  assert.deepEqual(await locateDevice(diskId, { byIdDir: byId, deviceDir: dev }, '/dev/sdb'), {
    path: join(byId, `scsi-0QEMU_QEMU_HARDDISK_${diskId.slice(0, 20)}`),
    via: 'by-id',
  });
});

test('finds a virtio disk by its serial', async () => {
  const { byId } = await guestDev();
  await writeFile(join(byId, `virtio-${diskId.slice(0, 20)}`), 'x');
  assert.equal((await locateDevice(diskId, { byIdDir: byId }))?.via, 'by-id');
});

test('maps the engine’s logical_name (the guest’s /dev/sdX) into the device folder when by-id has no entry', async () => {
  const { dev, byId } = await guestDev();
  await writeFile(join(dev, 'sdb'), 'x');
  assert.deepEqual(await locateDevice(diskId, { byIdDir: byId, deviceDir: dev }, '/dev/sdb'), { path: join(dev, 'sdb'), via: 'logical_name' });
  // A name the guest does not have (yet): nothing found, so the copy retries.
  assert.equal(await locateDevice(diskId, { byIdDir: byId, deviceDir: dev }, '/dev/sdz'), undefined);
  // No device folder configured: only by-id is trusted.
  assert.equal(await locateDevice(diskId, { byIdDir: byId }, '/dev/sdb'), undefined);
});

test('never reads a logical_name as a path of this machine: anything but a plain device name under /dev is refused', async () => {
  const { dev, byId } = await guestDev();
  // Files a crafted or host-side logical_name could point at, reachable from the device folder.
  await writeFile(join(dev, 'secret'), 'x');
  await mkdir(join(dev, 'mapper'));
  await writeFile(join(dev, 'mapper', 'vg-lv'), 'x');
  const hostPath = join(dev, 'secret');
  for (const name of [hostPath, '/dev/../secret', '/dev/mapper/vg-lv', 'sdb', '/dev/', '/dev/.', '/dev/..', '/dev/sdb/', '/dev/sd b', '/dev//sdb', '\\\\.\\PHYSICALDRIVE1']) {
    assert.equal(guestDeviceName(name), undefined, name);
    assert.equal(await locateDevice(diskId, { byIdDir: byId, deviceDir: dev }, name), undefined, name);
  }
  for (const [name, device] of [
    ['/dev/sdb', 'sdb'],
    ['/dev/vdc', 'vdc'],
    ['/dev/nvme0n1', 'nvme0n1'],
    ['/dev/xvdaa', 'xvdaa'],
  ] as const) {
    assert.equal(guestDeviceName(name), device, name);
  }
});
