/**
 * Backs up many VMs as child workflows: at most `maxConcurrent` at once and `maxPerProxy` per
 * proxy VM, going on past failures, one run per VM (a VM already being backed up is reported as
 * skipped). Continues as new every `batchSize` children, carrying counts and the newest failures
 * only; every VM's row is recorded in the history of the run that handled it (fleet-outcomes.ts).
 * Cancelled, it starts nothing more, lets its running children compensate and ends cancelled.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  CancellationScope,
  CancelledFailure,
  ContinueAsNew,
  ParentClosePolicy,
  continueAsNew,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  startChild,
} from '@temporalio/workflow';
import { FleetOutcomes } from './fleet-outcomes';
import { fleetBackupInput, type FleetOutcome } from '../contracts/fleet/input';
import type { FleetCounts, FleetResult } from '../contracts/fleet/results';
import { workflowIdFor, workflowRoute } from '../contracts/routing';
import { quickCall } from './shared/activity-options';
import { describeFailure } from './shared/failures';
import { tagRun } from './shared/tag-run';
import { checkWorkflowInput, invalidInput } from './shared/validate-input';
import { openRun } from './shared/workflow-run';

export const fleetCountsQuery = defineQuery<FleetCounts>('fleetCounts');
/** Rows this run has not recorded in its history yet; the table's reader adds them while the fleet runs. */
export const fleetUnrecordedQuery = defineQuery<FleetOutcome[]>('fleetUnrecordedOutcomes');

type InventoryActivities = Record<string, (args: Record<string, unknown>) => Promise<Array<{ id: string; name: string }>>>;
const inventory = proxyActivities<InventoryActivities>(quickCall);

export const FLEET_STEPS = ['validate', 'inventory', 'backups'] as const;
const FLEET_CANCELLED = 'the fleet was cancelled';

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

  const run = openRun({ workflowType: 'fleetBackup', steps: FLEET_STEPS, input: fleetBackupInput, about: (i) => `fleet of ${i.workflowType} runs` }, rawInput);
  const { input, progress } = run;
  const entry = workflowRoute(input.workflowType);
  if (!entry || entry.kind !== 'backup') throw invalidInput('fleetBackup', [`workflowType: ${input.workflowType} is not a backup workflow`]);
  tagRun({ provider: entry.provider });

  const backUpFleet = async (): Promise<FleetResult> => {
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
      if (!entry.inventory) throw invalidInput('fleetBackup', [`query: ${input.workflowType} cannot list VMs by query; give "vms"`]);
      const listed = await inventory[entry.inventory.activity]!(entry.inventory.args(input.defaults, input.query!.filter));
      perVm = listed.map(entry.inventory.toInput);
    }
    // Each VM's input is checked up front: a bad one is reported, not started, and the rest go on.
    // Only this workflow type's schema is built; its module loads within this activation (no command).
    const vmSchema = await entry.loadInput();
    for (const given of perVm) {
      const vmInput = { ...input.defaults, ...given };
      const checked = checkWorkflowInput(vmSchema, vmInput);
      if (checked.ok) queue.push({ given, input: vmInput });
      else outcomes.add({ vm: entry.subject(vmInput) ?? '?', workflowId: '', outcome: 'failed', reason: invalidInput(input.workflowType, checked.problems).message });
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
      const workflowId = workflowIdFor(input.workflowType, vmInput, `${run.workflowId}-${startedThisRun}`);
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
        inFlight.set(
          key,
          launch(next!.input).then(() => void inFlight.delete(key)),
        );
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
      throw new CancelledFailure(FLEET_CANCELLED);
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
  };

  try {
    return await backUpFleet();
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    // fleet-one-way-out: a failed or cancelled fleet ends through run.fail like every workflow
    // (BackupOutcome "failed" too, the failure naming its step). Runs started before rethrew
    // failures as they were and finished only their own cancellation; they replay so.
    // deprecatePatch once no fleetBackup run started before this change can be open.
    if (patched('fleet-one-way-out')) return run.fail(err);
    if (err instanceof CancelledFailure && err.message === FLEET_CANCELLED) progress.finish('cancelled');
    throw err;
  }
}
