/**
 * The engine's backup API (4.4+) as the simulator plays it: VM backups (initializing → ready →
 * finalizing → succeeded | failed), the VM's checkpoints (a chain; only the root can be removed),
 * image transfers (initializing → transferring → finalizing_success → finished_success, or
 * cancelled_user / finished_failure) with a lock on the disk while one is open, and the tickets the
 * imageio server serves. Timed transitions are computed from the simulated clock when read.
 *
 * Changed blocks: every write to a disk (OvirtState.writeToDisk / writeDiskRange) stamps the 64 KiB
 * blocks it touched with a write sequence number; a checkpoint remembers the sequence number at its
 * backup's start, so the dirty blocks since a checkpoint are those stamped later. A backup freezes
 * the disk's bytes and its dirty map at its start (the engine's point-in-time view).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { copyImage, removeQuietly, removeQuietlySync } from './disk-content';
import { OvirtFault, notFound, type Disk, type OvirtState } from './state';

/** The granularity of the simulated dirty bitmaps (qemu's default for a qcow2 bitmap). */
export const BITMAP_GRANULARITY = 64 * 1024;

export type BackupPhase = 'initializing' | 'ready' | 'finalizing' | 'succeeded' | 'failed';
export type TransferPhase = 'initializing' | 'transferring' | 'finalizing_success' | 'finished_success' | 'cancelled_user' | 'finished_failure';

export interface Checkpoint {
  id: string;
  vmId: string;
  parentId?: string;
  createdAt: number;
  diskIds: string[];
  /** Write sequence number when its backup started: blocks written later are dirty since it. */
  seq: number;
  /** False after an unclean shutdown: an incremental from it fails the way the engine's does. */
  bitmapsValid: boolean;
}

export interface BackupDisk {
  diskId: string;
  mode: 'full' | 'incremental';
  /** The disk's bytes at the backup's start. */
  frozenPath: string;
  size: number;
  /** Dirty block indexes since the from-checkpoint (incremental disks only), sorted. */
  dirtyBlocks?: number[];
}

export interface VmBackup {
  id: string;
  vmId: string;
  description: string;
  fromCheckpointId?: string;
  toCheckpointId?: string;
  createdAt: number;
  disks: BackupDisk[];
  /** When it becomes ready (or fails, with `failure`). */
  readyAt: number;
  failure?: string;
  finalizedAt?: number;
  /** Never leaves finalizing (a scripted field failure). */
  stuckInFinalizing?: boolean;
}

export interface ImageTransfer {
  id: string;
  diskId: string;
  backupId?: string;
  direction: 'download';
  format: 'raw';
  ticket: string;
  createdAt: number;
  transferringAt: number;
  finalizedAt?: number;
  cancelledAt?: number;
  /** Bytes the imageio server sent for this ticket (range GETs). */
  bytesServed: number;
}

/** Field failures a test queues (state.script): each applies to the next backup or finalize that fits. */
export interface BackupOutcomes {
  /** The next incremental backup starts, then fails (e.g. "bitmap does not exist", ovirt-engine #896). */
  incrementalFails: { message: string };
  /** The engine refuses the next from_checkpoint_id outright (the POST answers an error). */
  refuseCheckpoint: { status?: number; detail?: string };
  /** The next finalized backup stays in finalizing. */
  finalizeStuck: Record<string, never>;
}

export interface BackupTimings {
  backupStartMs: number;
  backupFinalizeMs: number;
  transferStartMs: number;
  transferFinalizeMs: number;
}

const conflict = (detail: string) => new OvirtFault(409, 'Operation Failed', `[${detail}]`);
const OPEN_TRANSFER: TransferPhase[] = ['initializing', 'transferring', 'finalizing_success'];

