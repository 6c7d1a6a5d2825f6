/**
 * The workflows a client can start, with the same zod input schemas the workflows validate with:
 * a bad input is refused before anything is sent, with the same messages. Builds every schema:
 * workflow code routes through contracts/routing.ts instead.
 */
import type { z } from 'zod';
import type { WorkflowEntry, WorkflowRoute } from './catalog-entry';
import { workflowRoutes } from './routing';
import { rpoWatchInput } from './alerts/input';
import { altaroBackupInput, altaroOperationInput } from './altaro/input';
import { azureFileRecoveryInput, azureProtectVmInput, azureRestoreInput, azureVmBackupInput } from './azure/input';
import { fleetBackupInput } from './fleet/input';
import { manageiqDeleteSnapshotsInput, manageiqRevertInput, manageiqSnapshotInput } from './manageiq/input';
import { onappBackupInput, onappListBackupsInput, onappRestoreInput } from './onapp/input';
import { ovirtSnapshotBackupInput } from './ovirt/input';
import { ovirtIncrementalBackupInput } from './ovirt/incremental-input';
import { ovirtRestoreDrillInput, ovirtRestoreInput } from './ovirt/restore-input';
import { reaperInput } from './reaper/input';
import { ovirtListBackupsInput, verifyBackupsInput } from './repository/input';
import { pruneBackupsInput } from './retention/input';

export type { RetentionAdapter, WorkflowEntry, WorkflowRoute } from './catalog-entry';
export { workflowIdFor } from './routing';

const schemas = {
  ovirtSnapshotBackup: ovirtSnapshotBackupInput,
  ovirtIncrementalBackup: ovirtIncrementalBackupInput,
  ovirtRestore: ovirtRestoreInput,
  ovirtRestoreDrill: ovirtRestoreDrillInput,
  altaroBackup: altaroBackupInput,
  altaroOperation: altaroOperationInput,
  onappBackup: onappBackupInput,
  onappListBackups: onappListBackupsInput,
  onappRestore: onappRestoreInput,
  manageiqSnapshot: manageiqSnapshotInput,
  manageiqRevert: manageiqRevertInput,
  manageiqDeleteSnapshots: manageiqDeleteSnapshotsInput,
  azureProtectVm: azureProtectVmInput,
  azureVmBackup: azureVmBackupInput,
  azureRestore: azureRestoreInput,
  azureFileRecovery: azureFileRecoveryInput,
  reaper: reaperInput,
  verifyBackups: verifyBackupsInput,
  ovirtListBackups: ovirtListBackupsInput,
  pruneBackups: pruneBackupsInput,
  fleetBackup: fleetBackupInput,
  rpoWatch: rpoWatchInput,
} satisfies { [T in keyof typeof workflowRoutes]: z.ZodType };

type Catalog = { [T in keyof typeof workflowRoutes]: (typeof workflowRoutes)[T] & { input: (typeof schemas)[T] } };

export const workflowCatalog = Object.fromEntries(
  Object.entries(workflowRoutes).map(([type, route]: [string, WorkflowRoute]) => [type, { ...route, input: schemas[type as WorkflowType] }]),
) as Catalog;

export type WorkflowType = keyof typeof workflowRoutes;

/** What a caller passes for a workflow type: the schema's input side (defaults optional). */
export type WorkflowInput<T extends WorkflowType> = z.input<(typeof schemas)[T]>;

export function catalogEntry(workflowType: string): WorkflowEntry | undefined {
  return Object.hasOwn(workflowCatalog, workflowType) ? (workflowCatalog as Record<string, WorkflowEntry>)[workflowType] : undefined;
}
