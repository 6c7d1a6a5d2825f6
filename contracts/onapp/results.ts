/** What the OnApp workflows return. */
import type { OnappBackup } from '../../activities/onapp/activities';
import type { StepTiming } from '../progress';

export interface OnappBackupResult {
  provider: 'onapp';
  workflowId: string;
  runId: string;
  endpoint: string;
  virtualServer: { id: number; label: string; identifier: string };
  disk?: { id: number; label: string | null; sizeGb: number };
  /** The finished backup with every field OnApp reports. */
  backup: OnappBackup;
  /** The fields an admin asks for first. */
  summary: { id: number; type: 'normal' | 'incremental'; sizeKb: number | null; builtAt: string | null; identifier: string };
  /** How many times the backup list was read before the backup showed as built. */
  polls: number;
  adopted: boolean;
  timings: StepTiming[];
  startedAt: string;
  completedAt: string;
}

export interface OnappListBackupsResult {
  provider: 'onapp';
  endpoint: string;
  virtualServerId: number;
  kind: 'all' | 'normal' | 'incremental';
  count: number;
  backups: OnappBackup[];
}

export interface OnappRestoreResult {
  provider: 'onapp';
  workflowId: string;
  runId: string;
  endpoint: string;
  /** The server the backup was restored onto (OnApp restores onto the server the backup was taken of). */
  virtualServer: { id: number; label: string; identifier: string };
  /** The backup restored, as the preflight read it. */
  backup: OnappBackup;
  /** backupId given by number, or "latest" resolved to this backup. */
  chosen: 'given' | 'latest';
  /** The fields an admin asks for first. */
  summary: { backupId: number; type: 'normal' | 'incremental'; builtAt: string | null; identifier: string; restoredOnto: string; booted: boolean | null };
  /** How many times the server was read before the restore no longer kept it locked. */
  polls: number;
  /** An earlier attempt's restore (its reply lost) was found running and waited for, not started again. */
  adopted: boolean;
  timings: StepTiming[];
  startedAt: string;
  completedAt: string;
}