export class BackupService {
  private backups = new Map<string, VmBackup>();
  private checkpoints: Checkpoint[] = [];
  private transfers = new Map<string, ImageTransfer>();
  /** diskId → (block index → write seq). */
  private writes = new Map<string, Map<number, number>>();
  private seq = 0;
  /** Every byte the imageio server sent since the last reset (range GETs of every ticket). */
  bytesServed = 0;

  constructor(
    private readonly state: OvirtState,
    readonly timings: BackupTimings,
  ) {}

  private get frozenDir(): string {
    return join(this.state.options.dataDir, 'backups');
  }

  reset(): void {
    removeQuietlySync(this.frozenDir);
    mkdirSync(this.frozenDir, { recursive: true });
    this.backups = new Map();
    this.checkpoints = [];
    this.transfers = new Map();
    this.writes = new Map();
    this.seq = 0;
    this.bytesServed = 0;
  }

  private now(): number {
    return this.state.now();
  }

  // ---- changed blocks -------------------------------------------------------------------------

  /** A guest write of [offset, offset + length) to the disk: its blocks are dirty for every checkpoint before it. */
  recordWrite(diskId: string, offset: number, length: number): void {
    if (length <= 0) return;
    const seq = ++this.seq;
    let blocks = this.writes.get(diskId);
    if (!blocks) this.writes.set(diskId, (blocks = new Map()));
    const first = Math.floor(offset / BITMAP_GRANULARITY);
    const last = Math.floor((offset + length - 1) / BITMAP_GRANULARITY);
    for (let b = first; b <= last; b++) blocks.set(b, seq);
  }

  private dirtySince(diskId: string, seq: number): number[] {
    const blocks = this.writes.get(diskId);
    if (!blocks) return [];
    return [...blocks.entries()]
      .filter(([, s]) => s > seq)
      .map(([b]) => b)
      .sort((a, b) => a - b);
  }

  /** An unclean shutdown: every bitmap of the VM's checkpoints is gone; nothing shows it until an incremental tries. */
  invalidateBitmaps(vmId: string): void {
    for (const c of this.checkpoints) if (c.vmId === vmId) c.bitmapsValid = false;
  }

  // ---- checkpoints ----------------------------------------------------------------------------

  checkpointsOf(vmId: string): Checkpoint[] {
    this.state.getVm(vmId);
    return this.checkpoints.filter((c) => c.vmId === vmId);
  }

  getCheckpoint(vmId: string, id: string): Checkpoint {
    const found = this.checkpointsOf(vmId).find((c) => c.id === id);
    if (!found) throw notFound(`Entity not found: checkpoint ${id} of VM ${vmId}`);
    return found;
  }

  /** Only the root (oldest) checkpoint can be removed, as the engine allows. */
  removeCheckpoint(vmId: string, id: string): void {
    const vm = this.state.getVm(vmId);
    const mine = this.checkpointsOf(vmId);
    const checkpoint = this.getCheckpoint(vmId, id);
    if (mine[0] !== checkpoint) throw conflict(`Cannot remove VM checkpoint. Checkpoint ${id} is not the root checkpoint of VM ${vm.name}; only the root checkpoint can be removed.`);
    if (this.listBackups(vmId).some((b) => b.fromCheckpointId === id && !['succeeded', 'failed'].includes(this.phase(b)))) {
      throw conflict(`Cannot remove VM checkpoint. A backup of VM ${vm.name} from checkpoint ${id} is running.`);
    }
    this.checkpoints = this.checkpoints.filter((c) => c !== checkpoint);
    const next = this.checkpoints.find((c) => c.vmId === vmId);
    if (next) next.parentId = undefined;
  }

  // ---- backups --------------------------------------------------------------------------------

  phase(b: VmBackup): BackupPhase {
    const now = this.now();
    if (now < b.readyAt) return 'initializing';
    if (b.failure !== undefined) return 'failed';
    if (b.finalizedAt === undefined) return 'ready';
    if (b.stuckInFinalizing || now < b.finalizedAt + this.timings.backupFinalizeMs) return 'finalizing';
    return 'succeeded';
  }

