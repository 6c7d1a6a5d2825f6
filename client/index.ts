export { BackupClient, type RunStatus, type StartOptions, type StartedRun } from './backup-client';
export { BackupClientError, InvalidInputError, NotFoundError, RunCancelledError, RunFailedError } from './errors';
export { workflowCatalog } from './workflow-catalog';
export type { OvirtSnapshotBackupInput } from '../workflows/inputs/ovirt-snapshot-backup';
export type { OvirtBackupManifest } from '../workflows/ovirt-snapshot-backup';
