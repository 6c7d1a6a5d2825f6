/** Every workflow the worker registers; the Temporal UI starts them by these names. */
export { ovirtSnapshotBackup } from './ovirt-snapshot-backup';
export { altaroOperation, altaroBackup } from './altaro-operation';
export { onappBackup, onappListBackups } from './onapp-backup';
export { manageiqSnapshot, manageiqRevert, manageiqDeleteSnapshots } from './manageiq-snapshot';
export { azureProtectVm } from './azure-protect-vm';
export { azureVmBackup } from './azure-vm-backup';
export { azureRestore } from './azure-restore';
export { azureFileRecovery } from './azure-file-recovery';
export { scheduledBackup } from './scheduled-backup';
export { fleetBackup } from './fleet-backup';
export { reaper } from './reaper';
