/**
 * Every workflow the worker registers; the Temporal UI starts them by these names.
 *
 * Each entry loads its module on first call. The SDK instantiates this module afresh for every
 * workflow run (module state is per run), so importing every workflow here would build every
 * vendor's input schemas, and zod with them, for each run of any one of them (docs/benchmarks.md, (a)
 * and (f)). Loading lazily, a run builds only its own. The import is eager in the bundle (no chunk to
 * fetch) and resolves in a microtask of the same activation: the first workflow task issues the same
 * commands as a static import would.
 */
import type * as OvirtSnapshotBackup from './ovirt-snapshot-backup';
import type * as OvirtRestore from './ovirt-restore';
import type * as OvirtIncrementalBackup from './ovirt-incremental-backup';
import type * as OvirtRestoreDrill from './ovirt-restore-drill';
import type * as AltaroOperation from './altaro-operation';
import type * as OnappBackup from './onapp-backup';
import type * as OnappRestore from './onapp-restore';
import type * as ManageiqSnapshot from './manageiq-snapshot';
import type * as AzureProtectVm from './azure-protect-vm';
import type * as AzureVmBackup from './azure-vm-backup';
import type * as AzureRestore from './azure-restore';
import type * as AzureFileRecovery from './azure-file-recovery';
import type * as ScheduledBackup from './scheduled-backup';
import type * as FleetBackup from './fleet-backup';
import type * as Reaper from './reaper';
import type * as RpoWatch from './rpo-watch';
import type * as VerifyBackups from './verify-backups';
import type * as PruneBackups from './prune-backups';

type Workflow = (...args: never[]) => Promise<unknown>;

/** A workflow function with the signature of `name` in the module `load` resolves to. */
function lazy<M, K extends keyof M & string>(load: () => Promise<M>, name: K): M[K] {
  const run = async (...args: unknown[]) => ((await load())[name] as unknown as (...a: unknown[]) => Promise<unknown>)(...args);
  Object.defineProperty(run, 'name', { value: name });
  return run as unknown as M[K] & Workflow;
}

const ovirt = () => import(/* webpackMode: "eager" */ './ovirt-snapshot-backup') as Promise<typeof OvirtSnapshotBackup>;
const altaro = () => import(/* webpackMode: "eager" */ './altaro-operation') as Promise<typeof AltaroOperation>;
const onapp = () => import(/* webpackMode: "eager" */ './onapp-backup') as Promise<typeof OnappBackup>;
const manageiq = () => import(/* webpackMode: "eager" */ './manageiq-snapshot') as Promise<typeof ManageiqSnapshot>;

export const ovirtSnapshotBackup = lazy(ovirt, 'ovirtSnapshotBackup');
export const ovirtIncrementalBackup = lazy(() => import(/* webpackMode: "eager" */ './ovirt-incremental-backup') as Promise<typeof OvirtIncrementalBackup>, 'ovirtIncrementalBackup');
export const ovirtRestore = lazy(() => import(/* webpackMode: "eager" */ './ovirt-restore') as Promise<typeof OvirtRestore>, 'ovirtRestore');
export const ovirtRestoreDrill = lazy(() => import(/* webpackMode: "eager" */ './ovirt-restore-drill') as Promise<typeof OvirtRestoreDrill>, 'ovirtRestoreDrill');
export const altaroOperation = lazy(altaro, 'altaroOperation');
export const altaroBackup = lazy(altaro, 'altaroBackup');
export const onappBackup = lazy(onapp, 'onappBackup');
export const onappListBackups = lazy(onapp, 'onappListBackups');
export const onappRestore = lazy(() => import(/* webpackMode: "eager" */ './onapp-restore') as Promise<typeof OnappRestore>, 'onappRestore');
export const manageiqSnapshot = lazy(manageiq, 'manageiqSnapshot');
export const manageiqRevert = lazy(manageiq, 'manageiqRevert');
export const manageiqDeleteSnapshots = lazy(manageiq, 'manageiqDeleteSnapshots');
export const azureProtectVm = lazy(() => import(/* webpackMode: "eager" */ './azure-protect-vm') as Promise<typeof AzureProtectVm>, 'azureProtectVm');
export const azureVmBackup = lazy(() => import(/* webpackMode: "eager" */ './azure-vm-backup') as Promise<typeof AzureVmBackup>, 'azureVmBackup');
export const azureRestore = lazy(() => import(/* webpackMode: "eager" */ './azure-restore') as Promise<typeof AzureRestore>, 'azureRestore');
export const azureFileRecovery = lazy(() => import(/* webpackMode: "eager" */ './azure-file-recovery') as Promise<typeof AzureFileRecovery>, 'azureFileRecovery');
export const scheduledBackup = lazy(() => import(/* webpackMode: "eager" */ './scheduled-backup') as Promise<typeof ScheduledBackup>, 'scheduledBackup');
export const fleetBackup = lazy(() => import(/* webpackMode: "eager" */ './fleet-backup') as Promise<typeof FleetBackup>, 'fleetBackup');
export const reaper = lazy(() => import(/* webpackMode: "eager" */ './reaper') as Promise<typeof Reaper>, 'reaper');
export const rpoWatch = lazy(() => import(/* webpackMode: "eager" */ './rpo-watch') as Promise<typeof RpoWatch>, 'rpoWatch');
const repositoryWorkflows = () => import(/* webpackMode: "eager" */ './verify-backups') as Promise<typeof VerifyBackups>;
export const verifyBackups = lazy(repositoryWorkflows, 'verifyBackups');
export const ovirtListBackups = lazy(repositoryWorkflows, 'ovirtListBackups');
export const pruneBackups = lazy(() => import(/* webpackMode: "eager" */ './prune-backups') as Promise<typeof PruneBackups>, 'pruneBackups');
