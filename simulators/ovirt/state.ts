/**
 * The simulated engine's inventory and the snapshot / attachment state machine. Timed transitions
 * (locked → ok, locked → gone) are computed from the simulated clock when read; no timers run.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { SimClock } from '../framework/clock';
import { SimState } from '../framework/state';
import { TokenStore } from './auth';
import type { EngineProfile } from './engine-profiles';
import { BackupService, type BackupOutcomes, type BackupTimings } from './backups';
import { DeviceDirectory, copyImage, createBlankImage, fileSize, generateImage, removeQuietly, removeQuietlySync, scribble, sha256File, type WrittenRegion } from './disk-content';

export type DiskInterface = 'ide' | 'sata' | 'spapr_vscsi' | 'virtio' | 'virtio_scsi';
export const DISK_INTERFACES: readonly DiskInterface[] = ['ide', 'sata', 'spapr_vscsi', 'virtio', 'virtio_scsi'];

const MiB = 1024 * 1024;

export const OVIRT_DEMO = {
  vmId: '6f2a0d3e-5b1c-4c8e-9a10-00000000a001',
  vmName: 'web-01',
  proxyVmId: '6f2a0d3e-5b1c-4c8e-9a10-00000000b001',
  proxyVmName: 'backup-proxy',
  /** Ids differ in their first 20 characters, as the guest's by-id names use only those. */
  osDiskId: 'a1d15c0e-0001-4c8e-9a10-00000000d001',
  dataDiskId: 'a1d15c0e-0002-4c8e-9a10-00000000d002',
  shareableDiskId: 'a1d15c0e-0003-4c8e-9a10-00000000d003',
  lunDiskId: 'a1d15c0e-0004-4c8e-9a10-00000000d004',
  proxyBootDiskId: 'a1d15c0e-00b1-4c8e-9a10-00000000db01',
  osDiskName: 'web-01_Disk1',
  dataDiskName: 'web-01_Disk2',
  shareableDiskName: 'web-01_shared',
  lunDiskName: 'web-01_lun',
  clusterId: '6f2a0d3e-5b1c-4c8e-9a10-0000000c1001',
  clusterName: 'Default',
  hostId: '6f2a0d3e-5b1c-4c8e-9a10-0000000e0001',
  storageDomainId: '6f2a0d3e-5b1c-4c8e-9a10-0000000a0001',
  storageDomainName: 'data1',
  dataCenterId: '6f2a0d3e-5b1c-4c8e-9a10-0000000dc001',
  userId: '6f2a0d3e-5b1c-4c8e-9a10-0000000f0001',
} as const;

export const BLANK_TEMPLATE_ID = '00000000-0000-0000-0000-000000000000';

export interface OvirtStateOptions {
  clock?: SimClock;
  engine: EngineProfile;
  dataDir: string;
  deviceRoot: string;
  tokenTtlSeconds: number;
  snapshotCreateMs: number;
  snapshotDeleteMs: number;
  diskSizes: { os: number; data: number };
  extraVms: number;
  /** Free bytes of the demo data domain at reset. */
  storageDomainFreeBytes: number;
  /** Time a new disk stays 'locked' before 'ok'. */
  diskCreateMs: number;
  /** Time a VM made by POST /vms stays 'image_locked' before 'down'. */
  vmCreateMs: number;
  /** Time from start to 'up' (half of it 'wait_for_launch', half 'powering_up'). */
  vmBootMs: number;
  /** The backup API's timed phases (backups.ts). */
  backupTimings: BackupTimings;
}

/** A vendor fault: rendered as `<fault><reason/><detail/></fault>` with this HTTP status. */
export class OvirtFault extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly detail?: string,
  ) {
    super(detail ? `${reason}: ${detail}` : reason);
  }
}

export const notFound = (detail: string) => new OvirtFault(404, 'Not Found', detail);
const conflict = (detail: string) => new OvirtFault(409, 'Operation Failed', `[${detail}]`);

export type VmStatus = 'up' | 'down' | 'image_locked' | 'wait_for_launch' | 'powering_up';

export interface Vm {
  id: string;
  name: string;
  description: string;
  /** Read through OvirtState.getVm / listVms, which apply the transitions that are due. */
  status: VmStatus;
  /** Transitions still to come (image_locked → down, wait_for_launch → powering_up → up), oldest first. */
  pending: Array<{ status: VmStatus; at: number }>;
  clusterId: string;
  memory: number;
  sockets: number;
  cores: number;
  osType: string;
  createdAt: number;
  startedAt: number;
  /** Kernel names the guest's own disks use (kept free when plugging snapshot disks). */
  guestDevices: string[];
}

export interface LunInfo {
  id: string;
  address: string;
  port: number;
  target: string;
  size: number;
  vendorId: string;
  productId: string;
  serial: string;
}

export interface Disk {
  id: string;
  name: string;
  description: string;
  provisionedSize: number;
  actualSize: number;
  format: 'raw' | 'cow';
  sparse: boolean;
  shareable: boolean;
  storageType: 'image' | 'lun';
  /** The active volume; a new snapshot moves the old one into the snapshot. */
  imageId: string;
  lun?: LunInfo;
  /** Image disks live on a storage domain. */
  storageDomainId?: string;
  /** A disk made by POST /disks is 'locked' until then. */
  lockedUntil?: number;
  /** Made by POST /disks: its image starts as zeros (the demo disks' bytes derive from their id). */
  blank?: boolean;
  /** The disk's `backup` field: 'incremental' (qcow2 with bitmaps: incremental backups) or 'none' (full backups only). */
  backup: 'incremental' | 'none';
}