  listBackups(vmId: string): VmBackup[] {
    return [...this.backups.values()].filter((b) => b.vmId === vmId);
  }

  getBackup(vmId: string, backupId: string): VmBackup {
    const b = this.backups.get(backupId);
    if (!b || b.vmId !== vmId) throw notFound(`Entity not found: backup ${backupId} of VM ${vmId}`);
    return b;
  }

  async createBackup(vmId: string, input: { diskIds?: string[]; fromCheckpointId?: string; description?: string }): Promise<VmBackup> {
    const vm = this.state.getVm(vmId);
    if (this.listBackups(vmId).some((b) => !['succeeded', 'failed'].includes(this.phase(b)))) {
      throw conflict(`Cannot backup VM. VM ${vm.name} is during a backup operation.`);
    }
    const vmDisks = this.state
      .attachmentsOf(vmId)
      .filter((a) => a.snapshotId === undefined)
      .map((a) => this.state.getDisk(a.diskId));
    const diskIds = input.diskIds ?? vmDisks.filter((d) => d.backup === 'incremental').map((d) => d.id);
    if (diskIds.length === 0) throw new OvirtFault(400, 'Incomplete parameters', 'Backup [disks] required for add');
    const disks: Disk[] = diskIds.map((id) => {
      const disk = vmDisks.find((d) => d.id === id);
      if (!disk) throw conflict(`Cannot backup VM. Disk ${id} is not attached to VM ${vm.name}.`);
      if (disk.storageType !== 'image') throw conflict(`Cannot backup VM. Disk ${disk.name} is not an image disk.`);
      return disk;
    });
    let from: Checkpoint | undefined;
    let failure: string | undefined;
    if (input.fromCheckpointId !== undefined) {
      const refusal = this.state.script.take('refuseCheckpoint');
      if (refusal) throw new OvirtFault(refusal.status ?? 400, 'Bad Request', refusal.detail ?? `Cannot backup VM. Checkpoint ${input.fromCheckpointId} cannot be used for an incremental backup.`);
      from = this.checkpointsOf(vmId).find((c) => c.id === input.fromCheckpointId);
      if (!from) throw conflict(`Cannot backup VM. Checkpoint ${input.fromCheckpointId} does not exist for VM ${vm.name}.`);
      if (!from.bitmapsValid) failure = `Bitmap does not exist for checkpoint ${from.id} (the VM's bitmaps are invalid, after an unclean shutdown?)`;
      else failure = this.state.script.take('incrementalFails')?.message;
    }
    const id = randomUUID();
    const now = this.now();
    const backupDisks: BackupDisk[] = [];
    for (const disk of disks) {
      // A disk the from-checkpoint did not cover, or one without incremental backup, is backed up in full.
      const incremental = from !== undefined && disk.backup === 'incremental' && from.diskIds.includes(disk.id);
      const frozenPath = join(this.frozenDir, id, `${disk.id}.img`);
      await copyImage(await this.state.diskImagePath(disk.id), frozenPath);
      backupDisks.push({
        diskId: disk.id,
        mode: incremental ? 'incremental' : 'full',
        frozenPath,
        size: disk.provisionedSize,
        ...(incremental ? { dirtyBlocks: this.dirtySince(disk.id, from!.seq) } : {}),
      });
    }
    const backup: VmBackup = {
      id,
      vmId,
      description: input.description ?? '',
      fromCheckpointId: from?.id,
      createdAt: now,
      disks: backupDisks,
      readyAt: now + this.timings.backupStartMs,
      ...(failure !== undefined ? { failure } : {}),
    };
    if (failure === undefined) {
      const mine = this.checkpointsOf(vmId);
      const checkpoint: Checkpoint = {
        id: randomUUID(),
        vmId,
        parentId: mine.at(-1)?.id,
        createdAt: now,
        diskIds: disks.filter((d) => d.backup === 'incremental').map((d) => d.id),
        seq: this.seq,
        bitmapsValid: true,
      };
      this.checkpoints.push(checkpoint);
      backup.toCheckpointId = checkpoint.id;
    }
    this.backups.set(id, backup);
    return backup;
  }

