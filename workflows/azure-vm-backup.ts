/**
 * Azure Backup: on-demand backup of an IaaS VM. Protect first if asked → trigger the backup with its
 * recovery-point expiry → follow the async operation to the job id → follow the job to its end
 * (tasks and progress in the progress query) → the new recovery point. Cancelling the run cancels
 * the Azure job and waits for it to end; protection this run enabled is removed if no recovery
 * point came of it.
 */
import type { AzureJobSummary, AzureRecoveryPointInfo } from '../activities/azure/activities';
import { azure, azureCreate, azureUndo, findVm, notProtected, openAzureRun, triggerAndFollowJob, warningsOf } from './azure-common';
import { azureVmBackupInput } from '../contracts/azure/input';
import type { AzureVmBackupResult } from '../contracts/azure/results';
import { AZURE_BACKUP_STEPS } from '../contracts/azure/steps';

export async function azureVmBackup(rawInput: unknown): Promise<AzureVmBackupResult> {
  const run = openAzureRun('azureVmBackup', AZURE_BACKUP_STEPS, azureVmBackupInput, rawInput);
  const { input, progress, workflowId, runId } = run;
  const { endpoint, pollIntervalMs: pollMs } = input;
  return run.steps(async () => {
    const { vm, item } = await findVm(run);

    progress.enter('protect');
    let protection: AzureVmBackupResult['protection'];
    let forgetProtection = () => {};
    if (!vm.protected) {
      if (!input.protectIfNeeded) {
        throw notProtected(run, vm.vmName, `set "protectIfNeeded": true to enable protection with policy ${input.policyName}`);
      }
      const policy = await azure.azureResolvePolicy({ endpoint, policyName: input.policyName });
      forgetProtection = run.undo(`stop protection of VM ${vm.vmName} (enabled by this run)`, () => azureUndo.azureDisableProtection({ ...item, pollMs }));
      const enabled = await azureCreate.azureEnableProtection({ ...item, sourceResourceId: vm.sourceResourceId, policyId: policy.policyId, pollMs });
      protection = { containerName: vm.containerName, protectedItemName: vm.protectedItemName, policyId: enabled.policyId, protectionState: enabled.protectionState, enabledByThisRun: true };
    } else {
      protection = { containerName: vm.containerName, protectedItemName: vm.protectedItemName, policyId: vm.policyId, protectionState: vm.protectionState, enabledByThisRun: false };
    }

    progress.enter('trigger');
    const expiry = input.recoveryPointExpiryTime ?? new Date(Date.now() + input.recoveryPointExpiryDays * 86_400_000).toISOString();
    const { triggered, job } = await triggerAndFollowJob(run, { operation: 'Backup', vmName: vm.vmName }, (since) =>
      azureCreate.azureTriggerBackup({ ...item, vmName: vm.vmName, expiry, pollMs, since }),
    );

    progress.enter('recoveryPoint');
    const recoveryPoint = await azure.azureFindRecoveryPoint({ ...item, after: job.startTime });
    forgetProtection();

    progress.finish('completed');
    return {
      provider: 'azure',
      workflowId,
      runId,
      endpoint,
      vm: { name: vm.vmName, resourceId: vm.sourceResourceId },
      protection,
      recoveryPointExpiry: expiry,
      job: { ...job, warnings: warningsOf(job), adopted: triggered.adopted, trackedVia: triggered.via },
      recoveryPoint,
      ...run.times(),
    };
  });
}
