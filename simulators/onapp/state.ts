/**
 * The simulated OnApp Control Panel: virtual servers, their disks, and backups that are built over
 * time. Transitions (built, restore finished) are computed from the simulated clock when read; no timers run.
 */
import { randomBytes } from 'node:crypto';
import type { SimClock } from '../framework/clock';
import { SimState } from '../framework/state';

export const ONAPP_DEMO = {
  vmId: 101,
  vmIdentifier: 'vs7k2m9q4x1c3b',
  vmLabel: 'shop-web-01',
  primaryDiskId: 501,
  swapDiskId: 502,
  dataDiskId: 503,
  /** A second server with a couple of finished backups, for listings. */
  otherVmId: 102,
  otherVmLabel: 'shop-db-01',
  otherDiskId: 511,
  userId: 7,
} as const;

export class OnappFault extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[] | Record<string, string[]>,
  ) {
    super(Array.isArray(errors) ? errors.join('; ') : Object.values(errors).flat().join('; '));
  }
}

export const notFound = (what: string) => new OnappFault(404, [`${what} not found`]);
const unprocessable = (message: string) => new OnappFault(422, { base: [message] });

export interface VirtualServer {
  id: number;
  identifier: string;
  label: string;
  hostname: string;
  booted: boolean;
  operatingSystem: string;
  operatingSystemDistro: string;
  templateId: number;
  memoryMb: number;
  restoringUntil?: number;
}

export interface Disk {
  id: number;
  vmId: number;
  label: string;
  sizeGb: number;
  primary: boolean;
  isSwap: boolean;
}

export interface Backup {
  id: number;
  identifier: string;
  backupType: 'normal' | 'incremental';
  targetType: 'Disk' | 'VirtualMachine';
  targetId: number;
  vmId: number;
  note: string | null;
  createdAt: number;
  updatedAt: number;
  /** When the build finishes; built_at then. */
  builtAtMs: number;
  sizeKb: number;
  restoringUntil?: number;
  backupServerId: number | null;
}

export interface OnappStateOptions {
  clock?: SimClock;
  /** How long a backup takes to build; default 3000 ms. */
  buildMs: number;
  /** How long a restore keeps the backup and server locked; default 1500 ms. */
  restoreMs: number;
}

/** The fields of a backup as the API shows them, in Rails' types. */
export interface BackupView {
  id: number;
  allowed_hot_migrate: boolean;
  allowed_swap: boolean;
  allow_resize_without_reboot: boolean;
  backup_server_id: number | null;
  backup_size: number;
  backup_type: 'normal' | 'incremental';
  built: boolean;
  built_at: string | null;
  created_at: string;
  data_store_type: string | null;
  identifier: string;
  initiated: string;
  iqn: string | null;
  locked: boolean;
  min_disk_size: number | null;
  min_memory_size: number | null;
  note: string | null;
  operating_system: string;
  operating_system_distro: string;
  target_id: number;
  target_type: 'Disk' | 'VirtualMachine';
  template_id: number | null;
  updated_at: string;
  user_id: number;
  image_type: string | null;
  marked_for_delete: boolean;
  volume_id: number | null;
  disk_id: number | null;
}

/** Rails' JSON/XML date form: seconds, UTC offset. */
export function railsDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', '+00:00');
}

export class OnappState extends SimState<OnappStateOptions> {
  servers = new Map<number, VirtualServer>();
  disks = new Map<number, Disk>();
  backups = new Map<number, Backup>();
  private nextBackupId = 9001;

