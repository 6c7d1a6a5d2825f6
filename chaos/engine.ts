/**
 * Runs one fault case: arm the fault, start the workflow, break things at the right moment, wait
 * for the run to end, then look at the vendor through the simulator: leftovers and duplicates.
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { Progress } from '../contracts/progress';
import type { ChaosCluster } from './cluster';
import type { CaseResult, ChaosTarget, FaultCase } from './types';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let caseSeq = 0;

export function describeFault(fault: FaultCase): { fault: string; detail: string } {
  if (fault.kind === 'none') return { fault: 'none (baseline)', detail: '' };
  if ('call' in fault) return { fault: fault.kind, detail: `${fault.call.on ? `${fault.call.on} ` : ''}${fault.call.method} ${fault.call.path}` };
  if (fault.kind === 'vendor-state') return { fault: fault.kind, detail: `${fault.state}${fault.step ? ` at step ${fault.step}` : ' from the start'}` };
  const kill = fault.kind === 'worker-sigkill' ? `${fault.afterMs ? ` +${fault.afterMs} ms` : ''}${fault.worker ? ` (${fault.worker} worker only)` : ''}` : '';
  if (fault.kind === 'worker-sigkill' && fault.point) return { fault: fault.kind, detail: `at ${fault.point} (step ${fault.step})${kill}` };
  return { fault: fault.kind, detail: `at step ${fault.step}${kill}` };
}

/** A failed run is "failed cleanly" when its failure names the step it failed in (step names may hold a dash: attach-vm) or refuses its input. */
export function failureOutcome(message: string | undefined): 'failed-cleanly' | 'failed-unclear' {
  return /step "[a-zA-Z-]+" failed/.test(message ?? '') || /^invalid input/i.test(message ?? '') ? 'failed-cleanly' : 'failed-unclear';
}

/** Arms a fault rule on the simulator; returns how to read how often it fired. */
function armVendorFault(target: ChaosTarget, fault: FaultCase): (() => number) | undefined {
  if (!('call' in fault)) return undefined;
  const { method, path, on } = fault.call;
  const simulator = on ? target.companions?.[on] : target.simulator;
  if (!simulator) throw new Error(`${target.workflow}: no companion simulator "${on}"`);
  const action = (() => {
    switch (fault.kind) {
      case '5xx-burst':
        return { rule: { times: 3 }, action: { kind: 'status', status: 503, message: 'Service Unavailable (chaos)' } } as const;
      case '429-retry-after':
        return { rule: { times: 2 }, action: { kind: 'status', status: 429, message: 'Too Many Requests (chaos)', retryAfterSeconds: 1 } } as const;
      case 'drop':
        return { rule: { times: 1 }, action: { kind: 'drop', afterHandling: false } } as const;
      case 'lost-create-reply':
        return { rule: { times: 1 }, action: { kind: 'drop', afterHandling: true } } as const;
      case 'timeout':
        return { rule: { times: 1 }, action: { kind: 'delay', ms: target.clientTimeoutMs + 1_500 } } as const;
      case 'malformed':
        return { rule: { times: 1 }, action: { kind: 'malformed' } } as const;
    }
  })();
  const id = simulator.faults.add({ method, path, ...action.rule, action: action.action });
  return () => simulator.faults.list().find((f) => f.id === id)?.fired ?? 0;
}

async function progressOf(handle: WorkflowHandle): Promise<Progress | undefined> {
  try {
    return await handle.query<Progress>('progress');
  } catch {
    return undefined;
  }
}

async function isClosed(handle: WorkflowHandle): Promise<boolean> {
  try {
    return (await handle.describe()).status.name !== 'RUNNING';
  } catch {
    return false;
  }
}

/** Waits until the run is in `step` (or past it, or closed); false if it never got there. */
async function reachStep(handle: WorkflowHandle, target: ChaosTarget, step: string, deadline: number): Promise<boolean> {
  const wanted = target.steps.indexOf(step);
  while (Date.now() < deadline) {
    const p = await progressOf(handle);
    if (p && p.state !== 'running') return false;
    if (p && p.stepIndex >= wanted) return p.stepIndex === wanted;
    if (await isClosed(handle)) return false;
    await sleep(50);
  }
  return false;
}

/** Polls a kill point until it is reached; false if the run closed first or the deadline passed. */
async function reachPoint(handle: WorkflowHandle, reached: () => Promise<boolean> | boolean, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    if (await reached()) return true;
    if (await isClosed(handle)) return reached();
    await sleep(25);
  }
  return false;
}

/** What a hung run waits on: its pending activities, their attempt and last failure. */
async function pendingWork(handle: WorkflowHandle): Promise<string> {
  try {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    if (!pending.length) return 'no pending activity';
    return pending.map((a) => `${a.activityType?.name} attempt ${a.attempt}${a.lastFailure?.message ? `, last failure: ${a.lastFailure.message.slice(0, 200)}` : ''}`).join('; ');
  } catch (err) {
    return `describe failed: ${(err as Error).message}`;
  }
}