  finalizeBackup(vmId: string, backupId: string): VmBackup {
    const b = this.getBackup(vmId, backupId);
    const phase = this.phase(b);
    if (phase === 'finalizing' || phase === 'succeeded') return b;
    if (phase !== 'ready') throw conflict(`Cannot finalize backup ${backupId}. The backup is ${phase}.`);
    const open = [...this.transfers.values()].find((t) => t.backupId === b.id && OPEN_TRANSFER.includes(this.transferPhase(t)));
    if (open) throw conflict(`Cannot finalize backup ${backupId}. Image transfer ${open.id} of disk ${open.diskId} is still in progress.`);
    b.finalizedAt = this.now();
    if (this.state.script.take('finalizeStuck')) b.stuckInFinalizing = true;
    void this.dropFrozenLater(b);
    return b;
  }

  /** The frozen copies go once the backup has ended (nothing serves them any more). */
  private async dropFrozenLater(b: VmBackup): Promise<void> {
    if (b.stuckInFinalizing) return;
    await removeQuietly(join(this.frozenDir, b.id));
  }

  // ---- image transfers ------------------------------------------------------------------------

  transferPhase(t: ImageTransfer): TransferPhase {
    const now = this.now();
    if (t.cancelledAt !== undefined) return 'cancelled_user';
    if (t.finalizedAt !== undefined) return now < t.finalizedAt + this.timings.transferFinalizeMs ? 'finalizing_success' : 'finished_success';
    return now < t.transferringAt ? 'initializing' : 'transferring';
  }

  listTransfers(): ImageTransfer[] {
    return [...this.transfers.values()];
  }

  getTransfer(id: string): ImageTransfer {
    const t = this.transfers.get(id);
    if (!t) throw notFound(`Entity not found: image transfer ${id}`);
    return t;
  }

  /** A disk with a transfer open is locked: nothing else may touch it. */
  diskLocked(diskId: string): boolean {
    return [...this.transfers.values()].some((t) => t.diskId === diskId && OPEN_TRANSFER.includes(this.transferPhase(t)));
  }

  openTransfers(): ImageTransfer[] {
    return [...this.transfers.values()].filter((t) => OPEN_TRANSFER.includes(this.transferPhase(t)));
  }

  createTransfer(input: { diskId: string; backupId?: string; direction: string; format?: string }): ImageTransfer {
    const disk = this.state.getDisk(input.diskId);
    if (input.direction !== 'download') throw new OvirtFault(400, 'Bad Request', `the simulator serves downloads of backups only, not ${input.direction}`);
    if (input.format !== undefined && input.format !== 'raw') throw new OvirtFault(400, 'Bad Request', `the simulator serves the raw format only, not ${input.format}`);
    if (input.backupId === undefined) throw new OvirtFault(400, 'Bad Request', 'the simulator serves transfers of a backup only: give <backup id>');
    const b = this.backups.get(input.backupId);
    if (!b) throw notFound(`Entity not found: backup ${input.backupId}`);
    if (this.phase(b) !== 'ready') throw conflict(`Cannot transfer Virtual Disk. Backup ${b.id} is ${this.phase(b)}, not ready.`);
    if (!b.disks.some((d) => d.diskId === disk.id)) throw conflict(`Cannot transfer Virtual Disk. Disk ${disk.name} is not part of backup ${b.id}.`);
    if (this.diskLocked(disk.id)) throw conflict(`Cannot transfer Virtual Disk. The following disks are locked: ${disk.name}. Please try again in a few minutes.`);
    const now = this.now();
    const t: ImageTransfer = {
      id: randomUUID(),
      diskId: disk.id,
      backupId: b.id,
      direction: 'download',
      format: 'raw',
      ticket: randomUUID(),
      createdAt: now,
      transferringAt: now + this.timings.transferStartMs,
      bytesServed: 0,
    };
    this.transfers.set(t.id, t);
    return t;
  }

