/** What the Azure Backup workflows return (and what file recovery shows through its query). */
import type { AzureJobSummary, AzureRecoveryPointInfo } from '../../activities/azure/activities';
import type { StepTiming } from '../progress';

/** Where the requester finds the script and password (on the worker's side) while the session is open. */
export interface FileRecoveryHandle {
  ref: string;
  directory: string;
  scriptPath: string;
  passwordPath: string;
  scriptFileName: string;
  osType?: string;
  expiresAt: string;
}

export interface AzureFileRecoveryResult {
  provider: 'azure';
  workflowId: string;
  endpoint: string;
  vm: { name: string; resourceId: string };
  recoveryPoint: AzureRecoveryPointInfo;
  session: FileRecoveryHandle & { openedAt: string; endedAt: string; endedBy: 'done signal' | 'time limit' };
  revoked: boolean;
  timings: StepTiming[];
}

export interface AzureProtectResult {
  provider: 'azure';
  workflowId: string;
  endpoint: string;
  vm: { name: string; resourceId: string };
  containerName: string;
  protectedItemName: string;
  policy: { name?: string; id?: string };
  protectionState?: string;
  alreadyProtected: boolean;
}

export interface AzureRestoreResult {
  provider: 'azure';
  workflowId: string;
  endpoint: string;
  vm: { name: string; resourceId: string };
  restoreType: 'RestoreDisks' | 'AlternateLocation';
  recoveryPoint: AzureRecoveryPointInfo;
  target: { storageAccountId: string; region: string; resourceGroupId?: string; virtualMachineId?: string };
  job: AzureJobSummary & { warnings: string[]; adopted: boolean; trackedVia: string };
  timings: StepTiming[];
}

export interface AzureVmBackupResult {
  provider: 'azure';
  workflowId: string;
  runId: string;
  endpoint: string;
  vm: { name: string; resourceId: string };
  protection: { containerName: string; protectedItemName: string; policyId?: string; protectionState?: string; enabledByThisRun: boolean };
  recoveryPointExpiry: string;
  job: AzureJobSummary & { warnings: string[]; adopted: boolean; trackedVia: string };
  recoveryPoint: AzureRecoveryPointInfo;
  timings: StepTiming[];
  startedAt: string;
  completedAt: string;
}
