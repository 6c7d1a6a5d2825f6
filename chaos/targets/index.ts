/** Every workflow the chaos run drives: one entry each. */
import type { ChaosTarget } from '../types';
import { altaroTarget } from './altaro';
import { azureBackupTarget, azureFileRecoveryTarget, azureProtectTarget } from './azure';
import { manageiqTarget } from './manageiq';
import { onappTarget } from './onapp';
import { ovirtTarget } from './ovirt';
import { ovirtIncrementalTarget } from './ovirt-incremental';
import { ovirtDrillTarget, ovirtRestoreTarget } from './ovirt-restore';

export const TARGETS: Record<string, () => Promise<ChaosTarget>> = {
  ovirt: ovirtTarget,
  'ovirt-restore': ovirtRestoreTarget,
  'ovirt-drill': ovirtDrillTarget,
  'ovirt-incremental': ovirtIncrementalTarget,
  altaro: altaroTarget,
  onapp: onappTarget,
  'azure-backup': azureBackupTarget,
  'azure-file-recovery': azureFileRecoveryTarget,
  'azure-protect': azureProtectTarget,
  manageiq: manageiqTarget,
};
