/**
 * Schedule policy files (YAML or JSON): which workflow and input, when, and how overlaps, catch-up,
 * failures and retention are handled. Errors name the file, line and field.
 */
import { createHash } from 'node:crypto';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { InvalidInputError } from '../errors';
import { catalogEntry, workflowCatalog } from '../../contracts/catalog';
import { readGivenFile } from '../input-file';
import { cronProblems } from './cron';
import { keepRuleFields, needsKeepRule } from '../../contracts/retention/input';

const duration = z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, 'a duration like "30s", "5m", "2h" or "1d"');

export const overlapPolicies = {
  skip: 'SKIP',
  bufferOne: 'BUFFER_ONE',
  bufferAll: 'BUFFER_ALL',
  cancelOther: 'CANCEL_OTHER',
  terminateOther: 'TERMINATE_OTHER',
  allowAll: 'ALLOW_ALL',
} as const;

export const scheduleEntry = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, 'letters, digits, . _ - only'),
  workflow: z.string().refine((w) => catalogEntry(w) !== undefined, { message: `unknown workflow; known: ${Object.keys(workflowCatalog).join(', ')}` }),
  input: z.record(z.string(), z.unknown()),
  /** Standard 5-field cron (or Temporal's extended forms); exactly one of cron and every. */
  cron: z
    .string()
    .min(1)
    .superRefine((cron, ctx) => cronProblems(cron).forEach((message) => ctx.addIssue({ code: 'custom', message })))
    .optional(),
  every: duration.optional(),
  offset: duration.optional(),
  timezone: z.string().default('UTC'),
  jitter: duration.optional(),
  overlap: z.enum(Object.keys(overlapPolicies) as [keyof typeof overlapPolicies, ...Array<keyof typeof overlapPolicies>]).default('skip'),
  catchupWindow: duration.default('1h'),
  pauseOnFailure: z.boolean().default(false),
  paused: z.boolean().default(false),
  note: z.string().max(500).optional(),
  /** Keep the newest N recovery points / snapshots this schedule made; prune older ones after a successful run. */
  retention: z.strictObject({ keep: z.number().int().min(1, 'keep at least 1: the last good backup is never pruned') }).optional(),
  /**
   * Keep rules for the VM's backups in the repository (restic forget's --keep-*, days and weeks in
   * the schedule's timezone): pruned after each successful run; the newest good and newest verified
   * backup are never removed.
   */
  repositoryRetention: z.strictObject(keepRuleFields).superRefine(needsKeepRule).optional(),
});

/**
 * Checks that need the whole entry (which zod skips once a field is wrong): run on the raw file so
 * every problem is reported at once.
 */
function crossFieldIssues(raw: unknown): Array<{ path: Array<string | number>; message: string }> {
  const issues: Array<{ path: Array<string | number>; message: string }> = [];
  const schedules = (raw as { schedules?: unknown })?.schedules;
  if (!Array.isArray(schedules)) return issues;
  const seen = new Map<string, number>();
  schedules.forEach((entry: Record<string, unknown> | null, i) => {
    if (!entry || typeof entry !== 'object') return;
    if ((entry.cron === undefined) === (entry.every === undefined)) issues.push({ path: ['schedules', i, 'cron'], message: 'give exactly one of "cron" and "every"' });
    if (typeof entry.id === 'string') {
      if (seen.has(entry.id)) issues.push({ path: ['schedules', i, 'id'], message: `duplicate id "${entry.id}" (also schedules.${seen.get(entry.id)})` });
      seen.set(entry.id, i);
    }
    const workflow = typeof entry.workflow === 'string' ? catalogEntry(entry.workflow) : undefined;
    if (!workflow) return;
    if (entry.input && typeof entry.input === 'object') {
      const parsed = workflow.input.safeParse(entry.input);
      if (!parsed.success) for (const issue of parsed.error.issues) issues.push({ path: ['schedules', i, 'input', ...issue.path.map(String)], message: issue.message });
    }
    if (entry.retention !== undefined && !workflow.retention) issues.push({ path: ['schedules', i, 'retention'], message: `${entry.workflow} has no retention support yet` });
    if (entry.repositoryRetention !== undefined && !workflow.repositoryOf)
      issues.push({ path: ['schedules', i, 'repositoryRetention'], message: `${entry.workflow} keeps no backups in a repository` });
  });
  return issues;
}

export const policyFile = z.strictObject({ schedules: z.array(scheduleEntry).min(1) });

export type ScheduleEntry = z.output<typeof scheduleEntry>;

/** Parses a policy file's text (YAML, which includes JSON); problems carry file:line and the field path. */
export function parsePolicy(text: string, source = 'policy'): ScheduleEntry[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length) {
    throw new InvalidInputError(
      doc.errors.map((e) => `${source}:${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`),
      'schedule policy',
    );
  }
  const raw = doc.toJS();
  const result = policyFile.safeParse(raw);
  const issues = [...(result.success ? [] : result.error.issues), ...crossFieldIssues(raw)];
  if (result.success && !issues.length) return result.data.schedules;
  const problems = issues.map((issue) => {
    // Point at the deepest part of the path that exists in the file (a missing field: its parent).
    let line: number | undefined;
    for (let n = issue.path.length; n >= 0 && line === undefined; n--) {
      const node = doc.getIn(issue.path.slice(0, n) as Array<string | number>, true) as { range?: [number, number, number] } | undefined;
      if (node?.range) line = lineCounter.linePos(node.range[0]).line;
    }
    return `${source}:${line ?? 1}: ${issue.path.join('.') || '(file)'}: ${issue.message}`;
  });
  throw new InvalidInputError(problems, 'schedule policy');
}

export async function readPolicy(path: string): Promise<ScheduleEntry[]> {
  return parsePolicy(await readGivenFile(path, 'policy file', 'schedule policy'), path);
}

/** A fingerprint of the entry as written, so `apply` can tell "unchanged" without diffing server shapes. */
export function policyHash(entry: ScheduleEntry): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, v]) => [k, canonical(v)]),
          )
        : value;
  return createHash('sha256')
    .update(JSON.stringify(canonical(entry)))
    .digest('hex')
    .slice(0, 32);
}
