/**
 * Azure Backup: restore an IaaS VM from a recovery point (latest or by name), as disks (RestoreDisks)
 * or as a new VM (AlternateLocation). Trigger → track → follow the job. Cancelling the run cancels
 * the Azure restore job and waits for it to end.
 */
import type { AzureJobSummary, AzureRecoveryPointInfo } from '../activities/azure/activities';
import { azureCreate, findRecoveryPoint, openAzureRun, triggerAndFollowJob, warningsOf } from './azure-common';
import { azureRestoreInput } from '../contracts/azure/input';
import type { AzureRestoreResult } from '../contracts/azure/results';
import { AZURE_RESTORE_STEPS } from '../contracts/azure/steps';

export async function azureRestore(rawInput: unknown): Promise<AzureRestoreResult> {
  const run = openAzureRun('azureRestore', AZURE_RESTORE_STEPS, azureRestoreInput, rawInput);
  const { input, progress } = run;
  const { endpoint, pollIntervalMs: pollMs } = input;
  return run.steps(async () => {
    const { vm, item, rp } = await findRecoveryPoint(run);

    progress.enter('trigger');
    const targetVirtualMachineId = input.restoreType === 'AlternateLocation' ? `${input.targetResourceGroupId}/providers/Microsoft.Compute/virtualMachines/${input.targetVmName}` : undefined;
    const restore = {
      objectType: 'IaasVMRestoreRequest' as const,
      recoveryPointId: rp.name,
      recoveryType: input.restoreType,
      sourceResourceId: vm.sourceResourceId,
      storageAccountId: input.storageAccountId,
      region: input.region,
      originalStorageAccountOption: false,
      createNewCloudService: false,
      ...(input.targetResourceGroupId ? { targetResourceGroupId: input.targetResourceGroupId } : {}),
      ...(targetVirtualMachineId ? { targetVirtualMachineId, virtualNetworkId: input.virtualNetworkId, subnetId: input.subnetId } : {}),
      encryptionDetails: { encryptionEnabled: false },
    };
    const { triggered, job } = await triggerAndFollowJob(run, { operation: 'Restore', vmName: vm.vmName }, (since) =>
      azureCreate.azureTriggerRestore({ ...item, vmName: vm.vmName, recoveryPoint: rp.name, restore, pollMs, since }),
    );

    progress.finish('completed');
    return {
      provider: 'azure',
      workflowId: run.workflowId,
      endpoint,
      vm: { name: vm.vmName, resourceId: vm.sourceResourceId },
      restoreType: input.restoreType,
      recoveryPoint: rp,
      target: { storageAccountId: input.storageAccountId, region: input.region, resourceGroupId: input.targetResourceGroupId, virtualMachineId: targetVirtualMachineId },
      job: { ...job, warnings: warningsOf(job), adopted: triggered.adopted, trackedVia: triggered.via },
      timings: run.times().timings,
    };
  });
}
