/**
 * An incremental chain in the repository: each backup is a folder ovirt-incremental/<vm>-<id8>/
 * <start minute>-<run tail>/ with one file per disk and a manifest.json. A full disk is its whole
 * image (sparse where the engine said zero); an incremental disk is its changed ranges, one after
 * the other, listed in the manifest. `parent` names the previous backup of the chain, whose
 * `backup.toCheckpointId` this one started from; a disk is restored by composing its full and the
 * deltas after it, in order. The chain's head is the VM's newest manifest.
 *
 * In a restic repository the same folders are paths inside snapshots, and every point holds each
 * disk whole (a synthetic full, `<disk>.raw`, made from the parent's image and the dirty ranges;
 * restic's deduplication stores only what changed): a point restores on its own, `ranges` says
 * what the engine handed out, and `resticSnapshotId` is where the image is.
 */
import type { Verification } from '../../activities/copy/restore-types';
import type { StepTiming } from '../progress';

export const INCREMENTAL_PROVIDER_DIR = 'ovirt-incremental';

/** A range of the disk as one incremental holds it: its bytes are in the disk's file, in the listed order (a zero range has none). */
export interface StoredRange {
  start: number;
  length: number;
  zero?: boolean;
}

export interface IncrementalDiskRecord {
  id: string;
  name?: string;
  provisionedSize: number;
  mode: 'full' | 'incremental';
  /** Why the disk was backed up in full when an incremental was asked for. */
  reason?: string;
  fileName: string;
  /** The stored file: its size and SHA-256. */
  bytes: number;
  sha256: string;
  /** Incremental only: the changed ranges, in the order of the file. */
  ranges?: StoredRange[];
  /** SHA-256 of the whole disk as the backup saw it (the chain composed up to here). */
  imageSha256: string;
  /** Bytes read from imageio for this disk. */
  bytesFetched: number;
  resumedFromOffset: number;
  attempts: number;
  /** A restic repository: the snapshot of the disk's image (the file `<dir>/<fileName>` in it), and the bytes restic added for it. */
  resticSnapshotId?: string;
  bytesAdded?: number;
}

/** Why a run (or one disk of it) went full instead of incremental. */
export interface ChainFallback {
  diskId?: string;
  reason: string;
}

export interface OvirtIncrementalManifest {
  provider: 'ovirt';
  kind: 'ovirt-incremental';
  workflowId: string;
  runId: string;
  endpoint: string;
  vm: { id: string; name: string };
  backup: { id: string; mode: 'full' | 'incremental'; fromCheckpointId?: string; toCheckpointId: string };
  /** The previous backup of the chain (its folder), for an incremental. */
  parent?: string;
  disks: IncrementalDiskRecord[];
  fallbacks: ChainFallback[];
  skippedDisks: Array<{ id: string; name?: string; reason: string }>;
  /** The VM's configuration (the engine's OVF, GET /vms/{id}?all_content=true) at the backup's time; absent in backups made before it was saved. */
  config?: { type: string; path: string; bytes: number; sha256: string };
  repository: { dir: string; manifestPath?: string };
  timings: StepTiming[];
  startedAt: string;
  completedAt: string;
  /** Each drill, check or restore that re-read this point, oldest first (absent until the first). */
  verifications?: Verification[];
}

/** What the next run needs of the chain's head. */
export interface ChainHead {
  dir: string;
  toCheckpointId: string;
  completedAt: string;
  disks: Array<{ id: string; provisionedSize: number }>;
}
