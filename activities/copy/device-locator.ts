/**
 * Finds the block device of an attached disk inside the proxy VM. oVirt gives the disk its id as
 * serial, which udev shows under /dev/disk/by-id (virtio: "virtio-<first 20 chars>", virtio-scsi:
 * "scsi-0QEMU_QEMU_HARDDISK_<serial>"); the attachment's logical_name (from the guest agent) is
 * the fallback. The simulator lays out the same names under a folder of its own.
 */
import { access, readdir, constants } from 'node:fs/promises';
import { join } from 'node:path';

export interface LocatedDevice {
  path: string;
  via: 'by-id' | 'logical_name';
}

export async function locateDevice(diskId: string, byIdDir: string, logicalName?: string): Promise<LocatedDevice | undefined> {
  const entries = await readdir(byIdDir).catch(() => [] as string[]);
  const serial = diskId.slice(0, 20);
  // Whole-disk entries only: "-part1" entries are partitions of the same disk.
  const candidates = entries.filter((name) => !/-part\d+$/.test(name));
  const exact = candidates.find((name) => name.includes(diskId));
  const bySerial = candidates.find((name) => name.endsWith(serial) || name.endsWith(`_${serial}`));
  const hit = exact ?? bySerial;
  if (hit) return { path: join(byIdDir, hit), via: 'by-id' };
  if (logicalName && (await readable(logicalName))) return { path: logicalName, via: 'logical_name' };
  return undefined;
}

async function readable(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
