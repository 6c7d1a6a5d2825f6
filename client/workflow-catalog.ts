/**
 * The workflows a client can start, with the same zod input schemas the workflows validate with:
 * a bad input is refused before anything is sent, with the same messages.
 */
import type { z } from 'zod';
import { ovirtSnapshotBackupInput } from '../workflows/inputs/ovirt-snapshot-backup';

export interface WorkflowEntry {
  provider: string;
  summary: string;
  input: z.ZodType;
  /** The VM (or object) the run is about, for ids and listings. */
  subject: (input: Record<string, unknown>) => string | undefined;
}

export const workflowCatalog: Record<string, WorkflowEntry> = {
  ovirtSnapshotBackup: {
    provider: 'ovirt',
    summary: 'oVirt/RHV: snapshot → config → disks → attach → copy → detach → delete',
    input: ovirtSnapshotBackupInput,
    subject: (i) => (typeof i.vmId === 'string' ? i.vmId : undefined),
  },
};

export type WorkflowType = keyof typeof workflowCatalog;
