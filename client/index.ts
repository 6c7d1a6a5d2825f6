export { BackupClient, type RunStatus, type StartOptions, type StartedRun } from './backup-client';
export { BackupClientError, InvalidInputError, NotFoundError, RunCancelledError, RunFailedError, ServerUnreachableError } from './errors';
export { workflowCatalog } from '../contracts/catalog';
export type { OvirtSnapshotBackupInput } from '../contracts/ovirt/input';
export type { OvirtBackupManifest } from '../contracts/ovirt/results';
