/**
 * Azure Backup: item-level (file) recovery. Provision an ILR connection for a recovery point; the
 * worker extracts the script's password and keeps script and password in its own store, so only
 * their location enters history; wait for "done" (an update, refused unless the session is open,
 * or the signal older clients send) or the time limit; always revoke the
 * connection (also on cancellation and failure), which also deletes the stored credentials.
 */
import { ApplicationFailure, condition, defineQuery, defineSignal, defineUpdate, setHandler } from '@temporalio/workflow';
import { fileRecoveryDoneAction } from '../contracts/operator-actions';
import { ErrorTypes } from '../lib/errors';
import type { AzureRecoveryPointInfo } from '../activities/azure/activities';
import { azureCreate, azureUndo, findRecoveryPoint, openAzureRun } from './azure-common';
import { azureFileRecoveryInput } from '../contracts/azure/input';
import type { AzureFileRecoveryResult, FileRecoveryHandle } from '../contracts/azure/results';
import { AZURE_FILE_RECOVERY_STEPS } from '../contracts/azure/steps';

/** Ends the session early: the requester has what they needed. */
export const fileRecoveryDoneSignal = defineSignal(fileRecoveryDoneAction);
export const fileRecoveryDoneUpdate = defineUpdate<{ ended: true; next: string }>(fileRecoveryDoneAction);

export const fileRecoveryQuery = defineQuery<FileRecoveryHandle | null>('fileRecovery');

export async function azureFileRecovery(rawInput: unknown): Promise<AzureFileRecoveryResult> {
  let done = false;
  let handle: FileRecoveryHandle | null = null;
  const run = openAzureRun('azureFileRecovery', AZURE_FILE_RECOVERY_STEPS, azureFileRecoveryInput, rawInput);
  const { input, progress, workflowId, runId } = run;
  setHandler(fileRecoveryDoneSignal, () => void (done = true));
  // An update adds no command to a run that never receives one: replay-safe beside the signal.
  setHandler(fileRecoveryDoneUpdate, () => ((done = true), { ended: true as const, next: 'the connection is revoked and the stored script and password deleted' }), {
    validator: () => {
      if (done) throw ApplicationFailure.create({ type: ErrorTypes.actionRefused, message: 'the file recovery session is already ending' });
      if (!handle || progress.current.step !== 'session' || progress.current.state !== 'running') {
        throw ApplicationFailure.create({
          type: ErrorTypes.actionRefused,
          message: `no file recovery session is open (the run is at "${progress.current.step}", ${progress.current.state}); ask again once it is`,
        });
      }
    },
  });
  // Once the run fails or is cancelled, the connection is being revoked: no handle to it is shown.
  setHandler(fileRecoveryQuery, () => (progress.current.state === 'running' ? handle : null));
  const { endpoint, pollIntervalMs: pollMs } = input;
  const ref = `${workflowId}-${runId}`.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 180);
  return run.steps(async () => {
    const { vm, item, rp } = await findRecoveryPoint(run);

    progress.enter('provision');
    const revoke = { ...item, recoveryPoint: rp.name, ref, pollMs };
    // Registered before provisioning: a provision cut off mid-way is still revoked.
    const forgetRevoke = run.undo(`revoke file recovery of VM ${vm.vmName} at recovery point ${rp.name}`, () => azureUndo.azureRevokeFileRecovery(revoke));
    const initiatorName =
      input.initiatorName ??
      `iqn.2016-01.com.backup-orchestrator:${workflowId
        .toLowerCase()
        .replace(/[^a-z0-9.-]+/g, '-')
        .slice(0, 150)}`;
    const stored = await azureCreate.azureProvisionFileRecovery({ ...item, recoveryPoint: rp.name, sourceResourceId: vm.sourceResourceId, initiatorName, ref, pollMs });
    const openedAt = new Date().toISOString();
    const { via: _via, ...where } = stored;
    handle = { ...where, expiresAt: new Date(Date.now() + input.timeLimitSeconds * 1000).toISOString() };

    progress.enter('session');
    progress.update({
      message: `file recovery open until ${handle.expiresAt}: script ${handle.scriptPath}, password in ${handle.passwordPath} (on the worker); when finished: backupctl done ${workflowId} (or the "done" update or signal)`,
    });
    const signalled = await condition(() => done, input.timeLimitSeconds * 1000);

    progress.enter('revoke');
    const revoked = await azureUndo.azureRevokeFileRecovery(revoke);
    forgetRevoke();
    const session = { ...handle, openedAt, endedAt: new Date().toISOString(), endedBy: signalled ? ('done signal' as const) : ('time limit' as const) };
    handle = null;
    progress.finish('completed');
    return { provider: 'azure', workflowId, endpoint, vm: { name: vm.vmName, resourceId: vm.sourceResourceId }, recoveryPoint: rp, session, revoked: revoked.revoked, timings: run.times().timings };
  });
}