export interface CaseOptions {
  /** Longest a case may take before it is cancelled and counted as hung. */
  caseTimeoutMs?: number;
  /** How long leftovers may take to disappear after the run ended (asynchronous vendor deletes). */
  settleMs?: number;
}

export async function runCase(cluster: ChaosCluster, target: ChaosTarget, fault: FaultCase, options: CaseOptions = {}): Promise<CaseResult> {
  const started = Date.now();
  const deadline = started + (options.caseTimeoutMs ?? 300_000);
  const { fault: name, detail } = describeFault(fault);
  await target.reset();
  const fired = armVendorFault(target, fault);
  let disruptions = 0;
  if (fault.kind === 'vendor-state' && !fault.step) {
    await target.arrange!(fault.state);
    disruptions++;
  }

  const point = fault.kind === 'worker-sigkill' && fault.point ? target.killPoints?.find((p) => p.name === fault.point) : undefined;
  if (fault.kind === 'worker-sigkill' && fault.point && !point) throw new Error(`chaos: ${target.workflow} has no kill point "${fault.point}"`);
  await point?.arm();

  const workflowId = `chaos-${target.workflow}-${name}-${Date.now()}-${++caseSeq}`;
  await cluster.client.workflow.start(target.workflow, { taskQueue: cluster.taskQueue, workflowId, args: [target.input()] });
  const handle = () => cluster.client.workflow.getHandle(workflowId);

  if (point) {
    if (await reachPoint(handle(), () => point.reached(), deadline)) {
      disruptions++;
      if (fault.kind === 'worker-sigkill' && fault.afterMs) await sleep(fault.afterMs);
      const which = fault.kind === 'worker-sigkill' ? fault.worker : undefined;
      await cluster.killWorker(which);
      await cluster.startWorker(undefined, which);
      await point.killed?.();
    }
  } else if (fault.kind === 'worker-sigkill' || fault.kind === 'server-restart' || fault.kind === 'expired-session' || (fault.kind === 'vendor-state' && fault.step)) {
    if (await reachStep(handle(), target, fault.step!, deadline)) {
      disruptions++;
      if (fault.kind === 'expired-session') target.expireSessions?.();
      else if (fault.kind === 'vendor-state') await target.arrange!(fault.state);
      else if (fault.kind === 'server-restart') await cluster.restartServer();
      else {
        if (fault.afterMs) await sleep(fault.afterMs);
        const which = fault.kind === 'worker-sigkill' ? fault.worker : undefined;
        await cluster.killWorker(which);
        await cluster.startWorker(undefined, which);
      }
    }
  }

  let outcome: CaseResult['outcome'];
  let message: string | undefined;
  const result = handle()
    .result()
    .then(
      () => 'completed' as const,
      (err: unknown) => {
        message = err instanceof WorkflowFailedError ? `${err.cause?.message ?? err.message}` : (err as Error).message;
        return failureOutcome(message);
      },
    );
  // Unref'd: a case that ended must not keep the process (a test file) alive until its deadline.
  const timer = new Promise<'hung'>((r) => setTimeout(() => r('hung'), Math.max(0, deadline - Date.now())).unref());
  outcome = await Promise.race([result, timer]);
  if (outcome === 'hung') {
    message = `still running after ${options.caseTimeoutMs ?? 300_000} ms (${await pendingWork(handle())}); cancelled`;
    await handle()
      .cancel()
      .catch(() => undefined);
    await Promise.race([result, sleep(60_000)]);
  }

  // Vendor deletes finish on the vendor's clock: give leftovers a moment to go before counting them.
  const settleUntil = Date.now() + (options.settleMs ?? 5_000);
  const run = { completed: outcome === 'completed' };
  let leftovers = await target.leftovers(run);
  while (leftovers.length > 0 && Date.now() < settleUntil) {
    await sleep(200);
    leftovers = await target.leftovers(run);
  }
  const repository = await target.repository?.(run);
  if (repository) leftovers.push(...repository.problems);
  const accepted = 'call' in fault ? target.leftToVendor?.find((a) => a.kinds.includes(fault.kind) && a.call.method === fault.call.method && a.call.path === fault.call.path) : undefined;
  const leftToVendor = accepted ? leftovers.filter((l) => accepted.matches.test(l)).map((l) => `${l} (${accepted.reason})`) : [];
  if (accepted) leftovers = leftovers.filter((l) => !accepted.matches.test(l));
  // Read before afterCase, which may clear the rules the case armed.
  const faultsFired = fired ? fired() : disruptions;
  if (target.afterCase) leftovers.push(...(await target.afterCase({ ...run, workflowId })));
  return {
    workflow: target.workflow,
    workflowId,
    fault: name,
    detail,
    outcome,
    ...(message ? { message } : {}),
    leftovers,
    ...(leftToVendor.length ? { leftToVendor } : {}),
    duplicates: await target.duplicates(),
    ...(repository ? { leftInRepository: repository.left } : {}),
    faultsFired,
    ms: Date.now() - started,
  };
}
