/**
 * Fault injection shared by every simulator: fail, delay, drop or garble a chosen call, the Nth
 * time, a number of times, or at a rate (seeded, so a failing test can be repeated).
 */
import { z } from 'zod';
import { compilePattern } from './router';

export const faultAction = z.discriminatedUnion('kind', [
  /** Answer with this status and the vendor's own error body. */
  z.object({
    kind: z.literal('status'),
    status: z.number().int().min(400).max(599),
    message: z.string().default('injected fault'),
    detail: z.string().optional(),
    retryAfterSeconds: z.number().min(0).optional(),
  }),
  /** Close the connection without answering; `afterHandling` runs the call first (a lost reply). */
  z.object({ kind: z.literal('drop'), afterHandling: z.boolean().default(false) }),
  /** Answer late. */
  z.object({ kind: z.literal('delay'), ms: z.number().int().min(0).max(600_000) }),
  /** Run the call, then send half of its body. */
  z.object({ kind: z.literal('malformed') }),
]);

export const faultRule = z.object({
  method: z.string().optional(),
  /** Route-style pattern of the vendor path, e.g. "/vms/:id/snapshots" or "/vms/*". */
  path: z.string(),
  /** Only calls whose query string contains this text, e.g. "all_content=true". */
  query: z.string().optional(),
  /** First matching call that fires (1-based). */
  nth: z.number().int().min(1).default(1),
  /** How many matching calls fire from the nth on; 0 means every one. */
  times: z.number().int().min(0).default(1),
  /** Fire with this probability instead of by count. */
  rate: z.number().min(0).max(1).optional(),
  seed: z.number().int().default(1),
  action: faultAction,
});

export type FaultRuleInput = z.input<typeof faultRule>;
export type FaultRule = z.output<typeof faultRule>;
export type FaultAction = z.output<typeof faultAction>;

interface ActiveRule {
  id: number;
  rule: FaultRule;
  regex: RegExp;
  seen: number;
  fired: number;
  random: () => number;
}

/** A small seeded PRNG (mulberry32): the same sequence for the same seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private nextId = 1;

  add(input: FaultRuleInput): number {
    const rule = faultRule.parse(input);
    const id = this.nextId++;
    this.rules.push({ id, rule, regex: compilePattern(rule.path).regex, seen: 0, fired: 0, random: mulberry32(rule.seed) });
    return id;
  }

  remove(id: number): void {
    this.rules = this.rules.filter((r) => r.id !== id);
  }

  clear(): void {
    this.rules = [];
  }

  list(): Array<FaultRule & { id: number; fired: number }> {
    return this.rules.map((r) => ({ ...r.rule, id: r.id, fired: r.fired }));
  }

  /** The action to apply to this call, if any rule fires for it. */
  take(method: string, path: string, query = ''): FaultAction | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (!active.regex.test(path)) continue;
      if (rule.query !== undefined && !query.includes(rule.query)) continue;
      active.seen++;
      let fire: boolean;
      if (rule.rate !== undefined) fire = active.random() < rule.rate;
      else fire = active.seen >= rule.nth && (rule.times === 0 || active.fired < rule.times);
      if (fire) {
        active.fired++;
        return rule.action;
      }
    }
    return undefined;
  }
}
