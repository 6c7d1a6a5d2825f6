/**
 * What every schedule starts: runs the vendor workflow as a child under the per-VM workflow id (so
 * a scheduled run never overlaps a manual one for the same VM: it is skipped and says so), then,
 * after a success, keeps the newest N backups this schedule made.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ApplicationFailure, ParentClosePolicy, executeChild, patched, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { BackupProvider } from '../contracts/search-attributes';
import { scheduledBackupInput } from '../contracts/schedule/input';
import type { ScheduledBackupResult } from '../contracts/schedule/results';
import { workflowIdFor, workflowRoute } from '../contracts/routing';
import { ProgressTracker } from './shared/progress';
import { vendorRetry } from './shared/retry-policies';
import { parseWorkflowInput } from './shared/validate-input';

type PruneActivities = Record<string, (args: Record<string, unknown>) => Promise<{ kept: string[]; deleted: string[] }>>;
const prune = proxyActivities<PruneActivities>({ startToCloseTimeout: '30 minutes', heartbeatTimeout: '1 minute', retry: vendorRetry });

export async function scheduledBackup(rawInput: unknown): Promise<ScheduledBackupResult> {
  const progress = new ProgressTracker('scheduledBackup', ['validate', 'backup', 'retention']);
  const input = parseWorkflowInput('scheduledBackup', scheduledBackupInput, rawInput);
  const entry = workflowRoute(input.workflowType);
  if (!entry) throw ApplicationFailure.nonRetryable(`schedule ${input.scheduleId} names an unknown workflow ${input.workflowType}`, 'InvalidInput');
  if (input.retention && !entry.retention) throw ApplicationFailure.nonRetryable(`${input.workflowType} has no retention support`, 'InvalidInput');
  upsertSearchAttributes([{ key: BackupProvider, value: entry.provider }]);

  const childInput = input.retention ? entry.retention!.mark(input.input, input.scheduleId) : input.input;
  const childWorkflowId = workflowIdFor(input.workflowType, childInput, workflowInfo().workflowId);
  progress.about(`${input.workflowType} of ${entry.subject(childInput) ?? '?'} by schedule ${input.scheduleId}`);

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
  if (input.retention) {
    progress.enter('retention');
    const adapter = entry.retention!;
    retention = await prune[adapter.pruneActivity]!(adapter.pruneArgs(childInput, input.scheduleId, input.retention.keep));
  }
  progress.finish('completed');
  return { scheduleId: input.scheduleId, outcome: 'completed', childWorkflowId, result, retention };
}
