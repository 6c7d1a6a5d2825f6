/**
 * Azure Backup: restore an IaaS VM from a recovery point (latest or by name), as disks (RestoreDisks)
 * or as a new VM (AlternateLocation). Trigger → track → follow the job. Cancelling the run cancels
 * the Azure restore job and waits for it to end.
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { TriggerKnowledge } from '../activities/azure/activities';
import { azure, azureAsync, azureCreate, azureUndo, failRun, followJob, jobFailure, tagAzureRun, triggerKnowledge, warningsOf } from './azure-common';
import { azureRestoreInput } from '../contracts/azure/input';
import type { AzureRestoreResult } from '../contracts/azure/results';
import { AZURE_RESTORE_STEPS } from '../contracts/azure/steps';
import { ProgressTracker } from './shared/progress';
import { Saga } from './shared/saga';
import { parseWorkflowInput } from './shared/validate-input';

export async function azureRestore(rawInput: unknown): Promise<AzureRestoreResult> {
  const progress = new ProgressTracker('azureRestore', AZURE_RESTORE_STEPS);
  const input = parseWorkflowInput('azureRestore', azureRestoreInput, rawInput);
  tagAzureRun(input);
  progress.about(`VM ${input.vmName ?? input.vmResourceId} on ${input.endpoint}`);
  const { endpoint, pollIntervalMs: pollMs } = input;
  const saga = new Saga();
  try {
    progress.enter('find');
    await azure.azureCheckEndpoint({ endpoint });
    const vm = await azureAsync.azureFindVm({ endpoint, vmName: input.vmName, vmResourceId: input.vmResourceId, pollMs });
    if (!vm.protected) {
      throw ApplicationFailure.create({ type: 'InvalidInput', nonRetryable: true, message: `VM ${vm.vmName} is not protected by the vault: it has no recovery points` });
    }
    const item = { endpoint, containerName: vm.containerName, protectedItemName: vm.protectedItemName };

    progress.enter('recoveryPoint');
    const rp = await azure.azureFindRecoveryPoint({ ...item, recoveryPoint: input.recoveryPoint });

    progress.enter('trigger');
    const targetVirtualMachineId =
      input.restoreType === 'AlternateLocation' ? `${input.targetResourceGroupId}/providers/Microsoft.Compute/virtualMachines/${input.targetVmName}` : undefined;
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
    // `since`: when the run's trigger began. A retry after a lost reply adopts the job its first attempt
    // started (even if it already ended); a job someone else started earlier is never the run's.
    const since = new Date().toISOString();
    let jobId: string | undefined;
    let cutOff: TriggerKnowledge | undefined;
    // Registered before the trigger: a trigger cut off mid-way still has its job (and only its job) found and cancelled.
    const forgetJob = saga.add(`cancel the restore job of VM ${vm.vmName}`, () =>
      azureUndo.azureCancelJob({ endpoint, jobId, vmName: vm.vmName, operation: 'Restore', since, trigger: cutOff, pollMs }),
    );
    let triggered: Awaited<ReturnType<typeof azureCreate.azureTriggerRestore>>;
    try {
      triggered = await azureCreate.azureTriggerRestore({ ...item, vmName: vm.vmName, recoveryPoint: rp.name, restore, pollMs, since });
    } catch (err) {
      cutOff = triggerKnowledge(err);
      throw err;
    }
    jobId = triggered.jobId;

    progress.enter('job');
    const job = await followJob(endpoint, triggered.jobId, progress, { pollIntervalMs: pollMs, timeoutMinutes: input.jobTimeoutMinutes });
    forgetJob();
    if (job.status !== 'Completed' && job.status !== 'CompletedWithWarnings') throw jobFailure(job);

    progress.finish('completed');
    return {
      provider: 'azure',
      workflowId: workflowInfo().workflowId,
      endpoint,
      vm: { name: vm.vmName, resourceId: vm.sourceResourceId },
      restoreType: input.restoreType,
      recoveryPoint: rp,
      target: { storageAccountId: input.storageAccountId, region: input.region, resourceGroupId: input.targetResourceGroupId, virtualMachineId: targetVirtualMachineId },
      job: { ...job, warnings: warningsOf(job), adopted: triggered.adopted, trackedVia: triggered.via },
      timings: progress.current.timings,
    };
  } catch (err) {
    return failRun(progress, saga, err);
  }
}
