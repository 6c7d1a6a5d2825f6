/** Every workflow the chaos run drives: one entry each. */
import type { ChaosTarget } from '../types';
import { altaroTarget } from './altaro';
import { azureBackupTarget, azureFileRecoveryTarget, azureProtectTarget } from './azure';
import { manageiqTarget } from './manageiq';
import { onappTarget } from './onapp';
import { ovirtTarget } from './ovirt';
import { ovirtIncrementalTarget } from './ovirt-incremental';
import { ovirtResticPruneTarget } from './ovirt-restic-prune';
import { ovirtDrillTarget, ovirtIncrementalRestoreTarget, ovirtResticDrillTarget, ovirtResticRestoreTarget, ovirtRestoreTarget } from './ovirt-restore';

export const TARGETS: Record<string, () => Promise<ChaosTarget>> = {
  ovirt: () => ovirtTarget(),
  'ovirt-restore': ovirtRestoreTarget,
  'ovirt-drill': ovirtDrillTarget,
  // The same with the copy worker's repository a restic repository (restic-repo.ts).
  'ovirt-restic': () => ovirtTarget({ restic: true }),
  'ovirt-restic-restore': ovirtResticRestoreTarget,
  'ovirt-restic-drill': ovirtResticDrillTarget,
  'ovirt-restic-prune': ovirtResticPruneTarget,
  'ovirt-incremental': () => ovirtIncrementalTarget(),
  // The same with the chain's points in a restic repository (restic/restic-incremental.ts).
  'ovirt-incremental-restic': () => ovirtIncrementalTarget({ restic: true }),
  // ovirtRestore of an incremental chain's middle point (composed while written), the copy worker in its own process.
  'ovirt-incremental-restore': ovirtIncrementalRestoreTarget,
  altaro: altaroTarget,
  onapp: onappTarget,
  'azure-backup': azureBackupTarget,
  'azure-file-recovery': azureFileRecoveryTarget,
  'azure-protect': azureProtectTarget,
  manageiq: manageiqTarget,
};
