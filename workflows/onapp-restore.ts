/**
 * OnApp "restore a backup": preflight (the backup, given or the newest built one, belongs to the
 * server, is built; the server is not locked) → start the restore → poll until the restore no longer
 * keeps the server locked → report.
 *
 * OnApp cannot undo or stop a restore once it has accepted it. So a run that fails or is cancelled
 * after it asked for the restore does not end while the restore may still be rewriting the server:
 * its compensation waits, not cancellable, until the server is unlocked (up to the run's restore
 * deadline, and at least UNDO_WAIT_MIN_MS), and the run then ends saying the restore may have run
 * to its end. A server that stays locked longer puts the run in "needs attention": an operator
 * retries the wait, or gives up, and the run ends saying the restore may still be running on the
 * appliance. A restore OnApp refused (4xx) started nothing, and nothing is waited for.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import { ErrorTypes } from '../lib/errors';
import type { OnappRestoreActivities } from '../activities/onapp/restore';
import type { OnappActivities } from '../activities/onapp/activities';
import { onappRestoreInput } from '../contracts/onapp/input';
import type { OnappRestoreResult } from '../contracts/onapp/results';
import { ONAPP_RESTORE_STEPS } from '../contracts/onapp/steps';
import { forwardCreate, quickCall, undoStep, waitUpTo } from './shared/activity-options';
import { openRun } from './shared/workflow-run';

/** The shortest wait a compensation gives a running restore, even when the run's deadline has passed. */
const UNDO_WAIT_MIN_MS = 10 * 60_000;

const onapp = proxyActivities<OnappActivities & OnappRestoreActivities>(quickCall);
const onappUndo = proxyActivities<OnappRestoreActivities>(undoStep);
/** The start: on cancellation the run waits until it has been answered, so it knows whether a restore is running. */
const onappStart = proxyActivities<OnappRestoreActivities>(forwardCreate({ ...quickCall, heartbeatTimeout: '30 seconds' }));

/** The vendor answered the start with a refusal: no restore was started. */
function refusedByVendor(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  return cause instanceof ApplicationFailure && (cause.type === ErrorTypes.vendorRejected || cause.type === ErrorTypes.vendorNotFound || cause.type === ErrorTypes.invalidInput);
}

export async function onappRestore(rawInput: unknown): Promise<OnappRestoreResult> {
  const run = openRun(
    {
      workflowType: 'onappRestore',
      steps: ONAPP_RESTORE_STEPS,
      input: onappRestoreInput,
      about: (i) => `restore of backup ${i.backupId} onto virtual server ${i.virtualServerId} on ${i.endpoint}`,
      tag: (i) => ({ provider: 'onapp', vmId: String(i.virtualServerId) }),
    },
    rawInput,
  );
  const { input, progress, workflowId, runId } = run;
  const { endpoint, virtualServerId, pollIntervalMs: pollMs } = input;
  const waitFor = (waitMs: number) => proxyActivities<OnappRestoreActivities>(waitUpTo(waitMs, { heartbeatTimeout: Math.max(30_000, pollMs * 3) }));
  /** What became of a restore the run could not see to its end, said before the compensation summary. */
  let restoreFate: string | undefined;

  return run.steps(
    async () => {
      progress.enter('preflight');
      await onapp.onappCheckEndpoint({ endpoint });
      const plan = await onapp.onappRestorePreflight({ endpoint, virtualServerId, backupId: input.backupId, backupType: input.backupType, diskId: input.diskId });
      const { virtualServer, backup } = plan;
      const what = `the restore of backup ${backup.id} onto ${virtualServer.label}`;

      progress.enter('restore');
      const deadline = Date.now() + input.restoreTimeoutSeconds * 1000;
      // Registered before the start: a start whose reply was lost may still have started the restore.
      const forgetWait = run.undo(`wait for ${what} to end (OnApp cannot undo a restore)`, async () => {
        restoreFate = `OnApp cannot undo a restore: ${what} may still be running on the appliance`;
        const at = Math.max(deadline, Date.now() + UNDO_WAIT_MIN_MS);
        await onappUndo.onappWaitServerUnlocked({ endpoint, virtualServerId, deadline: at, pollMs });
        restoreFate = `OnApp cannot undo a restore: ${what} may have run to its end; ${virtualServer.label} is unlocked`;
      });
      let started: { adopted: boolean };
      try {
        started = await onappStart.onappStartRestore({ endpoint, backupId: backup.id, seenUpdatedAt: backup.updatedAt });
      } catch (err) {
        if (refusedByVendor(err)) forgetWait();
        throw err;
      }
      progress.update({ message: `${what} is running${started.adopted ? ' (started by an earlier attempt)' : ''}; ${virtualServer.label} is locked` });

      progress.enter('wait');
      const ended = await waitFor(input.restoreTimeoutSeconds * 1000).onappWaitServerUnlocked({ endpoint, virtualServerId, deadline, pollMs });
      forgetWait();

      progress.enter('report');
      progress.update({ message: `backup ${backup.id} restored onto ${virtualServer.label}` });
      progress.finish('completed');
      return {
        provider: 'onapp',
        workflowId,
        runId,
        endpoint,
        virtualServer,
        backup,
        chosen: plan.chosen,
        summary: { backupId: backup.id, type: backup.backupType, builtAt: backup.builtAt, identifier: backup.identifier, restoredOnto: virtualServer.label, booted: ended.booted },
        polls: ended.polls,
        adopted: started.adopted,
        ...run.times(),
      };
    },
    () => ({ undoNote: restoreFate }),
  );
}