export interface StorageDomain {
  id: string;
  name: string;
  type: 'data';
  available: number;
  used: number;
}

export interface Cluster {
  id: string;
  name: string;
  description: string;
}

export interface CreateDiskInput {
  name?: string;
  description?: string;
  provisionedSize: number;
  format: 'raw' | 'cow';
  sparse: boolean;
  storageDomain: { id?: string; name?: string };
}

export interface CreateVmInput {
  name: string;
  description?: string;
  cluster: { id?: string; name?: string };
  memory?: number;
  sockets?: number;
  cores?: number;
  osType?: string;
}

/** What a disk attachment request sets. */
export interface AttachInput {
  diskId: string;
  /** Set when a snapshot's copy of the disk is attached (the backup proxy's case). */
  snapshotId?: string;
  active: boolean;
  bootable: boolean;
  iface: DiskInterface;
  passDiscard: boolean;
  readOnly: boolean;
  usesScsiReservation: boolean;
}

export interface Attachment extends AttachInput {
  vmId: string;
  logicalName?: string;
  /** Device links made for this attachment, removed on detach. */
  devicePaths: string[];
  /** The links being made: a detach that comes meanwhile waits for them, then removes them. */
  plugging?: Promise<void>;
}

interface SnapshotDiskRecord {
  diskId: string;
  imageId: string;
  format: 'raw' | 'cow';
  sparse: boolean;
  provisionedSize: number;
  actualSize: number;
  path: string;
}

interface SnapshotRecord {
  id: string;
  vmId: string;
  description: string;
  createdAt: number;
  persistMemory: boolean;
  disks: SnapshotDiskRecord[];
  correlationId?: string;
  /** The disk copies are written. */
  ready: boolean;
  deletedAt?: number;
}

export type SnapshotStatus = 'ok' | 'locked';

/** A snapshot as the API shows it, including the synthetic "Active VM" one. */
export interface SnapshotInfo {
  id: string;
  vmId: string;
  description: string;
  type: 'regular' | 'active';
  date: number;
  persistMemory: boolean;
  status: SnapshotStatus;
  correlationId?: string;
  disks: Array<SnapshotDiskRecord & { disk: Disk }>;
}

export interface Job {
  id: string;
  description: string;
  correlationId?: string;
  startedAt: number;
  /** When it will count as finished (the snapshot's lock time). */
  endsAt: number;
  snapshotId?: string;
}

/** A disk the engine removed (with every volume, snapshot copies included): its data is gone. */
export interface RemovedDisk {
  id: string;
  name: string;
  /** The VM it was removed through (none for DELETE /disks/{id}), and whether that was a snapshot's copy plugged into it. */
  viaVmId?: string;
  wasSnapshotCopy: boolean;
  at: number;
}

export interface CreateSnapshotInput {
  description?: string;
  persistMemory?: boolean;
  /** undefined = every disk that can be snapshotted; [] = configuration only. */
  diskIds?: string[];
  correlationId?: string;
}

