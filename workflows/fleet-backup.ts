/**
 * Backs up many VMs as child workflows: at most `maxConcurrent` at once and `maxPerProxy` per
 * proxy VM, going on past failures, one run per VM (a VM already being backed up is reported as
 * skipped). Continues as new every `batchSize` children, carrying counts and the newest failures
 * only; every VM's row is recorded in the history of the run that handled it (fleet-outcomes.ts).
 * Cancelled, it starts nothing more, lets its running children compensate and ends cancelled.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ParentClosePolicy,
  continueAsNew,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { BackupProvider } from '../contracts/search-attributes';
import { FleetOutcomes } from './fleet-outcomes';
import { fleetBackupInput, type FleetOutcome } from '../contracts/fleet/input';
import type { FleetCounts, FleetResult } from '../contracts/fleet/results';
import { workflowIdFor, workflowRoute } from '../contracts/routing';
import { describeFailure } from './shared/failures';
import { ProgressTracker } from './shared/progress';
import { vendorRetry } from './shared/retry-policies';
import { parseWorkflowInput } from './shared/validate-input';

export const fleetCountsQuery = defineQuery<FleetCounts>('fleetCounts');
/** Rows this run has not recorded in its history yet; the table's reader adds them while the fleet runs. */
export const fleetUnrecordedQuery = defineQuery<FleetOutcome[]>('fleetUnrecordedOutcomes');

type InventoryActivities = Record<string, (args: Record<string, unknown>) => Promise<Array<{ id: string; name: string }>>>;
const inventory = proxyActivities<InventoryActivities>({ startToCloseTimeout: '2 minutes', retry: vendorRetry });

interface QueuedVm {
  /** The per-VM fields as given (what a continued run carries), without the defaults. */
  given: Record<string, unknown>;
  input: Record<string, unknown>;
}

