/**
 * Which backups retention keeps: one decision for every repository kind (a directory of backup
 * folders, a restic repository), so both keep the same set for the same rules.
 *
 * The keep rules follow `restic forget --keep-*`: per VM, newest first, each rule keeps the newest
 * backup of each of its N most recent buckets (hour, day, ISO week, month, year, by wall-clock time
 * in `timeZone`) that hold one, and keepLast the N newest. When a rule still has count left after the
 * oldest backup, that oldest backup is kept too (restic ≥ 0.16: the longest history the counts allow).
 * A backup kept by any rule is kept.
 *
 * On top, safety rules restic does not have: the newest good (complete) backup of a VM, its newest
 * verified one, and any backup whose run is still open are never removed.
 *
 * Incremental chains: a point depends on its parent (`parent`), so a point is removed only when no
 * kept point builds on it: every ancestor of a kept point is kept with it ("the kept backup … builds
 * on it"). A chain's full therefore goes only once nothing kept builds on it, i.e. when a later full
 * has started a new chain that the rules keep instead. The chain's head (`chainHead`, the newest
 * point) is kept too: the next incremental backup starts from its checkpoint.
 */

export const KEEP_RULES = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;
export type KeepRuleName = (typeof KEEP_RULES)[number];
export type KeepRules = Partial<Record<KeepRuleName, number>>;

export interface RetentionCandidate {
  /** A folder, a restic snapshot id: whatever the repository removes by. */
  id: string;
  /** When the backup was taken (ISO 8601 with offset or Z). */
  time: string;
  vmId: string;
  /** Complete: every file the manifest names was written (for restic: a snapshot exists). */
  good: boolean;
  /** Its last verification passed. */
  verified: boolean;
  /** The run that made it has not closed yet. */
  runOpen: boolean;
  /** A point of an incremental chain: the id of the point it builds on (absent for a full or any other backup). */
  parent?: string;
  /** The newest point of the VM's incremental chain: the next incremental starts from it. */
  chainHead?: boolean;
}

export interface KeptBackup {
  id: string;
  vmId: string;
  time: string;
  /** Why, e.g. "daily backup", "oldest monthly backup", "newest verified backup". */
  reasons: string[];
}

export interface RemovedBackup {
  id: string;
  vmId: string;
  time: string;
}

export interface RetentionDecision {
  /** Newest first, per VM in the order VMs first appear. */
  kept: KeptBackup[];
  removed: RemovedBackup[];
}

/** What each rule's reason says, as restic says it ("last snapshot", "daily snapshot"), for backups. */
const RULE_REASONS: Record<KeepRuleName, string> = {
  keepLast: 'last backup',
  keepHourly: 'hourly backup',
  keepDaily: 'daily backup',
  keepWeekly: 'weekly backup',
  keepMonthly: 'monthly backup',
  keepYearly: 'yearly backup',
};

export const SAFETY_REASONS = {
  newestGood: 'newest good backup of the VM',
  newestVerified: 'newest verified backup of the VM',
  runOpen: 'its run is still open',
  chainHead: 'head of the incremental chain: the next incremental backup starts from its checkpoint',
  noRules: 'no keep rule given: nothing is removed',
} as const;

export function hasKeepRule(rules: KeepRules): boolean {
  return KEEP_RULES.some((r) => (rules[r] ?? 0) > 0);
}

/** Why an ancestor of a kept chain point stays. */
export function neededByReason(child: string): string {
  return `the kept backup ${child} builds on it`;
}

/** One line for the rules, e.g. "keep 7 daily, 4 weekly". */
export function describeKeepRules(rules: KeepRules): string {
  const parts = KEEP_RULES.filter((r) => (rules[r] ?? 0) > 0).map((r) => `${rules[r]} ${r === 'keepLast' ? 'last' : r.slice(4).toLowerCase()}`);
  return parts.length ? `keep ${parts.join(', ')}` : 'no keep rules';
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(time: number, timeZone: string): WallClock {
  if (timeZone === 'UTC') {
    const d = new Date(time);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours() };
  }
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric' });
    formatters.set(timeZone, format);
  }
  const part = (parts: Intl.DateTimeFormatPart[], type: string) => Number(parts.find((p) => p.type === type)?.value);
  const parts = format.formatToParts(time);
  return { year: part(parts, 'year'), month: part(parts, 'month'), day: part(parts, 'day'), hour: part(parts, 'hour') };
}

