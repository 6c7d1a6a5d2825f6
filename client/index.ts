export { BackupClient, failedItemsOf, type RunStatus, type StartOptions, type StartedRun } from './backup-client';
export {
  ActionRefusedError,
  BackupClientError,
  ConnectionSettingsRefusedError,
  InvalidInputError,
  NotFoundError,
  RunAlreadyEndedError,
  RunCancelledError,
  RunFailedError,
  ServerUnreachableError,
  type UndoAccount,
} from './errors';
export type { CleanupAnswer, OperatorAction } from '../contracts/operator-actions';
export { workflowCatalog } from '../contracts/catalog';
export type { OvirtSnapshotBackupInput } from '../contracts/ovirt/input';
export type { OvirtBackupManifest } from '../contracts/ovirt/results';
