/**
 * Azure Backup: on-demand backup of an IaaS VM. Protect first if asked → trigger the backup with its
 * recovery-point expiry → follow the async operation to the job id → follow the job to its end
 * (tasks and progress in the progress query) → the new recovery point. Cancelling the run cancels
 * the Azure job and waits for it to end; protection this run enabled is removed if no recovery
 * point came of it.
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { TriggerKnowledge } from '../activities/azure/activities';
import { azure, azureAsync, azureCreate, azureUndo, failRun, followJob, jobFailure, tagAzureRun, triggerKnowledge, warningsOf } from './azure-common';
import { azureVmBackupInput } from '../contracts/azure/input';
import type { AzureVmBackupResult } from '../contracts/azure/results';
import { AZURE_BACKUP_STEPS } from '../contracts/azure/steps';
import { ProgressTracker } from './shared/progress';
import { Saga } from './shared/saga';
import { parseWorkflowInput } from './shared/validate-input';

export async function azureVmBackup(rawInput: unknown): Promise<AzureVmBackupResult> {
  const progress = new ProgressTracker('azureVmBackup', AZURE_BACKUP_STEPS);
  const input = parseWorkflowInput('azureVmBackup', azureVmBackupInput, rawInput);
  tagAzureRun(input);
  progress.about(`VM ${input.vmName ?? input.vmResourceId} on ${input.endpoint}`);
  const { workflowId, runId } = workflowInfo();
  const startedAt = new Date().toISOString();
  const { endpoint, pollIntervalMs: pollMs } = input;
  const saga = new Saga();
  try {
    progress.enter('find');
    await azure.azureCheckEndpoint({ endpoint });
    const vm = await azureAsync.azureFindVm({ endpoint, vmName: input.vmName, vmResourceId: input.vmResourceId, pollMs });
    const item = { endpoint, containerName: vm.containerName, protectedItemName: vm.protectedItemName };

    progress.enter('protect');
    let protection: AzureVmBackupResult['protection'];
    let forgetProtection = () => {};
    if (!vm.protected) {
      if (!input.protectIfNeeded) {
        throw ApplicationFailure.create({ type: 'InvalidInput', nonRetryable: true, message: `VM ${vm.vmName} is not protected by the vault; set "protectIfNeeded": true to enable protection with policy ${input.policyName}` });
      }
      const policy = await azure.azureResolvePolicy({ endpoint, policyName: input.policyName });
      forgetProtection = saga.add(`stop protection of VM ${vm.vmName} (enabled by this run)`, () => azureUndo.azureDisableProtection({ ...item, pollMs }));
      const enabled = await azureCreate.azureEnableProtection({ ...item, sourceResourceId: vm.sourceResourceId, policyId: policy.policyId, pollMs });
      protection = { containerName: vm.containerName, protectedItemName: vm.protectedItemName, policyId: enabled.policyId, protectionState: enabled.protectionState, enabledByThisRun: true };
    } else {
      protection = { containerName: vm.containerName, protectedItemName: vm.protectedItemName, policyId: vm.policyId, protectionState: vm.protectionState, enabledByThisRun: false };
    }

    progress.enter('trigger');
    const expiry = input.recoveryPointExpiryTime ?? new Date(Date.now() + input.recoveryPointExpiryDays * 86_400_000).toISOString();
    // `since`: when the run's trigger began. A retry after a lost reply adopts the job its first attempt
    // started (even if it already ended); a job someone else started earlier is never the run's.
    const since = new Date().toISOString();
    let jobId: string | undefined;
    let cutOff: TriggerKnowledge | undefined;
    // Registered before the trigger: a trigger cut off mid-way still has its job (and only its job) found and cancelled.
    const forgetJob = saga.add(`cancel the backup job of VM ${vm.vmName}`, () =>
      azureUndo.azureCancelJob({ endpoint, jobId, vmName: vm.vmName, operation: 'Backup', since, trigger: cutOff, pollMs }),
    );
    let triggered: Awaited<ReturnType<typeof azureCreate.azureTriggerBackup>>;
    try {
      triggered = await azureCreate.azureTriggerBackup({ ...item, vmName: vm.vmName, expiry, pollMs, since });
    } catch (err) {
      cutOff = triggerKnowledge(err);
      throw err;
    }
    jobId = triggered.jobId;

    progress.enter('job');
    const job = await followJob(endpoint, triggered.jobId, progress, { pollIntervalMs: pollMs, timeoutMinutes: input.jobTimeoutMinutes });
    forgetJob();
    if (job.status !== 'Completed' && job.status !== 'CompletedWithWarnings') throw jobFailure(job);

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
      timings: progress.current.timings,
      startedAt,
      completedAt: new Date().toISOString(),
    };
  } catch (err) {
    return failRun(progress, saga, err);
  }
}
