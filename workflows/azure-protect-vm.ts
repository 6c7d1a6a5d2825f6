/**
 * Azure Backup: protect a VM. Policy → refresh containers → find the VM among protectable items →
 * enable protection (PUT protected item, async). A VM that is already protected is left as it is.
 */
import { azure, azureAsync, azureCreate, azureUndo, openAzureRun } from './azure-common';
import { azureProtectVmInput } from '../contracts/azure/input';
import type { AzureProtectResult } from '../contracts/azure/results';
import { AZURE_PROTECT_STEPS } from '../contracts/azure/steps';

export async function azureProtectVm(rawInput: unknown): Promise<AzureProtectResult> {
  const run = openAzureRun('azureProtectVm', AZURE_PROTECT_STEPS, azureProtectVmInput, rawInput);
  const { input, progress } = run;
  const { endpoint, pollIntervalMs: pollMs } = input;
  return run.steps(async () => {
    progress.enter('policy');
    await azure.azureCheckEndpoint({ endpoint });
    const policy = await azure.azureResolvePolicy({ endpoint, policyName: input.policyName });

    progress.enter('find');
    const vm = await azureAsync.azureFindVm({ endpoint, vmName: input.vmName, vmResourceId: input.vmResourceId, pollMs });
    const base = {
      provider: 'azure' as const,
      workflowId: run.workflowId,
      endpoint,
      vm: { name: vm.vmName, resourceId: vm.sourceResourceId },
      containerName: vm.containerName,
      protectedItemName: vm.protectedItemName,
    };
    if (vm.protected) {
      progress.finish('completed');
      return { ...base, policy: { id: vm.policyId, name: vm.policyId?.split('/').pop() }, protectionState: vm.protectionState, alreadyProtected: true };
    }

    progress.enter('protect');
    const item = { endpoint, containerName: vm.containerName, protectedItemName: vm.protectedItemName };
    // Registered before the PUT: a PUT whose reply was lost still gets undone.
    run.undo(`stop protection of VM ${vm.vmName}`, () => azureUndo.azureDisableProtection({ ...item, pollMs }));
    const done = await azureCreate.azureEnableProtection({ ...item, sourceResourceId: vm.sourceResourceId, policyId: policy.policyId, pollMs });
    progress.finish('completed');
    return { ...base, policy: { name: policy.policyName, id: policy.policyId }, protectionState: done.protectionState, alreadyProtected: false };
  });
}
