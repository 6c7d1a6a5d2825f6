/** Every workflow the worker registers; the Temporal UI starts them by these names. */
export { ovirtSnapshotBackup } from './ovirt-snapshot-backup';
