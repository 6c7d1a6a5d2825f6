/**
 * What a restore makes of a backup before it touches the engine: which disks, in what format, which
 * one boots, and what everything is called. Pure (string work on the manifest and the OVF), so the
 * workflow stays deterministic.
 */
import type { FoundBackup } from '../activities/copy/restore-types';
import { OVIRT_VM_NAME_MAX } from '../contracts/ovirt/restore-input';

export interface DiskPlan {
  sourceDiskId: string;
  /** The source disk's name (its alias), or its id when the backup does not record one. */
  sourceName: string;
  fileName: string;
  bytes: number;
  sha256: string;
  provisionedSize: number;
  format: 'raw' | 'cow';
  sparse: boolean;
  /** The source VM booted from this disk (as its OVF says). */
  bootable: boolean;
}

interface OvfDisk {
  diskId: string;
  format?: 'raw' | 'cow';
  sparse?: boolean;
  boot: boolean;
  bootOrder?: number;
}

/** The disks of an OVF's DiskSection, in its order, with what it says of format, allocation and boot. */
export function ovfDisks(ovf: string): OvfDisk[] {
  const bootOrders = new Map<string, number>();
  for (const [, item] of ovf.matchAll(/<Item\b[^>]*>([\s\S]*?)<\/Item>/g)) {
    const device = /<DeviceId>\s*([^<\s]+)\s*<\/DeviceId>/.exec(item!)?.[1];
    const order = Number(/<BootOrder>\s*(\d+)\s*<\/BootOrder>/.exec(item!)?.[1] ?? 0);
    if (device && order > 0) bootOrders.set(device, order);
  }
  const disks: OvfDisk[] = [];
  for (const [, attributes] of ovf.matchAll(/<Disk\b([^>]*)>/g)) {
    const a = Object.fromEntries([...attributes!.matchAll(/([\w:.-]+)="([^"]*)"/g)].map(([, k, v]) => [k!, v!]));
    // The engine's fileRef is "<disk id>/<image id>"; the disk id is what the manifest knows.
    const diskId = a['ovf:fileRef']?.split('/')[0];
    if (!diskId) continue;
    const volumeFormat = a['ovf:volume-format']?.toUpperCase();
    const volumeType = a['ovf:volume-type']?.toLowerCase();
    disks.push({
      diskId,
      format: volumeFormat === 'COW' ? 'cow' : volumeFormat === 'RAW' ? 'raw' : undefined,
      sparse: volumeType === 'sparse' ? true : volumeType === 'preallocated' ? false : undefined,
      boot: a['ovf:boot']?.toLowerCase() === 'true',
      bootOrder: bootOrders.get(diskId),
    });
  }
  return disks;
}

/** The disk the VM boots from: marked boot in the OVF, else first in its boot order, else its first disk. */
export function ovfBootDisk(disks: OvfDisk[]): string | undefined {
  const ordered = disks.filter((d) => d.bootOrder !== undefined).sort((x, y) => x.bootOrder! - y.bootOrder!);
  return (disks.find((d) => d.boot) ?? ordered[0] ?? disks[0])?.diskId;
}

/** The backup's disks to restore (all, or `diskIds`, in the backup's order), or the ids the backup does not hold. */
export function planDisks(found: FoundBackup, diskIds?: string[]): { plan: DiskPlan[] } | { unknown: string[] } {
  const unknown = (diskIds ?? []).filter((id) => !found.images.some((i) => i.diskId === id));
  if (unknown.length) return { unknown };
  const fromOvf = ovfDisks(found.ovf);
  const bootDisk = ovfBootDisk(fromOvf);
  const plan = found.images
    .filter((image) => !diskIds || diskIds.includes(image.diskId))
    .map((image): DiskPlan => {
      const recorded = found.manifest.disks.find((d) => d.id === image.diskId);
      const ovf = fromOvf.find((d) => d.diskId === image.diskId);
      const format = asFormat(image.format ?? recorded?.format) ?? ovf?.format ?? (image.fileName.endsWith('.qcow2') ? 'cow' : 'raw');
      return {
        sourceDiskId: image.diskId,
        sourceName: image.name ?? recorded?.name ?? image.diskId,
        fileName: image.fileName,
        bytes: image.bytes,
        sha256: image.sha256,
        provisionedSize: image.provisionedSize ?? recorded?.provisionedSize ?? image.bytes,
        format,
        // qcow2 is thin by nature; a raw disk is preallocated unless the OVF says it was thin.
        sparse: ovf?.sparse ?? format === 'cow',
        bootable: image.diskId === bootDisk,
      };
    });
  return { plan };
}

function asFormat(format: string | undefined): 'raw' | 'cow' | undefined {
  return format === 'raw' || format === 'cow' ? format : undefined;
}

/** yyyymmdd-hhmm of an ISO time (the run's start, in workflow time). */
export function stamp(iso: string): string {
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 16).replace(':', '')}`;
}

/** `<source VM>-<what>-<yyyymmdd-hhmm>`, within the engine's name rules (the source part is cut, never the mark). */
export function derivedVmName(sourceVmName: string, what: 'restored' | 'drill', startedAt: string): string {
  const suffix = `-${what}-${stamp(startedAt)}`;
  const source = sourceVmName.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, OVIRT_VM_NAME_MAX - suffix.length) || 'vm';
  return `${source}${suffix}`;
}

/** `<target>_<disk>`, the disk's name without the source VM's prefix (web-01_Disk1 → web-01-restored-…_Disk1). */
export function restoredDiskName(target: string, sourceVmName: string, sourceDiskName: string): string {
  const own = sourceDiskName.startsWith(`${sourceVmName}_`) ? sourceDiskName.slice(sourceVmName.length + 1) : sourceDiskName;
  return `${target}_${own}`;
}

/** The one sentence of a hash mismatch: the file and both hashes. */
export function mismatchMessage(what: string, sha256: string, manifestSha256: string): string {
  return `${what}: SHA-256 ${sha256} does not match the manifest's ${manifestSha256}`;
}