/** A uuid-shaped id derived from text, for stable ids (Active VM snapshots, image ids). */
export function derivedId(text: string): string {
  const h = createHash('sha1').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const snapshotable = (disk: Disk) => disk.storageType === 'image' && !disk.shareable;

export class OvirtState extends SimState<OvirtStateOptions, BackupOutcomes> {
  readonly tokens: TokenStore;
  readonly vms = new Map<string, Vm>();
  readonly disks = new Map<string, Disk>();
  readonly storageDomains = new Map<string, StorageDomain>();
  readonly clusters = new Map<string, Cluster>();
  attachments: Attachment[] = [];
  jobs: Job[] = [];
  /** Disks removed through the API since the last reset: what a wrong DELETE destroyed. */
  removedDisks: RemovedDisk[] = [];
  private snapshots = new Map<string, SnapshotRecord>();
  private readonly devices: DeviceDirectory;
  /** Live disk image files that exist with pristine-or-written content. */
  private images = new Map<string, Promise<string>>();
  readonly startedAt = this.now();
  /** The backup API: VM backups, checkpoints, image transfers and the tickets imageio serves. */
  readonly backups: BackupService;
  /** The imageio server (a companion of the engine's simulator), once made: transfer URLs point at it. */
  imageio?: { url: string };
  /** Most snapshots in existence at once (backups in flight), and most snapshot disks attached to each VM. */
  readonly peaks = { snapshots: 0, snapshotAttachmentsByVm: {} as Record<string, number> };

  constructor(options: OvirtStateOptions) {
    super(options);
    this.tokens = new TokenStore(options.tokenTtlSeconds, this.clock);
    this.devices = new DeviceDirectory(options.deviceRoot);
    this.backups = new BackupService(this, options.backupTimings);
  }

  private get disksDir(): string {
    return join(this.options.dataDir, 'disks');
  }
  private get snapshotsDir(): string {
    return join(this.options.dataDir, 'snapshots');
  }

  /** Writes the demo VM's disks (the reset that made the directories and cleared an earlier run's came first). */
  async init(): Promise<void> {
    await Promise.all([OVIRT_DEMO.osDiskId, OVIRT_DEMO.dataDiskId].map((id) => this.liveImage(this.getDisk(id))));
  }

  /** Back to the demo inventory: no snapshots, attachments or jobs; disks pristine again. */
  protected restoreInventory(): void {
    // init() removes every device link the simulator made.
    this.devices.init();
    removeQuietlySync(this.snapshotsDir);
    mkdirSync(this.snapshotsDir, { recursive: true });
    mkdirSync(this.disksDir, { recursive: true });
    // Regenerated on demand; the content is a function of the disk id, so it comes back identical.
    for (const name of readdirSync(this.disksDir)) unlinkSync(join(this.disksDir, name));
    this.images = new Map();
    this.vms.clear();
    this.disks.clear();
    this.storageDomains.clear();
    this.clusters.clear();
    this.attachments = [];
    this.snapshots = new Map();
    this.jobs = [];
    this.removedDisks = [];
    this.backups.reset();
    this.buildInventory();
  }

  private buildInventory(): void {
    const t0 = this.startedAt - 30 * 24 * 3600 * 1000;
    const vm = (id: string, name: string, extra: Partial<Vm> = {}): Vm => {
      const v: Vm = {
        id,
        name,
        description: '',
        status: 'up',
        pending: [],
        clusterId: OVIRT_DEMO.clusterId,
        memory: 4 * 1024 * MiB,
        sockets: 2,
        cores: 1,
        osType: 'rhel_8x64',
        createdAt: t0,
        startedAt: this.startedAt - 3600 * 1000,
        guestDevices: ['sda'],
        ...extra,
      };
      this.vms.set(id, v);
      return v;
    };
    const disk = (d: Omit<Disk, 'imageId' | 'description' | 'backup'> & { description?: string }): Disk => {
      const onDomain = d.storageType === 'image' ? { storageDomainId: OVIRT_DEMO.storageDomainId } : {};
      // qcow2 image disks get incremental backup (bitmaps); raw ones are backed up in full.
      const backup = d.storageType === 'image' && d.format === 'cow' && !d.shareable ? 'incremental' : 'none';
      const full: Disk = { description: '', imageId: derivedId(`image:${d.id}`), backup, ...onDomain, ...d };
      this.disks.set(full.id, full);
      return full;
    };
    const attach = (vmId: string, diskId: string, iface: DiskInterface, bootable: boolean, logicalName?: string) =>
      this.attachments.push({
        vmId,
        diskId,
        active: true,
        bootable,
        iface,
        passDiscard: false,
        readOnly: false,
        usesScsiReservation: false,
        logicalName,
        devicePaths: [],
      });

    this.storageDomains.set(OVIRT_DEMO.storageDomainId, {
      id: OVIRT_DEMO.storageDomainId,
      name: OVIRT_DEMO.storageDomainName,
      type: 'data',
      available: this.options.storageDomainFreeBytes,
      used: 20 * 1024 * MiB,
    });
    this.clusters.set(OVIRT_DEMO.clusterId, { id: OVIRT_DEMO.clusterId, name: OVIRT_DEMO.clusterName, description: 'The default server cluster' });

    const { os, data } = this.options.diskSizes;
    vm(OVIRT_DEMO.vmId, OVIRT_DEMO.vmName, { description: 'Demo web server', guestDevices: ['sda', 'sdb', 'sdc', 'vda'] });
    disk({ id: OVIRT_DEMO.osDiskId, name: OVIRT_DEMO.osDiskName, provisionedSize: os, actualSize: Math.ceil(os / 2), format: 'cow', sparse: true, shareable: false, storageType: 'image' });
    disk({ id: OVIRT_DEMO.dataDiskId, name: OVIRT_DEMO.dataDiskName, provisionedSize: data, actualSize: data, format: 'raw', sparse: false, shareable: false, storageType: 'image' });
    disk({
      id: OVIRT_DEMO.shareableDiskId,
      name: OVIRT_DEMO.shareableDiskName,
      provisionedSize: 2 * MiB,
      actualSize: 2 * MiB,
      format: 'raw',
      sparse: false,
      shareable: true,
      storageType: 'image',
      description: 'Cluster quorum disk',
    });
    disk({
      id: OVIRT_DEMO.lunDiskId,
      name: OVIRT_DEMO.lunDiskName,
      provisionedSize: 0,
      actualSize: 0,
      format: 'raw',
      sparse: false,
      shareable: false,
      storageType: 'lun',
      lun: {
        id: '36001405a1d15c0e00044c8e9a10d00400',
        address: '192.0.2.10',
        port: 3260,
        target: 'iqn.2003-01.org.linux-iscsi.storage:web-01-lun',
        size: 1024 * MiB,
        vendorId: 'LIO-ORG',
        productId: 'web01lun',
        serial: 'SLIO-ORG_web01lun_a1d15c0e',
      },
    });
    attach(OVIRT_DEMO.vmId, OVIRT_DEMO.osDiskId, 'virtio_scsi', true, '/dev/sda');
    attach(OVIRT_DEMO.vmId, OVIRT_DEMO.dataDiskId, 'virtio', false, '/dev/vda');
    attach(OVIRT_DEMO.vmId, OVIRT_DEMO.shareableDiskId, 'virtio_scsi', false, '/dev/sdb');
    attach(OVIRT_DEMO.vmId, OVIRT_DEMO.lunDiskId, 'virtio_scsi', false, '/dev/sdc');

    vm(OVIRT_DEMO.proxyVmId, OVIRT_DEMO.proxyVmName, { description: 'Backup proxy appliance', memory: 2 * 1024 * MiB });
    disk({ id: OVIRT_DEMO.proxyBootDiskId, name: `${OVIRT_DEMO.proxyVmName}_Disk1`, provisionedSize: MiB, actualSize: MiB, format: 'cow', sparse: true, shareable: false, storageType: 'image' });
    attach(OVIRT_DEMO.proxyVmId, OVIRT_DEMO.proxyBootDiskId, 'virtio_scsi', true);

    for (let n = 1; n <= this.options.extraVms; n++) {
      const hex = n.toString(16);
      const name = `vm-${String(n).padStart(3, '0')}`;
      const vmId = `c${hex.padStart(7, '0')}-0000-4c8e-9a10-${hex.padStart(12, '0')}`;
      const diskId = `e${hex.padStart(7, '0')}-0000-4c8e-9a10-${hex.padStart(12, '0')}`;
      vm(vmId, name, { memory: 1024 * MiB, sockets: 1 });
      disk({ id: diskId, name: `${name}_Disk1`, provisionedSize: MiB, actualSize: MiB, format: 'cow', sparse: true, shareable: false, storageType: 'image' });
      attach(vmId, diskId, 'virtio_scsi', true);
    }
  }

  /** Origin of the imageio server the transfers' URLs point at. */
  get imageioUrl(): string {
    return this.imageio?.url ?? '';
  }

  // ---- lookups --------------------------------------------------------------------------------

  getVm(id: string): Vm {
    const vm = this.vms.get(id);
    if (!vm) throw notFound(`Entity not found: VM ${id}`);
    return this.settle(vm);
  }

  listVms(): Vm[] {
    return [...this.vms.values()].map((vm) => this.settle(vm));
  }

  /** Applies the VM's status transitions that are due. */
  private settle(vm: Vm): Vm {
    const now = this.now();
    while (vm.pending.length > 0 && now >= vm.pending[0]!.at) vm.status = vm.pending.shift()!.status;
    return vm;
  }

  getStorageDomain(id: string): StorageDomain {
    const domain = this.storageDomains.get(id);
    if (!domain) throw notFound(`Entity not found: Storage domain ${id}`);
    return domain;
  }

  getCluster(id: string): Cluster {
    const cluster = this.clusters.get(id);
    if (!cluster) throw notFound(`Entity not found: Cluster ${id}`);
    return cluster;
  }

  /** A reference in a request body: by id, else by name (as the engine's REST layer resolves it). */
  private resolve<T extends { id: string; name: string }>(items: Map<string, T>, kind: string, ref: { id?: string; name?: string }): T {
    const found = ref.id !== undefined ? items.get(ref.id) : [...items.values()].find((x) => x.name === ref.name);
    if (!found) throw notFound(`Entity not found: ${kind}: ${ref.id !== undefined ? `id=${ref.id}` : `name=${ref.name}`}`);
    return found;
  }

  /** Free bytes of a storage domain (a test fills it up to fault a restore). */
  setStorageDomainFree(id: string, bytes: number): void {
    this.getStorageDomain(id).available = bytes;
  }

  /** A storage domain that is gone (detached, destroyed): disks that referenced it keep its id. */
  removeStorageDomain(id: string): void {
    this.storageDomains.delete(id);
  }

  getDisk(id: string): Disk {
    const disk = this.disks.get(id);
    if (!disk) throw notFound(`Entity not found: Disk ${id}`);
    return disk;
  }

  attachmentsOf(vmId: string): Attachment[] {
    return this.attachments.filter((a) => a.vmId === vmId);
  }

  getAttachment(vmId: string, diskId: string): Attachment {
    const a = this.attachments.find((x) => x.vmId === vmId && x.diskId === diskId);
    if (!a) throw notFound(`Entity not found: disk attachment ${diskId} of VM ${vmId}`);
    return a;
  }

  /** The VM's own disks (not snapshot disks attached to it). */
  liveDisksOf(vmId: string): Disk[] {
    return this.attachmentsOf(vmId)
      .filter((a) => a.snapshotId === undefined)
      .map((a) => this.getDisk(a.diskId));
  }

  /** `locked` while a snapshot that holds the disk is being made or removed. */
  diskStatus(disk: Disk): 'ok' | 'locked' {
    if (disk.lockedUntil !== undefined && this.now() < disk.lockedUntil) return 'locked';
    if (this.backups.diskLocked(disk.id)) return 'locked';
    this.sweep();
    for (const s of this.snapshots.values()) {
      if (s.disks.some((d) => d.diskId === disk.id) && this.recordStatus(s) === 'locked') return 'locked';
    }
    return 'ok';
  }

  activeSnapshotId(vmId: string): string {
    return derivedId(`active-snapshot:${vmId}`);
  }

  /** Every snapshot of the VM, the "Active VM" one first. */
  snapshotsOf(vmId: string): SnapshotInfo[] {
    const vm = this.getVm(vmId);
    this.sweep();
    const regular = [...this.snapshots.values()].filter((s) => s.vmId === vmId).map((s) => this.info(s));
    return [this.activeInfo(vm), ...regular];
  }

  getSnapshot(vmId: string, snapshotId: string): SnapshotInfo {
    const found = this.snapshotsOf(vmId).find((s) => s.id === snapshotId);
    if (!found) throw notFound(`Entity not found: snapshot ${snapshotId} of VM ${vmId}`);
    return found;
  }

  private activeInfo(vm: Vm): SnapshotInfo {
    return {
      id: this.activeSnapshotId(vm.id),
      vmId: vm.id,
      description: 'Active VM',
      type: 'active',
      date: vm.createdAt,
      persistMemory: false,
      status: 'ok',
      disks: this.liveDisksOf(vm.id)
        .filter(snapshotable)
        .map((disk) => ({ ...this.diskRecord(disk, join(this.disksDir, `${disk.id}.img`)), disk })),
    };
  }

  private info(s: SnapshotRecord): SnapshotInfo {
    return {
      id: s.id,
      vmId: s.vmId,
      description: s.description,
      type: 'regular',
      date: s.createdAt,
      persistMemory: s.persistMemory,
      status: this.recordStatus(s),
      correlationId: s.correlationId,
      disks: s.disks.map((d) => ({ ...d, disk: this.getDisk(d.diskId) })),
    };
  }

  private recordStatus(s: SnapshotRecord): SnapshotStatus {
    if (s.deletedAt !== undefined) return 'locked';
    return s.ready && this.now() >= s.createdAt + this.options.snapshotCreateMs ? 'ok' : 'locked';
  }

  private creating(s: SnapshotRecord): boolean {
    return s.deletedAt === undefined && this.recordStatus(s) === 'locked';
  }

  private diskRecord(disk: Disk, path: string): SnapshotDiskRecord {
    return {
      diskId: disk.id,
      imageId: disk.imageId,
      format: disk.format,
      sparse: disk.sparse,
      provisionedSize: disk.provisionedSize,
      actualSize: disk.actualSize,
      path,
    };
  }

  /** Drops snapshots whose removal has finished. */
  private sweep(): void {
    const now = this.now();
    for (const s of [...this.snapshots.values()]) {
      if (s.deletedAt !== undefined && now >= s.deletedAt + this.options.snapshotDeleteMs) {
        this.snapshots.delete(s.id);
        // The record is gone at once; its files go in the background, off the event loop.
        void removeQuietly(join(this.snapshotsDir, s.id)).catch(() => undefined);
      }
    }
  }

  // ---- snapshots ------------------------------------------------------------------------------

  async createSnapshot(vmId: string, input: CreateSnapshotInput): Promise<SnapshotInfo> {
    const vm = this.getVm(vmId);
    this.sweep();
    if (!input.description) throw new OvirtFault(400, 'Incomplete parameters', 'Snapshot [description] required for add');

    const live = this.liveDisksOf(vmId);
    let disks: Disk[];
    if (input.diskIds === undefined) {
      disks = live.filter(snapshotable);
    } else {
      const ids = [...new Set(input.diskIds)];
      const foreign = ids.filter((id) => !live.some((d) => d.id === id));
      if (foreign.length > 0) {
        throw new OvirtFault(400, 'Operation Failed', `[Cannot create Snapshot. The following disk(s) are not attached to VM ${vm.name}: ${foreign.join(', ')}.]`);
      }
      disks = ids.map((id) => this.getDisk(id));
    }

    const mine = [...this.snapshots.values()].filter((s) => s.vmId === vmId);
    if (mine.some((s) => this.creating(s))) throw conflict(`Cannot create Snapshot. Snapshot is currently being created for VM ${vm.name}.`);
    if (mine.some((s) => s.deletedAt !== undefined)) throw conflict(`Cannot create Snapshot. VM ${vm.name} is locked. Please try again in a few minutes.`);

    const refused = disks.filter((d) => !snapshotable(d));
    if (refused.length > 0) {
      throw conflict(`Cannot create Snapshot. The following disk(s) cannot be snapshotted: ${refused.map((d) => `${d.name} (${d.shareable ? 'shareable' : 'direct LUN'})`).join(', ')}.`);
    }

    const id = randomUUID();
    const now = this.now();
    const record: SnapshotRecord = {
      id,
      vmId,
      description: input.description,
      createdAt: now,
      persistMemory: input.persistMemory ?? true,
      disks: disks.map((d) => this.diskRecord(d, join(this.snapshotsDir, id, `${d.id}.img`))),
      correlationId: input.correlationId,
      ready: false,
    };
    // Registered before the copies so that a concurrent create sees the VM locked.
    this.snapshots.set(id, record);
    this.peaks.snapshots = Math.max(this.peaks.snapshots, this.snapshots.size);
    this.jobs.push({
      id: randomUUID(),
      description: `Creating VM Snapshot ${input.description} for VM ${vm.name}`,
      correlationId: input.correlationId,
      startedAt: now,
      endsAt: now + this.options.snapshotCreateMs,
      snapshotId: id,
    });
    try {
      for (const d of record.disks) {
        const disk = this.getDisk(d.diskId);
        await copyImage(await this.liveImage(disk), d.path);
        // The old volume now belongs to the snapshot; the disk writes to a new one.
        disk.imageId = randomUUID();
      }
    } catch (err) {
      this.snapshots.delete(id);
      await removeQuietly(join(this.snapshotsDir, id));
      throw err;
    }
    record.ready = true;
    return this.info(record);
  }

  deleteSnapshot(vmId: string, snapshotId: string, correlationId?: string): void {
    const vm = this.getVm(vmId);
    this.sweep();
    if (snapshotId === this.activeSnapshotId(vmId)) throw conflict('Cannot remove Snapshot. The Active VM snapshot cannot be removed.');
    const record = this.snapshots.get(snapshotId);
    if (!record || record.vmId !== vmId) throw notFound(`Entity not found: snapshot ${snapshotId} of VM ${vmId}`);
    const mine = [...this.snapshots.values()].filter((s) => s.vmId === vmId);
    if (mine.some((s) => this.creating(s))) throw conflict(`Cannot remove Snapshot. Snapshot is currently being created for VM ${vm.name}.`);
    if (mine.some((s) => s.deletedAt !== undefined)) throw conflict(`Cannot remove Snapshot. VM ${vm.name} is locked. Please try again in a few minutes.`);
    const attached = this.attachments.find((a) => a.snapshotId === snapshotId);
    if (attached) {
      throw conflict(`Cannot remove Snapshot. Disk ${this.getDisk(attached.diskId).name} is attached to VM ${this.getVm(attached.vmId).name}.`);
    }
    const now = this.now();
    record.deletedAt = now;
    this.jobs.push({
      id: randomUUID(),
      description: `Removing Snapshot ${record.description} of VM ${vm.name}`,
      correlationId,
      startedAt: now,
      endsAt: now + this.options.snapshotDeleteMs,
    });
  }

  // ---- attachments ----------------------------------------------------------------------------

  async attachDisk(vmId: string, input: AttachInput): Promise<Attachment> {
    const vm = this.getVm(vmId);
    const disk = this.getDisk(input.diskId);
    this.sweep();
    if (vm.status === 'image_locked') throw conflict(`Cannot attach Virtual Disk. VM ${vm.name} is locked. Please try again in a few minutes.`);
    let image: string | undefined;
    if (input.snapshotId !== undefined) {
      const record = this.snapshots.get(input.snapshotId);
      if (!record) throw notFound(`Entity not found: snapshot ${input.snapshotId}`);
      const copy = record.disks.find((d) => d.diskId === disk.id);
      if (!copy) throw conflict(`Cannot attach Virtual Disk. Disk ${disk.name} is not part of snapshot ${record.description}.`);
      if (record.deletedAt !== undefined) {
        throw conflict(`Cannot attach Virtual Disk. Snapshot ${record.description} is being removed.`);
      }
      if (this.recordStatus(record) !== 'ok') {
        throw conflict(`Cannot attach Virtual Disk. Snapshot is currently being created for VM ${this.getVm(record.vmId).name}.`);
      }
      image = copy.path;
    } else {
      if (this.diskStatus(disk) === 'locked') throw conflict(`Cannot attach Virtual Disk. The following disks are locked: ${disk.name}. Please try again in a few minutes.`);
      // The disk itself: the proxy's guest reads and writes its live volume.
      if (disk.storageType === 'image') image = await this.liveImage(disk);
    }
    const existing = this.attachments.filter((a) => a.diskId === disk.id);
    const clash = input.snapshotId !== undefined ? existing.find((a) => a.snapshotId !== undefined || a.vmId === vmId) : existing.find((a) => !disk.shareable || a.vmId === vmId);
    if (clash) throw conflict(`Cannot attach Virtual Disk. The disk is already attached to VM ${this.getVm(clash.vmId).name}.`);

    const attachment: Attachment = {
      vmId,
      diskId: disk.id,
      snapshotId: input.snapshotId,
      active: input.active,
      bootable: input.bootable,
      iface: input.iface,
      passDiscard: input.passDiscard,
      readOnly: input.readOnly,
      usesScsiReservation: input.usesScsiReservation,
      devicePaths: [],
    };
    // Registered before the device links are made, so that a concurrent attach of the disk clashes.
    this.attachments.push(attachment);
    // Only the proxy VM has a guest whose /dev we show, and only images have bytes.
    if (vm.id === OVIRT_DEMO.proxyVmId && input.active && image !== undefined) {
      attachment.plugging = this.devices.plug(disk.id, input.iface, image, new Set(vm.guestDevices)).then((plugged) => {
        attachment.logicalName = plugged.logicalName;
        attachment.devicePaths = plugged.paths;
      });
      try {
        await attachment.plugging;
      } catch (err) {
        this.attachments = this.attachments.filter((a) => a !== attachment);
        throw err;
      } finally {
        attachment.plugging = undefined;
      }
    }
    const attachedSnapshotDisks = this.attachments.filter((a) => a.vmId === vm.id && a.snapshotId !== undefined).length;
    this.peaks.snapshotAttachmentsByVm[vm.id] = Math.max(this.peaks.snapshotAttachmentsByVm[vm.id] ?? 0, attachedSnapshotDisks);
    return attachment;
  }

  async detachDisk(vmId: string, diskId: string): Promise<void> {
    this.getVm(vmId);
    const attachment = this.getAttachment(vmId, diskId);
    // Listed until its links are gone: an attach of the disk meanwhile clashes (and is retried)
    // instead of making a by-id link that this unplug would then remove.
    await attachment.plugging?.catch(() => undefined);
    await this.devices.unplug(attachment.devicePaths);
    this.attachments = this.attachments.filter((a) => a !== attachment);
  }

  /**
   * Removes the disk from the engine with all its volumes: every attachment (a snapshot's copy
   * plugged into the proxy included), its copies inside snapshots and its live image. This is what
   * a v3 `DELETE /vms/{id}/disks/{did}` without `<action><detach>true</detach></action>` does.
   */
  async removeDisk(vmId: string, diskId: string): Promise<void> {
    this.getVm(vmId);
    const attachment = this.getAttachment(vmId, diskId);
    await this.purgeDisk(this.getDisk(diskId), vmId, attachment.snapshotId !== undefined);
  }

  /** The disk and every volume of it gone: attachments, snapshot copies, live image; its space back on its domain. */
  private async purgeDisk(disk: Disk, viaVmId: string | undefined, wasSnapshotCopy: boolean): Promise<void> {
    const diskId = disk.id;
    for (const a of this.attachments.filter((x) => x.diskId === diskId)) {
      await a.plugging?.catch(() => undefined);
      await this.devices.unplug(a.devicePaths);
    }
    this.attachments = this.attachments.filter((a) => a.diskId !== diskId);
    for (const s of this.snapshots.values()) {
      const copy = s.disks.find((d) => d.diskId === diskId);
      if (!copy) continue;
      s.disks = s.disks.filter((d) => d !== copy);
      await removeQuietly(copy.path);
    }
    this.disks.delete(diskId);
    this.images.delete(diskId);
    await removeQuietly(join(this.disksDir, `${diskId}.img`));
    const domain = disk.storageDomainId !== undefined ? this.storageDomains.get(disk.storageDomainId) : undefined;
    if (domain) {
      domain.available += disk.provisionedSize;
      domain.used = Math.max(0, domain.used - disk.provisionedSize);
    }
    this.removedDisks.push({ id: diskId, name: disk.name, viaVmId, wasSnapshotCopy, at: this.now() });
  }

  // ---- floating disks (the restore's POST /disks, DELETE /disks/{id}) ----------------------------

  /** A new, empty image disk on a storage domain: 'locked' for diskCreateMs, its space taken at once. */
  async createDisk(input: CreateDiskInput): Promise<Disk> {
    const domain = this.resolve(this.storageDomains, 'Storage domain', input.storageDomain);
    if (input.provisionedSize <= 0) throw new OvirtFault(400, 'Bad Request', `Invalid provisioned size ${input.provisionedSize}.`);
    if (domain.available < input.provisionedSize) throw conflict(`Cannot add Virtual Disk. Low disk space on Storage Domain ${domain.name}.`);
    const id = randomUUID();
    const disk: Disk = {
      id,
      name: input.name ?? `disk-${id.slice(0, 8)}`,
      description: input.description ?? '',
      provisionedSize: input.provisionedSize,
      actualSize: input.sparse ? 0 : input.provisionedSize,
      format: input.format,
      sparse: input.sparse,
      shareable: false,
      storageType: 'image',
      imageId: randomUUID(),
      storageDomainId: domain.id,
      lockedUntil: this.now() + this.options.diskCreateMs,
      blank: true,
      backup: 'none',
    };
    domain.available -= disk.provisionedSize;
    domain.used += disk.provisionedSize;
    this.disks.set(id, disk);
    await this.liveImage(disk);
    return disk;
  }

  /** DELETE /disks/{id}: refused while the disk is locked or attached to a VM. */
  async deleteDisk(diskId: string): Promise<void> {
    const disk = this.getDisk(diskId);
    if (this.diskStatus(disk) === 'locked') throw conflict(`Cannot remove Virtual Disk. Disk ${disk.name} is locked. Please try again in a few minutes.`);
    const attached = this.attachments.find((a) => a.diskId === diskId);
    if (attached) throw conflict(`Cannot remove Virtual Disk. Disk ${disk.name} is attached to VM ${this.getVm(attached.vmId).name}; detach it first.`);
    await this.purgeDisk(disk, undefined, false);
  }

  // ---- VM lifecycle (POST /vms from an OVF, start, stop, remove) ------------------------------

  /** A new VM without disks: 'image_locked' for vmCreateMs, then 'down'. */
  createVm(input: CreateVmInput): Vm {
    const cluster = this.resolve(this.clusters, 'Cluster', input.cluster);
    if (this.listVms().some((v) => v.name === input.name)) throw conflict('Cannot add VM. The VM name is already in use, please choose a unique name and try again.');
    const now = this.now();
    const vm: Vm = {
      id: randomUUID(),
      name: input.name,
      description: input.description ?? '',
      status: 'image_locked',
      pending: [{ status: 'down', at: now + this.options.vmCreateMs }],
      clusterId: cluster.id,
      memory: input.memory ?? 1024 * MiB,
      sockets: input.sockets ?? 1,
      cores: input.cores ?? 1,
      osType: input.osType ?? 'other',
      createdAt: now,
      startedAt: now,
      guestDevices: [],
    };
    this.vms.set(vm.id, vm);
    return vm;
  }

  startVm(vmId: string): Vm {
    const vm = this.getVm(vmId);
    if (vm.status === 'image_locked') throw conflict(`Cannot run VM. VM ${vm.name} is locked. Please try again in a few minutes.`);
    if (vm.status !== 'down') throw conflict('Cannot run VM. VM is running.');
    const now = this.now();
    vm.status = 'wait_for_launch';
    vm.pending = [
      { status: 'powering_up', at: now + this.options.vmBootMs / 2 },
      { status: 'up', at: now + this.options.vmBootMs },
    ];
    vm.startedAt = now;
    return vm;
  }

  /** Power off (not a guest shutdown): down at once. */
  stopVm(vmId: string): Vm {
    const vm = this.getVm(vmId);
    if (vm.status === 'image_locked') throw conflict(`Cannot stop VM. VM ${vm.name} is locked. Please try again in a few minutes.`);
    if (vm.status === 'down') throw conflict('Cannot stop VM. VM is not running.');
    vm.status = 'down';
    vm.pending = [];
    return vm;
  }

  /**
   * Removes a VM that is down, with its snapshots. Its own disks go with it unless `detachOnly`
   * (a disk shared with another VM is only detached); other VMs' snapshot disks plugged into it are
   * detached. Returns the ids of the disks removed.
   */
  async deleteVm(vmId: string, detachOnly: boolean): Promise<string[]> {
    const vm = this.getVm(vmId);
    this.sweep();
    if (vm.status === 'image_locked') throw conflict(`Cannot remove VM. VM ${vm.name} is locked. Please try again in a few minutes.`);
    if (vm.status !== 'down') throw conflict('Cannot remove VM. VM is running.');
    const mine = [...this.snapshots.values()].filter((s) => s.vmId === vmId);
    const pluggedElsewhere = this.attachments.find((a) => a.vmId !== vmId && a.snapshotId !== undefined && mine.some((s) => s.id === a.snapshotId));
    if (pluggedElsewhere) throw conflict(`Cannot remove VM. A disk of its snapshot is attached to VM ${this.getVm(pluggedElsewhere.vmId).name}.`);
    const removed: string[] = [];
    for (const a of this.attachmentsOf(vmId)) {
      const disk = this.getDisk(a.diskId);
      const shared = this.attachments.some((x) => x.diskId === a.diskId && x.vmId !== vmId && x.snapshotId === undefined);
      if (a.snapshotId !== undefined || detachOnly || shared || disk.storageType !== 'image') {
        await this.detachDisk(vmId, a.diskId);
      } else {
        await this.purgeDisk(disk, vmId, false);
        removed.push(disk.id);
      }
    }
    for (const s of mine) {
      this.snapshots.delete(s.id);
      await removeQuietly(join(this.snapshotsDir, s.id));
    }
    this.vms.delete(vmId);
    return removed;
  }

  // ---- jobs -----------------------------------------------------------------------------------

  jobStatus(job: Job): 'started' | 'finished' {
    if (this.now() < job.endsAt) return 'started';
    const record = job.snapshotId !== undefined ? this.snapshots.get(job.snapshotId) : undefined;
    return record && !record.ready ? 'started' : 'finished';
  }

  // ---- disk content ---------------------------------------------------------------------------

  /** The live disk's image file, written on first use. */
  private liveImage(disk: Disk): Promise<string> {
    if (disk.storageType !== 'image') return Promise.reject(new Error(`disk ${disk.id} is not an image disk`));
    let pending = this.images.get(disk.id);
    if (!pending) {
      const path = join(this.disksDir, `${disk.id}.img`);
      pending = (async () => {
        if (disk.blank) await createBlankImage(path, disk.provisionedSize);
        else if ((await fileSize(path)) !== disk.provisionedSize) await generateImage(path, disk.id, disk.provisionedSize);
        return path;
      })();
      const attempt = pending;
      attempt.catch(() => {
        if (this.images.get(disk.id) === attempt) this.images.delete(disk.id);
      });
      this.images.set(disk.id, attempt);
    }
    return pending;
  }

  /** The live disk's image file (what the proxy writes through its device when the disk is attached to it). */
  async diskImagePath(diskId: string): Promise<string> {
    return this.liveImage(this.getDisk(diskId));
  }

  /** SHA-256 (hex) of the live disk's current content. */
  async diskContentSha256(diskId: string): Promise<string> {
    return sha256File(await this.liveImage(this.getDisk(diskId)));
  }

  /** The frozen copy of a disk inside a snapshot, or undefined when the snapshot does not hold it. */
  snapshotDiskPath(snapshotId: string, diskId: string): string | undefined {
    this.sweep();
    return this.snapshots.get(snapshotId)?.disks.find((d) => d.diskId === diskId)?.path;
  }

  /**
   * A guest write to the live disk: changes a 4 KiB block (or the given region) with random bytes
   * (or a seed's, the same each time), so later reads differ from earlier snapshots.
   */
  async writeToDisk(diskId: string, region?: WrittenRegion): Promise<void> {
    const disk = this.getDisk(diskId);
    if (region && !(Number.isInteger(region.offset) && Number.isInteger(region.bytes) && region.offset >= 0 && region.bytes > 0 && region.offset < disk.provisionedSize)) {
      throw new Error(`writeToDisk ${diskId}: region ${region.offset}+${region.bytes} is not inside the disk (${disk.provisionedSize} bytes)`);
    }
    const { offset, length } = await scribble(await this.liveImage(disk), disk.provisionedSize, region);
    this.backups.recordWrite(diskId, offset, length);
  }

  /** A guest write of `length` random bytes at `offset` (clipped to the disk): its blocks become dirty for the backup API. */
  async writeDiskRange(diskId: string, offset: number, length: number): Promise<void> {
    const end = Math.min(this.getDisk(diskId).provisionedSize, offset + length);
    if (end > offset) await this.writeToDisk(diskId, { offset, bytes: end - offset });
  }

  /** Every issued token and session stops working (clients must fetch a new token). */
  expireAllTokens(): void {
    this.tokens.expireAll();
  }
}
