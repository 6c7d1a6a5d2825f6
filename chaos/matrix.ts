/**
 * The fault matrix: a clean baseline run finds the calls a workflow makes, then one case per
 * (call × vendor fault), per create call (lost reply), per step (worker SIGKILL, expired session),
 * in the middle of each long step (SIGKILL), and one Temporal server restart. Also the table.
 */
import type { ChaosCluster } from './cluster';
import { runCase, type CaseOptions } from './engine';
import { callPattern, type CallSite, type CaseResult, type ChaosTarget, type FaultCase } from './types';

export const VENDOR_FAULTS = ['5xx-burst', '429-retry-after', 'drop', 'timeout', 'malformed'] as const;

/** Distinct calls of a clean run, in first-seen order (the control API and token endpoints aside). */
export function discoverCalls(target: ChaosTarget): CallSite[] {
  const seen = new Map<string, CallSite>();
  const servers: Array<[string | undefined, ChaosTarget['simulator']]> = [[undefined, target.simulator], ...Object.entries(target.companions ?? {})];
  for (const [on, simulator] of servers) {
    for (const call of simulator.calls.all()) {
      const site: CallSite = { method: call.method, path: callPattern(call.path), ...(on ? { on } : {}) };
      seen.set(`${on ?? ''} ${site.method} ${site.path}`, site);
    }
  }
  return [...seen.values()];
}

export interface MatrixOptions extends CaseOptions {
  /** Only these fault kinds (default: all). */
  kinds?: string[];
  /** Only the kills at kill points whose names contain one of these (default: every case). */
  points?: string[];
  onResult?: (r: CaseResult) => void;
}

export function buildCases(target: ChaosTarget, calls: CallSite[], kinds?: string[]): FaultCase[] {
  const cases: FaultCase[] = [];
  for (const call of calls) for (const kind of VENDOR_FAULTS) cases.push({ kind, call });
  for (const call of target.creates) cases.push({ kind: 'lost-create-reply', call });
  const steps = target.steps.filter((s) => s !== 'validate');
  if (target.expireSessions) for (const step of steps) cases.push({ kind: 'expired-session', step });
  for (const step of steps) cases.push({ kind: 'worker-sigkill', step });
  for (const [step, afterMs] of Object.entries(target.longSteps ?? {})) cases.push({ kind: 'worker-sigkill', step, afterMs });
  for (const p of target.killPoints ?? []) cases.push({ kind: 'worker-sigkill', step: p.step, point: p.name, ...(p.afterMs ? { afterMs: p.afterMs } : {}) });
  cases.push({ kind: 'server-restart', step: steps[Math.floor(steps.length / 2)]! });
  for (const s of target.vendorStates ?? []) cases.push({ kind: 'vendor-state', ...s });
  cases.push(...(target.extraCases ?? []));
  return kinds ? cases.filter((c) => kinds.includes(c.kind)) : cases;
}

/** The clean baseline (which must itself complete with nothing left over), then every case. */
export async function runMatrix(cluster: ChaosCluster, target: ChaosTarget, options: MatrixOptions = {}): Promise<CaseResult[]> {
  await cluster.startWorker(target.worker);
  await target.prepare?.(cluster);
  const baseline = await runCase(cluster, target, { kind: 'none' }, options);
  const calls = discoverCalls(target);
  const results: CaseResult[] = [{ ...baseline, fault: 'none (baseline)', detail: `${calls.length} distinct calls` }];
  options.onResult?.(results[0]!);
  const points = options.points;
  const atPoint = (fault: FaultCase) => !points || (fault.kind === 'worker-sigkill' && fault.point !== undefined && points.some((p) => fault.point!.includes(p)));
  for (const fault of buildCases(target, calls, options.kinds).filter(atPoint)) {
    const r = await runCase(cluster, target, fault, options);
    results.push(r);
    options.onResult?.(r);
  }
  return results;
}

export interface TableRow {
  workflow: string;
  fault: string;
  cases: number;
  /** Cases in which the fault really fired (a step already passed, a call not made, is not counted). */
  fired: number;
  completed: number;
  failedCleanly: number;
  unclear: number;
  leftovers: number;
  /** Leftovers only the vendor's expiry can end (a lost login reply): reported, not counted as leaks. */
  leftToVendor: number;
  duplicates: number;
  /** Left in the repository, named by no manifest (a killed attempt's snapshot): reported, not a leak. Absent when the target does not look. */
  leftInRepository?: number;
}

export function summarize(results: CaseResult[]): TableRow[] {
  const rows = new Map<string, TableRow>();
  for (const r of results) {
    const key = `${r.workflow}\u0000${r.fault}`;
    const row = rows.get(key) ?? { workflow: r.workflow, fault: r.fault, cases: 0, fired: 0, completed: 0, failedCleanly: 0, unclear: 0, leftovers: 0, leftToVendor: 0, duplicates: 0 };
    row.cases++;
    if (r.faultsFired > 0) row.fired++;
    if (r.outcome === 'completed') row.completed++;
    else if (r.outcome === 'failed-cleanly') row.failedCleanly++;
    else row.unclear++;
    row.leftovers += r.leftovers.length;
    row.leftToVendor += r.leftToVendor?.length ?? 0;
    row.duplicates += r.duplicates.length;
    if (r.leftInRepository) row.leftInRepository = (row.leftInRepository ?? 0) + r.leftInRepository.length;
    rows.set(key, row);
  }
  return [...rows.values()];
}

export function formatTable(rows: TableRow[]): string {
  // The repository column only where a target looked at its repository (the restic targets).
  const repo = rows.some((r) => r.leftInRepository !== undefined);
  const head = ['workflow', 'fault', 'cases', 'fired', 'completed', 'failed cleanly', 'unclear/hung', 'leftovers', 'left to vendor expiry', 'duplicates', ...(repo ? ['left in repository'] : [])];
  const body = rows.map((r) =>
    [r.workflow, r.fault, r.cases, r.fired, r.completed, r.failedCleanly, r.unclear, r.leftovers, r.leftToVendor, r.duplicates, ...(repo ? [r.leftInRepository ?? 0] : [])].map(String),
  );
  const total = summarizeTotal(rows);
  body.push(
    [
      'TOTAL',
      '',
      total.cases,
      total.fired,
      total.completed,
      total.failedCleanly,
      total.unclear,
      total.leftovers,
      total.leftToVendor,
      total.duplicates,
      ...(repo ? [total.leftInRepository ?? 0] : []),
    ].map(String),
  );
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...body.map(line)].join('\n');
}

export function summarizeTotal(rows: TableRow[]): Omit<TableRow, 'workflow' | 'fault'> {
  const t = { cases: 0, fired: 0, completed: 0, failedCleanly: 0, unclear: 0, leftovers: 0, leftToVendor: 0, duplicates: 0 };
  for (const r of rows) for (const k of Object.keys(t) as Array<keyof typeof t>) t[k] += r[k];
  const repo = rows.filter((r) => r.leftInRepository !== undefined);
  return repo.length ? { ...t, leftInRepository: repo.reduce((n, r) => n + r.leftInRepository!, 0) } : t;
}