  finalizeTransfer(id: string): ImageTransfer {
    const t = this.getTransfer(id);
    const phase = this.transferPhase(t);
    if (phase === 'finalizing_success' || phase === 'finished_success') return t;
    if (phase !== 'transferring') throw conflict(`Cannot finalize image transfer ${id}. It is ${phase}.`);
    t.finalizedAt = this.now();
    return t;
  }

  cancelTransfer(id: string): ImageTransfer {
    const t = this.getTransfer(id);
    const phase = this.transferPhase(t);
    if (phase === 'finished_success' || phase === 'cancelled_user') return t;
    t.cancelledAt = this.now();
    return t;
  }

  // ---- what imageio serves ----------------------------------------------------------------------

  /** The transfer behind a ticket, while it may be read. */
  ticket(ticketId: string): { transfer: ImageTransfer; disk: BackupDisk } | undefined {
    const transfer = [...this.transfers.values()].find((t) => t.ticket === ticketId);
    if (!transfer || this.transferPhase(transfer) !== 'transferring') return undefined;
    const b = this.backups.get(transfer.backupId ?? '');
    const disk = b?.disks.find((d) => d.diskId === transfer.diskId);
    return disk ? { transfer, disk } : undefined;
  }

  /** Extents of the frozen image: zero/data (context zero) or dirty/clean since the from-checkpoint (context dirty). */
  async extents(disk: BackupDisk, context: 'zero' | 'dirty'): Promise<Array<Record<string, number | boolean>>> {
    const zeroBlocks = await zeroBlockMap(disk.frozenPath, disk.size);
    const blocks = Math.ceil(disk.size / BITMAP_GRANULARITY);
    const dirty = new Set(disk.dirtyBlocks ?? []);
    const out: Array<Record<string, number | boolean>> = [];
    for (let b = 0; b < blocks; b++) {
      const start = b * BITMAP_GRANULARITY;
      const length = Math.min(BITMAP_GRANULARITY, disk.size - start);
      const zero = zeroBlocks[b]!;
      const entry: Record<string, number | boolean> = context === 'zero' ? { start, length, zero, hole: false } : { start, length, dirty: dirty.has(b), zero };
      const last = out.at(-1);
      const same = last && Object.keys(entry).every((k) => k === 'start' || k === 'length' || last[k] === entry[k]);
      if (same) last.length = (last.length as number) + length;
      else out.push(entry);
    }
    return out;
  }

  /** Reads [start, end] of the frozen image and counts it as served. */
  async read(transfer: ImageTransfer, disk: BackupDisk, start: number, end: number): Promise<Buffer> {
    const length = end - start + 1;
    const buffer = Buffer.alloc(length);
    const handle = await open(disk.frozenPath, 'r');
    try {
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } finally {
      await handle.close();
    }
    transfer.bytesServed += length;
    this.bytesServed += length;
    return buffer;
  }
}

const ZERO_BLOCK = Buffer.alloc(BITMAP_GRANULARITY);

/** Which 64 KiB blocks of the image read as zeros. */
async function zeroBlockMap(path: string, size: number): Promise<boolean[]> {
  const handle = await open(path, 'r');
  const buffer = Buffer.alloc(BITMAP_GRANULARITY * 16);
  const zeros: boolean[] = [];
  try {
    for (let offset = 0; offset < size; offset += buffer.length) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - offset), offset);
      for (let at = 0; at < bytesRead; at += BITMAP_GRANULARITY) {
        const block = buffer.subarray(at, Math.min(at + BITMAP_GRANULARITY, bytesRead));
        zeros.push(block.equals(ZERO_BLOCK.subarray(0, block.length)));
      }
    }
  } finally {
    await handle.close();
  }
  return zeros;
}
