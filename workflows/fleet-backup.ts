/**
 * Backs up many VMs as child workflows: at most `maxConcurrent` at once and `maxPerProxy` per
 * proxy VM, going on past failures, one run per VM (a VM already being backed up is reported as
 * skipped). Continues as new every `batchSize` children so a fleet of any size keeps small histories.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ApplicationFailure,
  continueAsNew,
  defineQuery,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { catalogEntry, workflowIdFor } from '../client/workflow-catalog';
import { BackupProvider } from '../lib/temporal/search-attributes';
import { fleetBackupInput, type FleetOutcome } from './inputs/fleet-backup';
import { describeFailure } from './shared/failures';
import { ProgressTracker } from './shared/progress';
import { vendorRetry } from './shared/retry-policies';
import { parseWorkflowInput } from './shared/validate-input';

export interface FleetCounts {
  total: number;
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  skipped: number;
  runningByProxy: Record<string, number>;
}

export interface FleetResult {
  counts: FleetCounts;
  outcomes: FleetOutcome[];
}

export const fleetCountsQuery = defineQuery<FleetCounts>('fleetCounts');

type InventoryActivities = Record<string, (args: Record<string, unknown>) => Promise<Array<{ id: string; name: string }>>>;
const inventory = proxyActivities<InventoryActivities>({ startToCloseTimeout: '2 minutes', retry: vendorRetry });

export async function fleetBackup(rawInput: unknown): Promise<FleetResult> {
  const progress = new ProgressTracker('fleetBackup', ['validate', 'inventory', 'backups']);
  const input = parseWorkflowInput('fleetBackup', fleetBackupInput, rawInput);
  const entry = catalogEntry(input.workflowType);
  if (!entry || entry.kind !== 'backup') {
    throw ApplicationFailure.create({ type: 'InvalidInput', nonRetryable: true, message: `invalid input for fleetBackup: workflowType: ${input.workflowType} is not a backup workflow` });
  }
  upsertSearchAttributes([{ key: BackupProvider, value: entry.provider }]);

  const outcomes: FleetOutcome[] = [...(input.carriedOutcomes ?? [])];
  const queue: Array<Record<string, unknown>> = [];
  const runningByProxy: Record<string, number> = {};
  let running = 0;
  let total = outcomes.length;
  const counts = (): FleetCounts => ({
    total,
    pending: queue.length,
    running,
    succeeded: outcomes.filter((o) => o.outcome === 'succeeded').length,
    failed: outcomes.filter((o) => o.outcome === 'failed').length,
    skipped: outcomes.filter((o) => o.outcome === 'skipped').length,
    runningByProxy: { ...runningByProxy },
  });
  setHandler(fleetCountsQuery, counts);

  progress.enter('inventory');
  let perVm = input.vms;
  if (!perVm) {
    if (!entry.inventory) throw ApplicationFailure.nonRetryable(`${input.workflowType} cannot list VMs by query; give "vms"`, 'InvalidInput');
    const listed = await inventory[entry.inventory.activity]!(entry.inventory.args(input.defaults, input.query!.filter));
    perVm = listed.map(entry.inventory.toInput);
  }
  const inputs = perVm.map((vm) => ({ ...input.defaults, ...vm }));
  // Each VM's input is checked up front: a bad one is reported, not started, and the rest go on.
  for (const vmInput of inputs) {
    const parsed = entry.input.safeParse(vmInput);
    const vm = entry.subject(vmInput) ?? '?';
    if (parsed.success) queue.push(vmInput);
    else outcomes.push({ vm, workflowId: '', outcome: 'failed', reason: `invalid input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
  }

  total = outcomes.length + queue.length;
  const report = () => {
    const c = counts();
    progress.update({ message: `${c.succeeded} succeeded, ${c.failed} failed, ${c.skipped} skipped, ${c.running} running, ${c.pending} pending of ${c.total}` });
  };

  progress.enter('backups');
  progress.about(`fleet of ${total} VMs (${input.workflowType})`);
  const inFlight = new Map<string, Promise<void>>();
  let startedThisRun = 0;
  const proxyOf = (i: Record<string, unknown>) => entry.proxyOf?.(i);
  const canStart = (i: Record<string, unknown>) => {
    const proxy = proxyOf(i);
    return !(input.maxPerProxy && proxy && (runningByProxy[proxy] ?? 0) >= input.maxPerProxy);
  };

  const launch = async (vmInput: Record<string, unknown>): Promise<void> => {
    const vm = entry.subject(vmInput) ?? '?';
    const workflowId = workflowIdFor(input.workflowType, vmInput, `${workflowInfo().workflowId}-${startedThisRun}`);
    const proxy = proxyOf(vmInput);
    running++;
    if (proxy) runningByProxy[proxy] = (runningByProxy[proxy] ?? 0) + 1;
    report();
    try {
      const child = await startChild(input.workflowType, { workflowId, args: [vmInput] });
      await child.result();
      outcomes.push({ vm, workflowId, outcome: 'succeeded' });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) outcomes.push({ vm, workflowId, outcome: 'skipped', reason: `${workflowId} is already running` });
      else outcomes.push({ vm, workflowId, outcome: 'failed', reason: describeFailure(err) });
    } finally {
      running--;
      if (proxy) runningByProxy[proxy]! -= 1;
      report();
    }
  };

  while (queue.length || inFlight.size) {
    // Start what the caps allow, in list order, skipping past VMs whose proxy is full.
    while (running < input.maxConcurrent && startedThisRun < input.batchSize) {
      const index = queue.findIndex(canStart);
      if (index < 0) break;
      const [next] = queue.splice(index, 1);
      const key = `${startedThisRun++}`;
      inFlight.set(key, launch(next!).then(() => void inFlight.delete(key)));
    }
    if (!inFlight.size) break;
    await Promise.race(inFlight.values());
  }

  if (queue.length) {
    // This run's batch is done and all its children are finished: go on with a fresh history.
    await continueAsNew<typeof fleetBackup>({ ...input, vms: queue, query: undefined, carriedOutcomes: outcomes });
  }
  progress.finish('completed');
  return { counts: counts(), outcomes };
}