export async function fleetBackup(rawInput: unknown): Promise<FleetResult> {
  // fleet-outcome-table: rows recorded by fleetRecordOutcomes instead of carried in full. Runs
  // started before it replay without those activities and carry `carriedOutcomes` as they did.
  // fleet-ends-cancelled: a cancelled fleet stops starting children and ends cancelled; before, it
  // counted every refused start as a failure and completed.
  // fleet-children-request-cancel: children are started with ParentClosePolicy REQUEST_CANCEL
  // (a terminated fleet's children compensate) instead of the default TERMINATE.
  // All three can go (deprecatePatch) once no fleetBackup run started before them can be open.
  const recordsTable = patched('fleet-outcome-table');
  const endsCancelled = patched('fleet-ends-cancelled');
  const childOptions = patched('fleet-children-request-cancel') ? { parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL } : {};

  const progress = new ProgressTracker('fleetBackup', ['validate', 'inventory', 'backups']);
  const input = parseWorkflowInput('fleetBackup', fleetBackupInput, rawInput);
  const entry = workflowRoute(input.workflowType);
  if (!entry || entry.kind !== 'backup') {
    throw ApplicationFailure.create({ type: 'InvalidInput', nonRetryable: true, message: `invalid input for fleetBackup: workflowType: ${input.workflowType} is not a backup workflow` });
  }
  upsertSearchAttributes([{ key: BackupProvider, value: entry.provider }]);

  const outcomes = new FleetOutcomes(recordsTable, input.carried);
  for (const row of input.carriedOutcomes ?? []) outcomes.add(row);
  const queue: QueuedVm[] = [];
  const runningByProxy: Record<string, number> = {};
  let running = 0;
  let total = input.carried?.total ?? 0;
  const runs = input.carried?.runs ?? 1;
  const counts = (): FleetCounts => ({ total, pending: queue.length, running, ...outcomes.tally, runningByProxy: { ...runningByProxy }, runs });
  setHandler(fleetCountsQuery, counts);
  setHandler(fleetUnrecordedQuery, () => outcomes.unrecorded);

  progress.enter('inventory');
  let perVm = input.vms;
  if (!perVm) {
    if (!entry.inventory) throw ApplicationFailure.nonRetryable(`${input.workflowType} cannot list VMs by query; give "vms"`, 'InvalidInput');
    const listed = await inventory[entry.inventory.activity]!(entry.inventory.args(input.defaults, input.query!.filter));
    perVm = listed.map(entry.inventory.toInput);
  }
  // Each VM's input is checked up front: a bad one is reported, not started, and the rest go on.
  // Only this workflow type's schema is built; its module loads within this activation (no command).
  const vmSchema = await entry.loadInput();
  for (const given of perVm) {
    const vmInput = { ...input.defaults, ...given };
    const parsed = vmSchema.safeParse(vmInput);
    if (parsed.success) queue.push({ given, input: vmInput });
    else outcomes.add({ vm: entry.subject(vmInput) ?? '?', workflowId: '', outcome: 'failed', reason: `invalid input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
  }
  if (!input.carried) total = (input.carriedOutcomes?.length ?? 0) + perVm.length;

  const report = () => {
    const c = counts();
    const cancelled = c.cancelled || c.notStarted ? `, ${c.cancelled} cancelled, ${c.notStarted} not started` : '';
    progress.update({ message: `${c.succeeded} succeeded, ${c.failed} failed, ${c.skipped} skipped${cancelled}, ${c.running} running, ${c.pending} pending of ${c.total}` });
  };

  progress.enter('backups');
  progress.about(`fleet of ${total} VMs (${input.workflowType})`);
  const inFlight = new Map<string, Promise<void>>();
  let startedThisRun = 0;
  const proxyOf = (i: Record<string, unknown>) => entry.proxyOf?.(i);
  const canStart = (q: QueuedVm) => {
    const proxy = proxyOf(q.input);
    return !(input.maxPerProxy && proxy && (runningByProxy[proxy] ?? 0) >= input.maxPerProxy);
  };
  const cancelRequested = () => endsCancelled && CancellationScope.current().consideredCancelled;

  const launch = async (vmInput: Record<string, unknown>): Promise<void> => {
    const vm = entry.subject(vmInput) ?? '?';
    const workflowId = workflowIdFor(input.workflowType, vmInput, `${workflowInfo().workflowId}-${startedThisRun}`);
    const proxy = proxyOf(vmInput);
    running++;
    if (proxy) runningByProxy[proxy] = (runningByProxy[proxy] ?? 0) + 1;
    report();
    let started = false;
    try {
      const child = await startChild(input.workflowType, { workflowId, args: [vmInput], ...childOptions });
      started = true;
      await child.result();
      outcomes.add({ vm, workflowId, outcome: 'succeeded' });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) outcomes.add({ vm, workflowId, outcome: 'skipped', reason: `${workflowId} is already running` });
      else if (endsCancelled && isCancellation(err) && !started) outcomes.add({ vm, workflowId, outcome: 'not-started', reason: 'the fleet was cancelled before this run started' });
      else if (endsCancelled && isCancellation(err)) outcomes.add({ vm, workflowId, outcome: 'cancelled', reason: 'the run was cancelled (it undid what it had done)' });
      else outcomes.add({ vm, workflowId, outcome: 'failed', reason: describeFailure(err) });
    } finally {
      running--;
      if (proxy) runningByProxy[proxy]! -= 1;
      report();
    }
  };

  while (queue.length || inFlight.size) {
    // Start what the caps allow, in list order, skipping past VMs whose proxy is full.
    while (!cancelRequested() && running < input.maxConcurrent && startedThisRun < input.batchSize) {
      const index = queue.findIndex(canStart);
      if (index < 0) break;
      const [next] = queue.splice(index, 1);
      const key = `${startedThisRun++}`;
      inFlight.set(key, launch(next!.input).then(() => void inFlight.delete(key)));
    }
    if (!inFlight.size) break;
    await Promise.race(inFlight.values());
  }

  await outcomes.settle();
  if (cancelRequested()) {
    // Every running child has ended (cancelled, or finished first); what was never started is said so.
    for (const q of queue.splice(0)) outcomes.add({ vm: entry.subject(q.input) ?? '?', workflowId: '', outcome: 'not-started', reason: 'the fleet was cancelled before this VM was started' });
    report();
    await outcomes.settle();
    progress.finish('cancelled');
    throw new CancelledFailure('the fleet was cancelled');
  }
  if (queue.length) {
    // This run's batch is done and all its children are finished: go on with a fresh history.
    const { succeeded, failed, skipped, cancelled } = outcomes.tally;
    await continueAsNew<typeof fleetBackup>({
      ...input,
      vms: queue.map((q) => q.given),
      query: undefined,
      ...(outcomes.record
        ? { carried: { total, counts: { succeeded, failed, skipped, cancelled }, recentFailures: outcomes.recentFailures, runs: runs + 1 }, carriedOutcomes: undefined }
        : // A run from before the table (replaying) hands on every row, which the next run records.
          { carried: undefined, carriedOutcomes: outcomes.unrecorded }),
    });
  }
  progress.finish('completed');
  return { counts: counts(), recentFailures: outcomes.recentFailures };
}
