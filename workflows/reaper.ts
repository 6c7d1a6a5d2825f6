/**
 * The reaper catches what cancellation cannot: a run that was terminated (or whose worker lost its
 * state) skips compensation. For each endpoint profile it asks that vendor for the objects this
 * tool made, tagged with their run, asks Temporal about those runs, keeps what an open run owns or
 * what a run kept as its product, and removes the rest. It never touches objects it did not make.
 */
import { patched, proxyActivities } from '@temporalio/workflow';
import type { ReapObject, ReapRemoveInput, ReaperVendor, createReaperActivities } from '../activities/reaper';
import type { RunState, createRunStatusActivities } from '../activities/run-status';
import type { createOvirtReaperActivities } from '../activities/ovirt/reaper';
import type { createManageiqReaperActivities } from '../activities/manageiq/reaper';
import type { createOnappReaperActivities } from '../activities/onapp/reaper';
import type { createAzureReaperActivities } from '../activities/azure/reaper';
import { reaperInput } from '../contracts/reaper/input';
import type { ReaperResult, VendorSummary } from '../contracts/reaper/results';
import { MANAGEIQ_SNAPSHOT_STEPS } from '../contracts/manageiq/steps';
import { ONAPP_BACKUP_STEPS } from '../contracts/onapp/steps';
import { waitUpTo } from './shared/activity-options';
import { describeFailure } from './shared/failures';
import type { ProgressTracker } from './shared/progress';
import { tagRun } from './shared/tag-run';
import { openRun } from './shared/workflow-run';

const act = proxyActivities<
  ReturnType<typeof createReaperActivities> &
    ReturnType<typeof createRunStatusActivities> &
    ReturnType<typeof createOvirtReaperActivities> &
    ReturnType<typeof createManageiqReaperActivities> &
    ReturnType<typeof createOnappReaperActivities> &
    ReturnType<typeof createAzureReaperActivities>
>(waitUpTo(13 * 60_000));

interface VendorReaper {
  /** Where to look comes from Temporal: the VMs runs of this workflow type were about. */
  subjectsOf?: string;
  find(endpoint: string, vmIds: string[]): Promise<ReapObject[]>;
  remove(input: ReapRemoveInput): Promise<void>;
  /** A run that entered this step (or completed) keeps its object as its product. */
  productFrom?: { steps: readonly string[]; step: string };
}

const vendorReapers: Record<ReaperVendor, VendorReaper> = {
  ovirt: { find: (endpoint) => act.ovirtReaperFind({ endpoint }), remove: (i) => act.ovirtReaperRemove(i) },
  manageiq: {
    subjectsOf: 'manageiqSnapshot',
    find: (endpoint, vmIds) => act.manageiqReaperFind({ endpoint, vmIds }),
    remove: (i) => act.manageiqReaperRemove(i),
    productFrom: { steps: MANAGEIQ_SNAPSHOT_STEPS, step: 'retention' },
  },
  onapp: {
    subjectsOf: 'onappBackup',
    find: (endpoint, vmIds) => act.onappReaperFind({ endpoint, vmIds }),
    remove: (i) => act.onappReaperRemove(i),
    productFrom: { steps: ONAPP_BACKUP_STEPS, step: 'report' },
  },
  azure: { find: (endpoint) => act.azureReaperFind({ endpoint }), remove: (i) => act.azureReaperRemove(i) },
};

const NOTHING_TO_REAP: Record<string, string> = {
  altaro: 'nothing to reap: Altaro does not say which run started an operation (it finishes on its own) and sessions are ended by token, which never leaves the worker',
};

type Verdict = { open: true } | { keep: string } | { orphan: true };

export const REAPER_STEPS = ['validate', 'scan', 'remove'] as const;

export async function reaper(rawInput: unknown): Promise<ReaperResult> {
  const run = openRun({ workflowType: 'reaper', steps: REAPER_STEPS, input: reaperInput, about: (i) => `leftovers on ${i.endpoints.join(', ')}` }, rawInput);
  try {
    return await reap(run.input, run.progress);
  } catch (err) {
    // reaper-one-way-out: a failed reaper ends through run.fail like every workflow (BackupOutcome
    // "failed", the failure naming its step). Runs started before rethrew the failure as it was;
    // they replay so. deprecatePatch once no reaper run started before this change can be open.
    if (patched('reaper-one-way-out')) return run.fail(err);
    throw err;
  }
}

