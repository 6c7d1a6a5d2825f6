/**
 * OnApp "take a backup": trigger → poll the server's backup list until the new backup is built →
 * report its fields. On failure or cancellation an unfinished backup is deleted.
 */
import { ApplicationFailure, isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import { ErrorTypes } from '../lib/errors';
import type { OnappActivities, OnappBackup } from '../activities/onapp/activities';
import { onappBackupInput, onappListBackupsInput } from '../contracts/onapp/input';
import { describeFailure } from './shared/failures';
import { forwardCreate, quickCall, undoStep, waitUpTo } from './shared/activity-options';
import { openRun } from './shared/workflow-run';
import type { OnappBackupResult, OnappListBackupsResult } from '../contracts/onapp/results';
import { ONAPP_BACKUP_STEPS } from '../contracts/onapp/steps';

export const ONAPP_LIST_STEPS = ['validate', 'list'] as const;

const onapp = proxyActivities<OnappActivities>(quickCall);
const onappUndo = proxyActivities<OnappActivities>(undoStep);
/** The take: on cancellation the undo waits until it has landed or given up, so it cannot land after the undo ran. */
const onappCreate = proxyActivities<OnappActivities>(forwardCreate({ ...quickCall, heartbeatTimeout: '30 seconds' }));

export async function onappBackup(rawInput: unknown): Promise<OnappBackupResult> {
  const run = openRun(
    {
      workflowType: 'onappBackup',
      steps: ONAPP_BACKUP_STEPS,
      input: onappBackupInput,
      about: (i) => `virtual server ${i.virtualServerId} on ${i.endpoint}`,
      tag: (i) => ({ provider: 'onapp', vmId: String(i.virtualServerId) }),
      // The reaper keeps the backup of a run that reached its report, even a terminated one (workflows/reaper.ts).
      searchedSteps: ['report'],
    },
    rawInput,
  );
  const { input, progress, workflowId, runId } = run;
  const { endpoint, virtualServerId } = input;

  return run.steps(async () => {
    progress.enter('preflight');
    await onapp.onappCheckEndpoint({ endpoint });
    const pre = await onapp.onappPreflight({ endpoint, virtualServerId, backupType: input.backupType, diskId: input.diskId });

    progress.enter('take');
    let backupId: number | undefined;
    // Registered before the take: a take whose reply was lost is still found (by the run tag) and removed.
    const forgetBackup = run.undo(`delete unfinished backup of ${pre.virtualServer.label}`, () => onappUndo.onappDeleteRunBackup({ endpoint, virtualServerId, runId, backupId }));
    // onapp-take-waits-for-cancel: runs started before it took with TRY_CANCEL (a cancel undid at
    // once) and replay so; deprecatePatch once no onappBackup run started before it can be open.
    const take = patched('onapp-take-waits-for-cancel') ? onappCreate : onapp;
    const taken = await take.onappTakeBackup({ endpoint, virtualServerId, runId, backupType: input.backupType, diskId: pre.disk?.id, note: input.note });
    backupId = taken.backup.id;
    progress.update({ message: `backup ${backupId} is being built` });

    progress.enter('build');
    const built = await proxyActivities<OnappActivities>(waitUpTo(input.buildTimeoutSeconds * 1000, { heartbeatTimeout: Math.max(30_000, input.pollIntervalMs * 3) })).onappWaitBackupBuilt({
      endpoint,
      virtualServerId,
      backupId,
      deadline: Date.now() + input.buildTimeoutSeconds * 1000,
      pollMs: input.pollIntervalMs,
    });
    // Built: the backup is the product of the run and stays.
    forgetBackup();

    progress.enter('report');
    progress.finish('completed');
    const { backup } = built;
    return {
      provider: 'onapp',
      workflowId,
      runId,
      endpoint,
      virtualServer: pre.virtualServer,
      disk: pre.disk,
      backup,
      summary: { id: backup.id, type: backup.backupType, sizeKb: backup.backupSizeKb, builtAt: backup.builtAt, identifier: backup.identifier },
      polls: built.polls,
      adopted: taken.adopted,
      ...run.times(),
    };
  });
}

/** The catalogue of a virtual server's backups, every field typed. */
export async function onappListBackups(rawInput: unknown): Promise<OnappListBackupsResult> {
  const run = openRun(
    {
      workflowType: 'onappListBackups',
      steps: ONAPP_LIST_STEPS,
      input: onappListBackupsInput,
      about: (i) => `backups of virtual server ${i.virtualServerId} on ${i.endpoint}`,
      tag: (i) => ({ provider: 'onapp', vmId: String(i.virtualServerId) }),
    },
    rawInput,
  );
  const { input, progress } = run;
  // Guards the list's progress steps and its failure through run.fail (BackupStep and BackupOutcome,
  // as every workflow has them). Runs started before listed without them and failed with
  // ListBackupsFailed; they replay so. deprecatePatch once no onappListBackups run started before
  // this change is kept by the namespace's retention (its runs last seconds; closed ones replay for queries).
  const reportsProgress = patched('onapp-list-one-way-out');
  try {
    if (reportsProgress) progress.enter('list');
    await onapp.onappCheckEndpoint({ endpoint: input.endpoint });
    const backups = await onapp.onappListBackups({ endpoint: input.endpoint, virtualServerId: input.virtualServerId, kind: input.kind });
    if (reportsProgress) progress.finish('completed');
    return { provider: 'onapp', endpoint: input.endpoint, virtualServerId: input.virtualServerId, kind: input.kind, count: backups.length, backups };
  } catch (err) {
    if (reportsProgress) return run.fail(err);
    if (isCancellation(err)) throw err;
    throw ApplicationFailure.create({ type: ErrorTypes.listBackupsFailed, nonRetryable: true, message: describeFailure(err), cause: err instanceof Error ? err : undefined });
  }
}
