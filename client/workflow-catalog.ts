/**
 * The workflows a client can start, with the same zod input schemas the workflows validate with:
 * a bad input is refused before anything is sent, with the same messages. Pure (zod and input
 * schemas only), so workflow code may import it too.
 */
import type { z } from 'zod';
import { fleetBackupInput } from '../workflows/inputs/fleet-backup';
import { reaperInput } from '../workflows/inputs/reaper';
import { ovirtSnapshotBackupInput } from '../workflows/inputs/ovirt-snapshot-backup';
import { altaroBackupInput, altaroOperationInput } from '../workflows/inputs/altaro-operation';
import { onappBackupInput, onappListBackupsInput } from '../workflows/inputs/onapp-backup';
import { manageiqDeleteSnapshotsInput, manageiqRevertInput, manageiqSnapshotInput } from '../workflows/inputs/manageiq-snapshot';
import { azureFileRecoveryInput, azureProtectVmInput, azureRestoreInput, azureVmBackupInput } from '../workflows/inputs/azure-inputs';

export interface WorkflowEntry {
  provider: string;
  summary: string;
  input: z.ZodType;
  /** The VM (or object) the run is about, for ids, summaries and listings. */
  subject: (input: Record<string, unknown>) => string | undefined;
  /**
   * 'backup': at most one run per VM at a time; its workflow id is backup-<provider>-<subject>, so
   * a second start finds the running one. Anything else gets a fresh id per start.
   */
  kind?: 'backup' | 'operation';
  /** Fleets: the proxy a run uses, for per-proxy concurrency caps. */
  proxyOf?: (input: Record<string, unknown>) => string | undefined;
  /** Fleets given a vendor query: the activity that lists VMs, and how a listed VM becomes an input. */
  inventory?: {
    activity: string;
    args: (defaults: Record<string, unknown>, filter: string) => Record<string, unknown>;
    toInput: (vm: { id: string; name: string }) => Record<string, unknown>;
  };
  /** How a schedule keeps the newest N of the backups it made (see workflows/scheduled-backup.ts). */
  retention?: RetentionAdapter;
}

export interface RetentionAdapter {
  /** The input a scheduled run gets, marked so its backup can be told apart from others later. */
  mark: (input: Record<string, unknown>, scheduleId: string) => Record<string, unknown>;
  /** The vendor activity that keeps the newest `keep` marked backups and removes the rest. */
  pruneActivity: string;
  pruneArgs: (input: Record<string, unknown>, scheduleId: string, keep: number) => Record<string, unknown>;
}

