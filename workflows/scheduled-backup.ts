/**
 * What every schedule starts: runs the vendor workflow as a child under the per-VM workflow id (so
 * a scheduled run never overlaps a manual one for the same VM: it is skipped and says so), then,
 * after a success, keeps the newest N snapshots this schedule made (retention) and prunes the VM's
 * backups in the repository by keep rules (repositoryRetention, a pruneBackups child).
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, executeChild, patched, proxyActivities } from '@temporalio/workflow';
import { scheduledBackupInput } from '../contracts/schedule/input';
import type { ScheduledBackupResult } from '../contracts/schedule/results';
import type { PruneBackupsResult } from '../contracts/retention/results';
import { workflowIdFor, workflowRoute } from '../contracts/routing';
import { waitUpTo } from './shared/activity-options';
import { tagRun } from './shared/tag-run';
import { invalidInput } from './shared/validate-input';
import { openRun } from './shared/workflow-run';

type PruneActivities = Record<string, (args: Record<string, unknown>) => Promise<{ kept: string[]; deleted: string[] }>>;
const prune = proxyActivities<PruneActivities>(waitUpTo(28 * 60_000));

export const SCHEDULED_STEPS = ['validate', 'backup', 'retention'] as const;

export async function scheduledBackup(rawInput: unknown): Promise<ScheduledBackupResult> {
  const run = openRun({ workflowType: 'scheduledBackup', steps: SCHEDULED_STEPS, input: scheduledBackupInput, about: (i) => `${i.workflowType} by schedule ${i.scheduleId}` }, rawInput);
  const { input, progress } = run;
  const entry = workflowRoute(input.workflowType);
  if (!entry) throw invalidInput('scheduledBackup', [`workflowType: schedule ${input.scheduleId} names an unknown workflow ${input.workflowType}`]);
  if (input.retention && !entry.retention) throw invalidInput('scheduledBackup', [`retention: ${input.workflowType} has no retention support`]);
  const repository = input.repositoryRetention ? entry.repositoryOf?.(input.input) : undefined;
  if (input.repositoryRetention && !repository) throw invalidInput('scheduledBackup', [`repositoryRetention: ${input.workflowType} keeps no backups in a repository this can prune`]);
  tagRun({ provider: entry.provider });

  const childInput = input.retention ? entry.retention!.mark(input.input, input.scheduleId) : input.input;
  const childWorkflowId = workflowIdFor(input.workflowType, childInput, run.workflowId);
  progress.about(`${input.workflowType} of ${entry.subject(childInput) ?? '?'} by schedule ${input.scheduleId}`);

  try {
    progress.enter('backup');
    let result: unknown;
    try {
      // A terminated wrapper (an operator, or the schedule's terminateOther overlap) asks the backup
      // to cancel, so it undoes what it did, instead of terminating it mid-step with its snapshot and
      // attached disks left for the reaper. scheduled-child-request-cancel: runs started before this
      // replay their TERMINATE start; deprecatePatch once no scheduledBackup run from before can be open.
      const closePolicy = patched('scheduled-child-request-cancel') ? { parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL } : {};
      result = await executeChild(input.workflowType, { workflowId: childWorkflowId, args: [childInput], ...closePolicy });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        progress.finish('completed');
        return { scheduleId: input.scheduleId, outcome: 'skipped', childWorkflowId, reason: `${childWorkflowId} is already running` };
      }
      throw err;
    }

    let retention: ScheduledBackupResult['retention'];
    if (input.retention || input.repositoryRetention) progress.enter('retention');
    if (input.retention) {
      const adapter = entry.retention!;
      retention = await prune[adapter.pruneActivity]!(adapter.pruneArgs(childInput, input.scheduleId, input.retention.keep));
    }
    let repositoryRetention: PruneBackupsResult | undefined;
    // scheduled-repository-retention: only runs given repositoryRetention (new with it) reach here;
    // the marker keeps their replay explicit. deprecatePatch once no run from before it can be open.
    if (input.repositoryRetention && repository && patched('scheduled-repository-retention')) {
      repositoryRetention = await executeChild('pruneBackups', {
        workflowId: `pruneBackups-${run.workflowId}`,
        args: [{ ...repository, ...input.repositoryRetention }],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      });
    }
    progress.finish('completed');
    return { scheduleId: input.scheduleId, outcome: 'completed', childWorkflowId, result, retention, ...(repositoryRetention ? { repositoryRetention } : {}) };
  } catch (err) {
    // scheduled-one-way-out: a failed scheduled run ends through run.fail like every workflow
    // (BackupOutcome "failed", the failure naming its step). Runs started before rethrew the
    // child's failure as it was; they replay so. deprecatePatch once no scheduledBackup run
    // started before this change can be open.
    if (patched('scheduled-one-way-out')) return run.fail(err);
    throw err;
  }
}
