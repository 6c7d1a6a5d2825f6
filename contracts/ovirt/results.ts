/** What an oVirt backup run returns (the manifest it also writes into the repository). */
import type { SkippedDisk } from '../../activities/ovirt/activities';
import type { CopyDiskResult } from '../../activities/copy/copy-disk';
import type { Verification } from '../../activities/copy/restore-types';
import type { StepTiming } from '../progress';

export interface OvirtBackupManifest {
  provider: 'ovirt';
  workflowId: string;
  runId: string;
  endpoint: string;
  vm: { id: string; name: string };
  proxyVm: { id: string; name: string };
  snapshot: { id: string; description: string; kept: boolean };
  config: { type: string; path: string; bytes: number; sha256: string };
  disks: Array<{ id: string; name?: string; format?: string; provisionedSize?: number } & Omit<CopyDiskResult, 'attempt'> & { attempts: number }>;
  skippedDisks: SkippedDisk[];
  repository: { dir: string; manifestPath?: string };
  timings: StepTiming[];
  startedAt: string;
  completedAt: string;
  /** Each drill, check or restore that re-read this backup, oldest first (absent until the first). */
  verifications?: Verification[];
}

/** One restored disk: where it came from, what it is now, and its image's hash against the manifest's. */
export interface OvirtRestoredDisk {
  sourceDiskId: string;
  diskId: string;
  name: string;
  storageDomainId: string;
  bytes: number;
  sha256: string;
  manifestSha256: string;
  matched: true;
  /** Attached to the new VM as its boot disk (none for disksOnly). */
  bootable: boolean;
}

/** Which backup a restore or drill read. */
export interface OvirtRestoreSource {
  dir: string;
  workflowId: string;
  vm: { id: string; name: string };
  completedAt: string;
}

/** What `ovirtRestore` returns: the new VM (none for disksOnly) and its disks, each hash matched against the manifest. */
export interface OvirtRestoreResult {
  provider: 'ovirt';
  workflowId: string;
  runId: string;
  endpoint: string;
  backup: OvirtRestoreSource;
  vm?: { id: string; name: string; cluster: { id: string; name: string } };
  disks: OvirtRestoredDisk[];
  timings: StepTiming[];
  startedAt: string;
  completedAt: string;
}

/** What a passing `ovirtRestoreDrill` returns (a failing one fails the run after the same cleanup). */
export interface OvirtRestoreDrillResult {
  provider: 'ovirt';
  workflowId: string;
  runId: string;
  endpoint: string;
  backup: OvirtRestoreSource;
  /** The sandbox the drill made and removed: its VM (none for disksOnly) and what the cleanup undid, newest first. */
  sandbox: { vmName: string; vmId?: string; booted: boolean; removed: string[]; leftBehind: string[] };
  /** Each disk as restored, with the SHA-256 it read back through the proxy. */
  disks: Array<OvirtRestoredDisk & { readBackSha256: string }>;
  verification: Verification;
  timings: StepTiming[];
  startedAt: string;
  completedAt: string;
}