export const workflowCatalog = {
  ovirtSnapshotBackup: {
    provider: 'ovirt',
    kind: 'backup',
    summary: 'oVirt/RHV: snapshot → config → disks → attach → copy → detach → delete',
    input: ovirtSnapshotBackupInput,
    subject: (i) => (typeof i.vmId === 'string' ? i.vmId : undefined),
    proxyOf: (i) => (typeof i.proxyVmId === 'string' ? i.proxyVmId : undefined),
    inventory: {
      activity: 'ovirtListVms',
      args: (defaults, filter) => ({ endpoint: defaults.endpoint, search: filter }),
      toInput: (vm) => ({ vmId: vm.id }),
    },
    retention: {
      // A scheduled snapshot is kept on the engine as the recovery point the schedule prunes.
      mark: (i, scheduleId) => ({ ...i, keepSnapshot: true, description: `${(i.description as string | undefined) ?? 'backup'} [schedule ${scheduleId}]` }),
      pruneActivity: 'ovirtPruneSnapshots',
      pruneArgs: (i, scheduleId, keep) => ({ endpoint: i.endpoint, vmId: i.vmId, marker: `[schedule ${scheduleId}]`, keep }),
    },
  },
  altaroBackup: {
    provider: 'altaro',
    kind: 'backup',
    summary: 'Altaro VM Backup: take-backup → track the operation → report (cancel aborts it)',
    input: altaroBackupInput,
    subject: (i) => (typeof i.vmRef === 'string' ? i.vmRef : undefined),
  },
  altaroOperation: {
    provider: 'altaro',
    kind: 'operation',
    summary: 'Altaro VM Backup: any instruction (backup, offsite copy, restore, seed-to-disk, sandbox restore, verification) → track → report',
    input: altaroOperationInput,
    subject: (i) => (typeof i.vmRef === 'string' ? i.vmRef : undefined),
  },
  onappBackup: {
    provider: 'onapp',
    kind: 'backup',
    summary: 'OnApp: take a backup (incremental per server, or normal per disk) → poll until built → report',
    input: onappBackupInput,
    subject: (i) => (typeof i.virtualServerId === 'number' ? String(i.virtualServerId) : undefined),
  },
  onappListBackups: {
    provider: 'onapp',
    kind: 'operation',
    summary: "OnApp: the catalogue of a virtual server's backups",
    input: onappListBackupsInput,
    subject: (i) => (typeof i.virtualServerId === 'number' ? String(i.virtualServerId) : undefined),
  },
  manageiqSnapshot: {
    provider: 'manageiq',
    kind: 'backup',
    summary: 'ManageIQ: snapshot a VM or instance → wait for the task → confirm → keep the newest N tool-made snapshots',
    input: manageiqSnapshotInput,
    subject: (i) => (i.resourceId !== undefined ? String(i.resourceId) : undefined),
  },
  manageiqRevert: {
    provider: 'manageiq',
    kind: 'operation',
    summary: 'ManageIQ: revert a VM to a named (or the newest) snapshot and wait for the task',
    input: manageiqRevertInput,
    subject: (i) => (i.resourceId !== undefined ? String(i.resourceId) : undefined),
  },
  manageiqDeleteSnapshots: {
    provider: 'manageiq',
    kind: 'operation',
    summary: "ManageIQ: bulk-delete chosen snapshots, reporting each one's result",
    input: manageiqDeleteSnapshotsInput,
    subject: (i) => (i.resourceId !== undefined ? String(i.resourceId) : undefined),
  },
  azureProtectVm: {
    provider: 'azure',
    kind: 'operation',
    summary: 'Azure Backup: policy → refresh containers → find the VM → enable protection (already protected: no change)',
    input: azureProtectVmInput,
    subject: azureVmSubject,
  },
  azureVmBackup: {
    provider: 'azure',
    kind: 'backup',
    summary: 'Azure Backup: (protect) → backup now → track → follow the job → new recovery point (cancel cancels the job)',
    input: azureVmBackupInput,
    subject: azureVmSubject,
  },
  azureRestore: {
    provider: 'azure',
    kind: 'operation',
    summary: 'Azure Backup: recovery point → restore disks or as a new VM → track → follow the job',
    input: azureRestoreInput,
    subject: azureVmSubject,
  },
  azureFileRecovery: {
    provider: 'azure',
    kind: 'operation',
    summary: 'Azure Backup: file recovery script (password kept worker-side) → "done" signal or time limit → revoke',
    input: azureFileRecoveryInput,
    subject: azureVmSubject,
  },
  reaper: {
    provider: 'any',
    kind: 'operation',
    summary: 'removes what terminated runs left at the vendor (oVirt snapshots and attached disks, ManageIQ snapshots, unfinished OnApp backups, Azure file-recovery connections); never what it did not make or a run kept',
    input: reaperInput,
    subject: () => undefined,
  },
  fleetBackup: {
    provider: 'fleet',
    kind: 'operation',
    summary: 'many VMs as child backups, with caps per provider and per proxy VM',
    input: fleetBackupInput,
    subject: () => undefined,
  },
} satisfies Record<string, WorkflowEntry>;

export type WorkflowType = keyof typeof workflowCatalog;

/** Azure VMs by name (the last segment of a resource id). */
function azureVmSubject(i: Record<string, unknown>): string | undefined {
  if (typeof i.vmResourceId === 'string') return i.vmResourceId.split('/').pop();
  return typeof i.vmName === 'string' ? i.vmName : undefined;
}
/** What a caller passes for a workflow type: the schema's input side (defaults optional). */
export type WorkflowInput<T extends WorkflowType> = z.input<(typeof workflowCatalog)[T]['input']>;

export function catalogEntry(workflowType: string): WorkflowEntry | undefined {
  return (workflowCatalog as Record<string, WorkflowEntry>)[workflowType];
}

/** The workflow id a run gets: per VM for backups (one at a time), unique otherwise. */
export function workflowIdFor(workflowType: string, input: Record<string, unknown>, unique: string): string {
  const entry = catalogEntry(workflowType);
  const subject = entry?.subject(input);
  if (entry?.kind === 'backup' && subject) return `backup-${entry.provider}-${subject}`;
  return `${workflowType}-${unique}`;
}
