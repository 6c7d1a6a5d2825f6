/**
 * Real bytes behind the simulated disks: deterministic images in the data directory, frozen copies
 * for snapshots, and device links that make an attached snapshot disk visible to the proxy VM.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createReadStream, lstatSync, mkdirSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { copyFile, mkdir, open, rename, rm, stat, symlink, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { DiskInterface } from './state';

const CHUNK = 1 << 20;

/** Writes `size` bytes of AES-256-CTR keystream (key derived from the disk id) to `path`, atomically. */
export async function generateImage(path: string, diskId: string, size: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const key = createHash('sha256').update(`ovirt-sim-disk-key:${diskId}`).digest();
  const iv = createHash('sha256').update(`ovirt-sim-disk-iv:${diskId}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const zeros = Buffer.alloc(CHUNK);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    for (let offset = 0; offset < size; offset += CHUNK) {
      await handle.write(cipher.update(zeros.subarray(0, Math.min(CHUNK, size - offset))));
    }
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}

export async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Freezes a disk's content for a snapshot. */
export async function copyImage(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  await copyFile(source, target);
}

/** A region a guest write covers; with `seed`, the bytes written are that seed's keystream (the same every time). */
export interface WrittenRegion {
  offset: number;
  bytes: number;
  seed?: string;
}

/**
 * A guest "write": overwrites one 4 KiB block at a random offset with random bytes, or, given a
 * region, its `bytes` from `offset` (cut at the disk's end). Returns the range it wrote.
 */
export async function scribble(path: string, size: number, region?: WrittenRegion): Promise<{ offset: number; length: number }> {
  const block = Math.min(4096, size);
  const blocks = Math.max(1, Math.floor(size / block));
  const offset = region ? region.offset : (randomBytes(4).readUInt32BE(0) % blocks) * block;
  const length = region ? Math.max(0, Math.min(region.bytes, size - region.offset)) : block;
  const seeded = region?.seed === undefined ? undefined : createCipheriv('aes-256-ctr', createHash('sha256').update(`ovirt-sim-write:${region.seed}`).digest(), Buffer.alloc(16));
  const handle = await open(path, 'r+');
  try {
    for (let done = 0; done < length; done += CHUNK) {
      const n = Math.min(CHUNK, length - done);
      await handle.write(seeded ? seeded.update(Buffer.alloc(n)) : randomBytes(n), 0, n, offset + done);
    }
  } finally {
    await handle.close();
  }
  return { offset, length };
}

export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

export function removeQuietlySync(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** The name udev gives a QEMU disk under /dev/disk/by-id: the disk id (its serial) cut to 20 characters. */
export function byIdName(diskId: string, iface: DiskInterface): string {
  const serial = diskId.slice(0, 20);
  return iface === 'virtio' ? `virtio-${serial}` : `scsi-0QEMU_QEMU_HARDDISK_${serial}`;
}

/** sda, sdb, …, sdz, sdaa, … */
function kernelName(prefix: string, index: number): string {
  let name = '';
  let n = index;
  do {
    name = String.fromCharCode(97 + (n % 26)) + name;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return prefix + name;
}

const MANAGED_LINK = /^(sd|vd)[a-z]+$/;
const MANAGED_BY_ID = /^(scsi-0QEMU_QEMU_HARDDISK_|virtio-)/;

/**
 * The proxy VM's /dev, as a directory of symlinks. The kernel names in use are kept in memory (the
 * directory is the simulator's own), so a plug does not stat every name below its own: with
 * hundreds of disks attached that scan was most of the simulator's time in the throughput bench.
 * Links are made and removed with asynchronous calls, off the event loop that serves every request.
 */
export class DeviceDirectory {
  private readonly inUse = new Set<string>();

  constructor(readonly root: string) {}

  /** Creates the directory and removes links left over from an earlier run. */
  init(): void {
    this.inUse.clear();
    mkdirSync(join(this.root, 'by-id'), { recursive: true });
    for (const name of readdirSync(this.root)) {
      if (!MANAGED_LINK.test(name)) continue;
      // Something else the simulator did not make holds the name: leave it, and do not hand it out.
      if (isSymlink(join(this.root, name))) unlinkSync(join(this.root, name));
      else this.inUse.add(name);
    }
    for (const name of readdirSync(join(this.root, 'by-id'))) {
      if (MANAGED_BY_ID.test(name) && isSymlink(join(this.root, 'by-id', name))) unlinkSync(join(this.root, 'by-id', name));
    }
  }

  /**
   * Plugs an image in: `<root>/sdX` (or vdX for virtio) → the image, and `<root>/by-id/<name>` → `../sdX`.
   * `reserved` holds kernel names the guest already uses (its boot disk). The name is taken before
   * the first await, so concurrent plugs get different names.
   */
  async plug(diskId: string, iface: DiskInterface, image: string, reserved: Set<string>): Promise<{ logicalName: string; paths: string[] }> {
    const prefix = iface === 'virtio' ? 'vd' : 'sd';
    let index = 0;
    let device: string;
    for (;;) {
      let name = kernelName(prefix, index);
      while (reserved.has(name) || this.inUse.has(name)) name = kernelName(prefix, ++index);
      this.inUse.add(name);
      device = join(this.root, name);
      try {
        await symlink(image, device);
        break;
      } catch (err) {
        // A node that appeared since init() holds the name: keep it marked, never touch it, try the next.
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        this.inUse.delete(name);
        throw err;
      }
    }
    const byId = join(this.root, 'by-id', byIdName(diskId, iface));
    try {
      await rm(byId, { force: true });
      await symlink(join('..', basename(device)), byId);
    } catch (err) {
      await this.unplug([device]);
      throw err;
    }
    // logical_name is the guest's own name for the disk (the guest agent reports it), not our folder.
    return { logicalName: `/dev/${basename(device)}`, paths: [byId, device] };
  }

  async unplug(paths: string[]): Promise<void> {
    for (const path of paths) {
      try {
        await unlink(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      if (dirname(path) === this.root) this.inUse.delete(basename(path));
    }
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** A new disk's image: `size` bytes of zeros, sparse on the host. */
export async function createBlankImage(path: string, size: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, 'w');
  try {
    await handle.truncate(size);
  } finally {
    await handle.close();
  }
}
