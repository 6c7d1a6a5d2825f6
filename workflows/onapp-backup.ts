/**
 * OnApp "take a backup": trigger → poll the server's backup list until the new backup is built →
 * report its fields. On failure or cancellation an unfinished backup is deleted.
 */
import { failRun } from './shared/fail-run';
import { ApplicationFailure, isCancellation, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { OnappActivities, OnappBackup } from '../activities/onapp/activities';
import { onappBackupInput, onappListBackupsInput } from '../contracts/onapp/input';
import type { OnappBackupResult, OnappListBackupsResult } from '../contracts/onapp/results';
import { ONAPP_BACKUP_STEPS } from '../contracts/onapp/steps';
import { describeFailure } from './shared/failures';
import { ProgressTracker } from './shared/progress';
import { Saga } from './shared/saga';
import { parseWorkflowInput } from './shared/validate-input';
import { undoRetry, vendorRetry } from './shared/retry-policies';
import { forwardCreate } from './shared/activity-options';
import { tagRun } from './shared/tag-run';

const onapp = proxyActivities<OnappActivities>({ startToCloseTimeout: '2 minutes', retry: vendorRetry });
const onappUndo = proxyActivities<OnappActivities>({ startToCloseTimeout: '5 minutes', retry: undoRetry });
/** The take: on cancellation the undo waits until it has landed or given up, so it cannot land after the undo ran. */
const onappCreate = proxyActivities<OnappActivities>(forwardCreate({ startToCloseTimeout: '2 minutes', heartbeatTimeout: '30 seconds' }));

export async function onappBackup(rawInput: unknown): Promise<OnappBackupResult> {
  const progress = new ProgressTracker('onappBackup', ONAPP_BACKUP_STEPS);
  const input = parseWorkflowInput('onappBackup', onappBackupInput, rawInput);
  progress.about(`virtual server ${input.virtualServerId} on ${input.endpoint}`);
  const { workflowId, runId } = workflowInfo();
  const startedAt = new Date().toISOString();
  tagRun('onapp', String(input.virtualServerId));
  const { endpoint, virtualServerId } = input;
  const saga = new Saga();

  try {
    progress.enter('preflight');
    await onapp.onappCheckEndpoint({ endpoint });
    const pre = await onapp.onappPreflight({ endpoint, virtualServerId, backupType: input.backupType, diskId: input.diskId });

    progress.enter('take');
    let backupId: number | undefined;
    // Registered before the take: a take whose reply was lost is still found (by the run tag) and removed.
    const forgetBackup = saga.add(`delete unfinished backup of ${pre.virtualServer.label}`, () =>
      onappUndo.onappDeleteRunBackup({ endpoint, virtualServerId, runId, backupId }),
    );
    // onapp-take-waits-for-cancel: runs started before it took with TRY_CANCEL (a cancel undid at
    // once) and replay so; deprecatePatch once no onappBackup run started before it can be open.
    const take = patched('onapp-take-waits-for-cancel') ? onappCreate : onapp;
    const taken = await take.onappTakeBackup({ endpoint, virtualServerId, runId, backupType: input.backupType, diskId: pre.disk?.id, note: input.note });
    backupId = taken.backup.id;
    progress.update({ message: `backup ${backupId} is being built` });

    progress.enter('build');
    const built = await proxyActivities<OnappActivities>({
      startToCloseTimeout: (input.buildTimeoutSeconds + 120) * 1000,
      heartbeatTimeout: Math.max(30_000, input.pollIntervalMs * 3),
      retry: vendorRetry,
    }).onappWaitBackupBuilt({ endpoint, virtualServerId, backupId, deadline: Date.now() + input.buildTimeoutSeconds * 1000, pollMs: input.pollIntervalMs });
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
      timings: progress.current.timings,
      startedAt,
      completedAt: new Date().toISOString(),
    };
  } catch (err) {
    return failRun(progress, saga, err);
  }
}

/** The catalogue of a virtual server's backups, every field typed. */
export async function onappListBackups(rawInput: unknown): Promise<OnappListBackupsResult> {
  const input = parseWorkflowInput('onappListBackups', onappListBackupsInput, rawInput);
  tagRun('onapp', String(input.virtualServerId));
  let backups: OnappBackup[];
  try {
    await onapp.onappCheckEndpoint({ endpoint: input.endpoint });
    backups = await onapp.onappListBackups({ endpoint: input.endpoint, virtualServerId: input.virtualServerId, kind: input.kind });
  } catch (err) {
    if (isCancellation(err)) throw err;
    throw ApplicationFailure.create({ type: 'ListBackupsFailed', nonRetryable: true, message: describeFailure(err), cause: err instanceof Error ? err : undefined });
  }
  return { provider: 'onapp', endpoint: input.endpoint, virtualServerId: input.virtualServerId, kind: input.kind, count: backups.length, backups };
}