  protected restoreInventory(): void {
    this.servers.clear();
    this.disks.clear();
    this.backups.clear();
    this.nextBackupId = 9001;
    const d = ONAPP_DEMO;
    this.servers.set(d.vmId, {
      id: d.vmId,
      identifier: d.vmIdentifier,
      label: d.vmLabel,
      hostname: 'shop-web-01.example.com',
      booted: true,
      operatingSystem: 'linux',
      operatingSystemDistro: 'ubuntu',
      templateId: 12,
      memoryMb: 2048,
    });
    this.servers.set(d.otherVmId, {
      id: d.otherVmId,
      identifier: 'vs3n8p0r6t2w5y',
      label: d.otherVmLabel,
      hostname: 'shop-db-01.example.com',
      booted: true,
      operatingSystem: 'linux',
      operatingSystemDistro: 'centos',
      templateId: 14,
      memoryMb: 4096,
    });
    this.disks.set(d.primaryDiskId, { id: d.primaryDiskId, vmId: d.vmId, label: 'shop-web-01 root', sizeGb: 20, primary: true, isSwap: false });
    this.disks.set(d.swapDiskId, { id: d.swapDiskId, vmId: d.vmId, label: 'shop-web-01 swap', sizeGb: 2, primary: false, isSwap: true });
    this.disks.set(d.dataDiskId, { id: d.dataDiskId, vmId: d.vmId, label: 'shop-web-01 data', sizeGb: 10, primary: false, isSwap: false });
    this.disks.set(d.otherDiskId, { id: d.otherDiskId, vmId: d.otherVmId, label: 'shop-db-01 root', sizeGb: 40, primary: true, isSwap: false });
    // Two finished backups of the database server (one per kind), one of them without a note.
    const past = this.now() - 86_400_000;
    this.insertBackup({ backupType: 'normal', targetType: 'Disk', targetId: d.otherDiskId, vmId: d.otherVmId, note: 'weekly image', createdAt: past, builtAtMs: past + 600_000, sizeKb: 3_145_728 });
    this.insertBackup({
      backupType: 'incremental',
      targetType: 'VirtualMachine',
      targetId: d.otherVmId,
      vmId: d.otherVmId,
      note: null,
      createdAt: past + 3_600_000,
      builtAtMs: past + 3_900_000,
      sizeKb: 524_288,
    });
  }

  private insertBackup(init: Omit<Backup, 'id' | 'identifier' | 'updatedAt' | 'backupServerId'>): Backup {
    const backup: Backup = { ...init, id: this.nextBackupId++, identifier: randomBytes(7).toString('hex').slice(0, 14), updatedAt: init.createdAt, backupServerId: 3 };
    this.backups.set(backup.id, backup);
    return backup;
  }

  server(id: number): VirtualServer {
    const vm = this.servers.get(id);
    if (!vm) throw notFound('VirtualMachine');
    return vm;
  }

  disk(id: number): Disk {
    const disk = this.disks.get(id);
    if (!disk) throw notFound('Disk');
    return disk;
  }

  backup(id: number): Backup {
    const backup = this.backups.get(id);
    if (!backup) throw notFound('Backup');
    return backup;
  }

  disksOf(vmId: number): Disk[] {
    this.server(vmId);
    return [...this.disks.values()].filter((d) => d.vmId === vmId);
  }

  backupsOf(vmId: number, kind: 'all' | 'normal' | 'incremental' = 'all'): Backup[] {
    this.server(vmId);
    return [...this.backups.values()].filter((b) => b.vmId === vmId && (kind === 'all' || b.backupType === kind)).sort((a, b) => a.id - b.id);
  }

  backupsOfDisk(diskId: number): Backup[] {
    this.disk(diskId);
    return [...this.backups.values()].filter((b) => b.targetType === 'Disk' && b.targetId === diskId).sort((a, b) => a.id - b.id);
  }

  isBuilt(b: Backup, now = this.now()): boolean {
    return now >= b.builtAtMs;
  }

  private building(vmId: number): Backup | undefined {
    return [...this.backups.values()].find((b) => b.vmId === vmId && !this.isBuilt(b));
  }

  takeDiskBackup(diskId: number, note: string | null): Backup {
    const disk = this.disk(diskId);
    if (disk.isSwap) throw unprocessable('Backups of swap disks are not allowed');
    return this.take(disk.vmId, { backupType: 'normal', targetType: 'Disk', targetId: disk.id, sizeKb: disk.sizeGb * 1024 * 37 }, note);
  }

