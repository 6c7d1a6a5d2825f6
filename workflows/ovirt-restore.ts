/**
 * oVirt/RHV "Restoring a Virtual Machine" from a backup in the repository: preflight → disks →
 * attach to the proxy → write the images → detach → VM from the OVF → attach to the VM. What the
 * run made stays when it succeeds; a failure or a cancel removes all of it.
 */
import { ovirtRestoreInput } from '../contracts/ovirt/restore-input';
import type { OvirtRestoreResult } from '../contracts/ovirt/results';
import { OVIRT_RESTORE_STEPS } from '../contracts/ovirt/steps';
import { derivedVmName } from './ovirt-restore-plan';
import { OvirtRestoreProcedure } from './ovirt-restore-procedure';
import { openRun } from './shared/workflow-run';

export async function ovirtRestore(rawInput: unknown): Promise<OvirtRestoreResult> {
  const run = openRun(
    {
      workflowType: 'ovirtRestore',
      steps: OVIRT_RESTORE_STEPS,
      input: ovirtRestoreInput,
      about: (i) => `restore of backup ${i.backup}${i.vmId ? ` of VM ${i.vmId}` : ''} on ${i.endpoint}`,
      tag: (i) => ({ provider: 'ovirt', vmId: i.vmId }),
    },
    rawInput,
  );
  const { input, progress } = run;
  const restore = new OvirtRestoreProcedure(run, 'ovirtRestore');

  return run.steps(async () => {
    await restore.preflight((sourceVmName) => input.vmName ?? derivedVmName(sourceVmName, 'restored', run.startedAt));
    await restore.createDisks();
    await restore.attachToProxy();
    await restore.writeImages();
    await restore.detachFromProxy();
    if (!input.disksOnly) {
      await restore.createVm();
      await restore.attachToVm();
    }
    restore.keep();

    progress.finish('completed');
    return {
      provider: 'ovirt',
      workflowId: run.workflowId,
      runId: run.runId,
      endpoint: input.endpoint,
      backup: restore.source(),
      vm: restore.newVm,
      disks: restore.restoredDisks().map(({ readBackSha256: _, ...disk }) => disk),
      ...run.times(),
    };
  });
}
