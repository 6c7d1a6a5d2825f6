/**
 * The reaper catches what cancellation cannot: a run that was terminated (or whose worker lost its
 * state) skips compensation. It lists the vendor objects this tool made, tagged with their run id,
 * keeps those whose run is still open (or that were made to be kept), and removes the rest:
 * attachments first, then snapshots. It never touches objects it did not make.
 */
import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { OvirtActivities, RunObject } from '../activities/ovirt/activities';
import type { createRunStatusActivities } from '../activities/run-status';
import { BackupProvider } from '../lib/temporal/search-attributes';
import { reaperInput } from './inputs/reaper';
import { describeFailure } from './shared/failures';
import { ProgressTracker } from './shared/progress';
import { vendorRetry } from './shared/retry-policies';
import { parseWorkflowInput } from './shared/validate-input';

export interface ReaperResult {
  dryRun: boolean;
  found: number;
  removed: RunObject[];
  keptForOpenRuns: Array<RunObject & { runStatus: string }>;
  failed: Array<RunObject & { error: string }>;
}

const ovirt = proxyActivities<OvirtActivities>({ startToCloseTimeout: '15 minutes', heartbeatTimeout: '1 minute', retry: vendorRetry });
const runs = proxyActivities<ReturnType<typeof createRunStatusActivities>>({ startToCloseTimeout: '5 minutes', heartbeatTimeout: '1 minute', retry: vendorRetry });

export async function reaper(rawInput: unknown): Promise<ReaperResult> {
  const progress = new ProgressTracker('reaper', ['validate', 'scan', 'remove']);
  const input = parseWorkflowInput('reaper', reaperInput, rawInput);
  upsertSearchAttributes([{ key: BackupProvider, value: 'ovirt' }]);
  progress.about(`leftovers on ${input.endpoints.join(', ')}`);

  progress.enter('scan');
  const found: RunObject[] = [];
  for (const endpoint of input.endpoints) found.push(...(await ovirt.ovirtFindRunObjects({ endpoint })));
  const statuses = found.length ? await runs.runStatuses({ runIds: found.map((o) => o.runId) }) : {};
  const now = Date.now();
  const open = (o: RunObject) => {
    const status = statuses[o.runId];
    if (status === 'RUNNING') return true;
    // Unknown to visibility: maybe not indexed yet. Only old enough objects count as orphans.
    const age = o.createdAt ? now - Date.parse(o.createdAt) : Number.POSITIVE_INFINITY;
    return status === 'UNKNOWN' && age < input.unknownRunGraceMinutes * 60_000;
  };
  const keptForOpenRuns = found.filter(open).map((o) => ({ ...o, runStatus: statuses[o.runId]! }));
  const orphans = found.filter((o) => !open(o));

  progress.enter('remove');
  const removed: RunObject[] = [];
  const failed: ReaperResult['failed'] = [];
  if (!input.dryRun) {
    // Detach before deleting: the engine refuses to delete a snapshot whose disk is attached.
    for (const o of [...orphans.filter((x) => x.kind === 'attachment'), ...orphans.filter((x) => x.kind === 'snapshot')]) {
      try {
        if (o.kind === 'attachment') await ovirt.ovirtDetachDisk({ endpoint: o.endpoint, proxyVmId: o.vmId, diskId: o.diskId! });
        else await ovirt.ovirtDeleteSnapshot({ endpoint: o.endpoint, vmId: o.vmId, runId: o.runId, snapshotId: o.snapshotId, pollMs: input.pollIntervalMs });
        removed.push(o);
      } catch (err) {
        failed.push({ ...o, error: describeFailure(err) });
      }
      progress.update({ message: `${removed.length} removed, ${failed.length} failed of ${orphans.length}` });
    }
  }
  progress.finish('completed');
  return { dryRun: input.dryRun, found: found.length, removed: input.dryRun ? orphans : removed, keptForOpenRuns, failed };
}