  takeIncrementalBackup(vmId: number, note: string | null): Backup {
    this.server(vmId);
    const sizeKb = this.disksOf(vmId).reduce((n, d) => n + (d.isSwap ? 0 : d.sizeGb * 1024 * 11), 0);
    return this.take(vmId, { backupType: 'incremental', targetType: 'VirtualMachine', targetId: vmId, sizeKb }, note);
  }

  private take(vmId: number, kind: Pick<Backup, 'backupType' | 'targetType' | 'targetId' | 'sizeKb'>, note: string | null): Backup {
    const vm = this.server(vmId);
    if (vm.restoringUntil && vm.restoringUntil > this.now()) throw unprocessable('Virtual server is locked by a running restore');
    const busy = this.building(vmId);
    if (busy) throw unprocessable(`Another backup of this virtual server is being taken (backup ${busy.id})`);
    const now = this.now();
    return this.insertBackup({ ...kind, vmId, note, createdAt: now, builtAtMs: now + this.options.buildMs });
  }

  deleteBackup(id: number): void {
    const backup = this.backup(id);
    if (backup.restoringUntil && backup.restoringUntil > this.now()) throw unprocessable('Backup is locked by a running restore');
    this.backups.delete(id);
  }

  restoreBackup(id: number): void {
    const backup = this.backup(id);
    const now = this.now();
    if (!this.isBuilt(backup, now)) throw unprocessable('Backup is not built yet');
    if (backup.restoringUntil && backup.restoringUntil > now) throw unprocessable('Backup is locked by a running restore');
    const vm = this.server(backup.vmId);
    // A restore needs the server to itself: another restore or a backup being taken keeps it locked.
    if (vm.restoringUntil && vm.restoringUntil > now) throw unprocessable('Virtual server is locked by a running restore');
    const busy = this.building(vm.id);
    if (busy) throw unprocessable(`A backup of this virtual server is being taken (backup ${busy.id})`);
    backup.restoringUntil = now + this.options.restoreMs;
    backup.updatedAt = now;
    vm.restoringUntil = backup.restoringUntil;
  }

  /** The record changes when it is taken, when it is built, and when a restore locks and then unlocks it. */
  private lastChange(b: Backup, now: number): number {
    const builtAt = this.isBuilt(b, now) ? b.builtAtMs : 0;
    const restoreEndedAt = b.restoringUntil !== undefined && b.restoringUntil <= now ? b.restoringUntil : 0;
    return Math.max(b.updatedAt, builtAt, restoreEndedAt);
  }

  view(b: Backup, now = this.now()): BackupView {
    const vm = this.server(b.vmId);
    const built = this.isBuilt(b, now);
    const restoring = b.restoringUntil !== undefined && b.restoringUntil > now;
    const disk = b.targetType === 'Disk' ? this.disks.get(b.targetId) : undefined;
    return {
      id: b.id,
      allowed_hot_migrate: false,
      allowed_swap: true,
      allow_resize_without_reboot: false,
      backup_server_id: b.backupServerId,
      backup_size: built ? b.sizeKb : 0,
      backup_type: b.backupType,
      built,
      built_at: built ? railsDate(b.builtAtMs) : null,
      created_at: railsDate(b.createdAt),
      data_store_type: b.backupType === 'normal' ? 'lvm' : null,
      identifier: b.identifier,
      initiated: b.note === null ? 'manual' : 'api',
      iqn: null,
      locked: !built || restoring,
      min_disk_size: disk ? disk.sizeGb : null,
      min_memory_size: vm.memoryMb,
      note: b.note,
      operating_system: vm.operatingSystem,
      operating_system_distro: vm.operatingSystemDistro,
      target_id: b.targetId,
      target_type: b.targetType,
      template_id: vm.templateId,
      updated_at: railsDate(this.lastChange(b, now)),
      user_id: ONAPP_DEMO.userId,
      image_type: null,
      marked_for_delete: false,
      volume_id: null,
      disk_id: b.targetType === 'Disk' ? b.targetId : null,
    };
  }
}
