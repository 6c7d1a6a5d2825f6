/**
 * Finds the block device of an attached disk inside the proxy VM. oVirt gives the disk its id as
 * serial, which udev shows under /dev/disk/by-id (virtio: "virtio-<first 20 chars>", virtio-scsi:
 * "scsi-0QEMU_QEMU_HARDDISK_<serial>"). The fallback is the attachment's logical_name: the guest
 * agent's name for the disk inside this very guest ("/dev/sdb"), so it is read as a device name
 * and looked up in the device folder (/dev here; the simulator's own folder in tests), never as a
 * path of the machine the engine thinks it is. The simulator lays out the same names.
 */
import { access, readdir, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorTypes } from '../../lib/errors';

export interface LocatedDevice {
  path: string;
  via: 'by-id' | 'logical_name';
}

export interface DeviceFolders {
  /** /dev/disk/by-id on a real proxy VM. */
  byIdDir: string;
  /** The guest's /dev, where logical_name's device names live; without it only by-id is used. */
  deviceDir?: string;
}

/** A kernel block device name: letters, then letters or digits (sdb, vdc, xvdaa, nvme0n1). */
const DEVICE_NAME = /^[a-z]+[a-z0-9]*$/;

/**
 * The device name in a logical_name of the form "/dev/<name>", or undefined for anything else (a
 * nested path, "..", a Windows drive name): those are refused rather than followed.
 */
export function guestDeviceName(logicalName: string): string | undefined {
  const m = /^\/dev\/([^/]+)$/.exec(logicalName);
  return m && DEVICE_NAME.test(m[1]!) ? m[1] : undefined;
}

export async function locateDevice(diskId: string, folders: DeviceFolders, logicalName?: string): Promise<LocatedDevice | undefined> {
  const entries = await readdir(folders.byIdDir).catch(() => [] as string[]);
  const serial = diskId.slice(0, 20);
  // Whole-disk entries only: "-part1" entries are partitions of the same disk.
  const candidates = entries.filter((name) => !/-part\d+$/.test(name));
  const exact = candidates.find((name) => name.includes(diskId));
  const bySerial = candidates.find((name) => name.endsWith(serial) || name.endsWith(`_${serial}`));
  const hit = exact ?? bySerial;
  if (hit) return { path: join(folders.byIdDir, hit), via: 'by-id' };
  const device = logicalName !== undefined ? guestDeviceName(logicalName) : undefined;
  if (device !== undefined && folders.deviceDir !== undefined) {
    const path = join(folders.deviceDir, device);
    if (await readable(path)) return { path, via: 'logical_name' };
  }
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

/**
 * The device of an attached disk, or a retryable DeviceNotFound naming where it was looked for:
 * udev may not have created the link yet, so a retry a little later can succeed.
 */
export async function requireDevice(diskId: string, folders: DeviceFolders, logicalName?: string): Promise<LocatedDevice> {
  const device = await locateDevice(diskId, folders, logicalName);
  if (device) return device;
  throw ApplicationFailure.create({
    message: `no device for disk ${diskId} under ${folders.byIdDir}${logicalName ? `, nor for logical_name ${logicalName} (${logicalNameLookup(logicalName, folders.deviceDir)})` : ''}`,
    type: ErrorTypes.deviceNotFound,
  });
}

/** Where a logical_name was looked for, or why it was not, for the DeviceNotFound message. */
function logicalNameLookup(logicalName: string, deviceDir: string | undefined): string {
  const name = guestDeviceName(logicalName);
  if (name === undefined) return 'refused: not a plain device name under /dev';
  if (deviceDir === undefined) return 'not looked up: no device folder configured';
  return `not at ${join(deviceDir, name)}`;
}