/** ISO 8601 week: the week with the year's first Thursday is week 1; weeks start on Monday. */
function isoWeek({ year, month, day }: WallClock): number {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const weekYear = date.getUTCFullYear();
  const week = Math.ceil(((date.getTime() - Date.UTC(weekYear, 0, 1)) / 86_400_000 + 1) / 7);
  return weekYear * 100 + week;
}

/** The bucket a backup falls in, per rule: equal numbers mean the same hour, day, week, month or year. */
const BUCKETS: Record<KeepRuleName, (c: WallClock, position: number) => number> = {
  keepLast: (_c, position) => position,
  keepHourly: (c) => ((c.year * 100 + c.month) * 100 + c.day) * 100 + c.hour,
  keepDaily: (c) => (c.year * 100 + c.month) * 100 + c.day,
  keepWeekly: isoWeek,
  keepMonthly: (c) => c.year * 100 + c.month,
  keepYearly: (c) => c.year,
};

function checkRules(rules: KeepRules): void {
  for (const rule of KEEP_RULES) {
    const n = rules[rule];
    if (n !== undefined && (!Number.isInteger(n) || n < 0)) throw new RangeError(`${rule} must be a whole number ≥ 0, not ${n}`);
  }
}

/** The keep rules alone (restic's ApplyPolicy), over one VM's backups: the reasons of each kept one, by position newest first. */
function applyRules(newestFirst: Array<{ at: number }>, rules: KeepRules, timeZone: string): string[][] {
  const state = KEEP_RULES.map((rule) => ({ rule, left: rules[rule] ?? 0, last: undefined as number | undefined }));
  return newestFirst.map((backup, position) => {
    const clock = wallClock(backup.at, timeZone);
    const oldest = position === newestFirst.length - 1;
    const reasons: string[] = [];
    for (const s of state) {
      if (s.left <= 0) continue;
      const bucket = BUCKETS[s.rule](clock, position);
      if (bucket === s.last && !oldest) continue;
      reasons.push(bucket === s.last ? `oldest ${RULE_REASONS[s.rule]}` : RULE_REASONS[s.rule]);
      s.last = bucket;
      s.left--;
    }
    return reasons;
  });
}

/**
 * What to keep and what to remove, per VM. Throws RangeError for a rule that is not a whole number ≥ 0
 * and for a time that does not parse; with no rule above 0, everything is kept.
 */
export function decideRetention(candidates: RetentionCandidate[], rules: KeepRules, options: { timeZone?: string } = {}): RetentionDecision {
  checkRules(rules);
  const timeZone = options.timeZone ?? 'UTC';
  const byVm = new Map<string, Array<RetentionCandidate & { at: number }>>();
  for (const c of candidates) {
    const at = Date.parse(c.time);
    if (Number.isNaN(at)) throw new RangeError(`backup ${c.id}: time ${JSON.stringify(c.time)} is not an ISO 8601 time`);
    byVm.set(c.vmId, [...(byVm.get(c.vmId) ?? []), { ...c, at }]);
  }
  const decision: RetentionDecision = { kept: [], removed: [] };
  const anyRule = hasKeepRule(rules);
  for (const backups of byVm.values()) {
    backups.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const reasons = anyRule ? applyRules(backups, rules, timeZone) : backups.map(() => [SAFETY_REASONS.noRules]);
    const newestGood = backups.findIndex((b) => b.good);
    const newestVerified = backups.findIndex((b) => b.verified);
    backups.forEach((b, i) => {
      const why = reasons[i]!;
      if (i === newestGood) why.push(SAFETY_REASONS.newestGood);
      if (i === newestVerified) why.push(SAFETY_REASONS.newestVerified);
      if (b.runOpen) why.push(SAFETY_REASONS.runOpen);
      if (b.chainHead) why.push(SAFETY_REASONS.chainHead);
    });
    // A kept point's ancestors stay with it (newest first, so a chain is followed to its full).
    const index = new Map(backups.map((b, i) => [b.id, i]));
    for (const [i, b] of backups.entries()) {
      if (!reasons[i]!.length) continue;
      for (let child = b, at = index.get(b.parent ?? ''); at !== undefined;) {
        const parentReasons = reasons[at]!;
        const reason = neededByReason(child.id);
        if (parentReasons.includes(reason)) break;
        parentReasons.push(reason);
        child = backups[at]!;
        at = index.get(child.parent ?? '');
      }
    }
    backups.forEach((b, i) => {
      const why = reasons[i]!;
      if (why.length) decision.kept.push({ id: b.id, vmId: b.vmId, time: b.time, reasons: why });
      else decision.removed.push({ id: b.id, vmId: b.vmId, time: b.time });
    });
  }
  return decision;
}
