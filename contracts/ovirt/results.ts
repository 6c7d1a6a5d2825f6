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