async function reap(input: ReturnType<typeof reaperInput.parse>, progress: ProgressTracker): Promise<ReaperResult> {
  progress.enter('scan');
  const vendorOf = await act.reaperEndpointVendors({ endpoints: input.endpoints });
  const present = [...new Set(Object.values(vendorOf))];
  tagRun({ provider: present.length === 1 ? present[0]! : 'multi' });
  const vendors: Record<string, VendorSummary> = {};
  const found: ReapObject[] = [];
  const subjects = new Map<string, string[]>();
  for (const endpoint of input.endpoints) {
    const vendor = vendorOf[endpoint]!;
    const summary = (vendors[vendor] ??= { endpoints: [], found: 0, removed: [], keptForOpenRuns: [], kept: [], failed: [], note: NOTHING_TO_REAP[vendor] });
    summary.endpoints.push(endpoint);
    const reaper = vendorReapers[vendor as ReaperVendor];
    if (!reaper) continue;
    if (reaper.subjectsOf && !subjects.has(reaper.subjectsOf)) subjects.set(reaper.subjectsOf, await act.runSubjects({ workflowTypes: [reaper.subjectsOf] }));
    const objects = await reaper.find(endpoint, reaper.subjectsOf ? subjects.get(reaper.subjectsOf)! : []);
    summary.found += objects.length;
    found.push(...objects);
  }
  const states: Record<string, RunState> = found.length ? await act.runStates({ runs: found.map((o) => ({ runId: o.runId, lookup: o.runLookup })) }) : {};

  const now = Date.now();
  const verdict = (o: ReapObject): Verdict => {
    const state = states[o.runId] ?? { status: 'UNKNOWN' };
    if (state.status === 'RUNNING') return { open: true };
    if (state.status === 'UNKNOWN') {
      if (o.mayBeProduct) return { keep: 'Temporal does not know the run (past retention?): it may have completed and kept this' };
      // Maybe not indexed yet: only old enough objects count as orphans.
      const age = o.createdAt ? now - Date.parse(o.createdAt) : Number.POSITIVE_INFINITY;
      return age < input.unknownRunGraceMinutes * 60_000 ? { open: true } : { orphan: true };
    }
    const from = vendorReapers[o.vendor].productFrom;
    if (o.mayBeProduct && state.status === 'COMPLETED') return { keep: 'the product of a completed run' };
    if (o.mayBeProduct && from && state.step && from.steps.indexOf(state.step) >= from.steps.indexOf(from.step)) {
      return { keep: `the run (${state.status}) reached step "${state.step}", where it keeps this as its product` };
    }
    return { orphan: true };
  };
  const withRun = (o: ReapObject): ReapObject => (states[o.runId]?.runId && o.runLookup ? { ...o, runId: states[o.runId]!.runId! } : o);

  const keptForOpenRuns: ReaperResult['keptForOpenRuns'] = [];
  const kept: ReaperResult['kept'] = [];
  const orphans: ReapObject[] = [];
  for (const o of found) {
    const v = verdict(o);
    const runStatus = states[o.runId]?.status ?? 'UNKNOWN';
    if ('open' in v) keptForOpenRuns.push({ ...withRun(o), runStatus });
    else if ('keep' in v) kept.push({ ...withRun(o), runStatus, reason: v.keep });
    else orphans.push(o);
  }
  const heldByKept = new Set([...keptForOpenRuns, ...kept].map((o) => o.sharedKey).filter((k) => k !== undefined));

  progress.enter('remove');
  const removed: ReapObject[] = [];
  const failed: ReaperResult['failed'] = [];
  for (const o of [...orphans].sort((a, b) => a.order - b.order)) {
    if (input.dryRun) {
      removed.push(withRun(o));
      continue;
    }
    try {
      await vendorReapers[o.vendor].remove({ object: o, pollMs: input.pollIntervalMs, sharedWithKept: o.sharedKey !== undefined && heldByKept.has(o.sharedKey) });
      removed.push(withRun(o));
    } catch (err) {
      failed.push({ ...withRun(o), error: describeFailure(err) });
    }
    progress.update({ message: `${removed.length} removed, ${failed.length} failed of ${orphans.length}` });
  }

  for (const [list, key] of [
    [removed, 'removed'],
    [keptForOpenRuns, 'keptForOpenRuns'],
    [kept, 'kept'],
    [failed, 'failed'],
  ] as const) {
    for (const o of list) vendors[o.vendor]![key].push(`${o.label} (run ${o.runId})`);
  }
  progress.finish('completed');
  return { dryRun: input.dryRun, found: found.length, removed, keptForOpenRuns, kept, failed, vendors };
}
