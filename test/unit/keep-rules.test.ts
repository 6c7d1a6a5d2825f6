/** The keep rules as restic's forget applies them, and the safety rules on top (contracts/retention/keep-rules.ts). */
import { describe, expect, test } from 'vitest';
import { decideRetention, describeKeepRules, SAFETY_REASONS, type RetentionCandidate } from '../../contracts/retention/keep-rules';

const backup = (time: string, more: Partial<RetentionCandidate> = {}): RetentionCandidate => ({ id: time, time, vmId: 'vm-1', good: true, verified: false, runOpen: false, ...more });
const ids = (list: Array<{ id: string }>) => list.map((b) => b.id);

describe('keep rules', () => {
  test('keepDaily keeps the newest backup of each of the N most recent days that have one', () => {
    const list = ['2026-03-01T08:00:00Z', '2026-03-01T20:00:00Z', '2026-03-03T09:00:00Z', '2026-03-03T10:00:00Z', '2026-03-07T01:00:00Z'].map((t) => backup(t));
    const { kept, removed } = decideRetention(list, { keepDaily: 2 });
    // 03-07 and 03-03 (its newest, 10:00); the gap days without a backup do not count.
    expect(ids(kept)).toEqual(['2026-03-07T01:00:00Z', '2026-03-03T10:00:00Z']);
    expect(kept.map((k) => k.reasons)).toEqual([['daily backup', SAFETY_REASONS.newestGood], ['daily backup']]);
    expect(ids(removed)).toEqual(['2026-03-03T09:00:00Z', '2026-03-01T20:00:00Z', '2026-03-01T08:00:00Z']);
  });

  test('a rule with count left after the oldest backup keeps that oldest one too, as restic does', () => {
    const list = ['2026-03-01T08:00:00Z', '2026-03-01T20:00:00Z', '2026-03-02T09:00:00Z'].map((t) => backup(t));
    const { kept, removed } = decideRetention(list, { keepDaily: 5 });
    expect(kept.map((k) => [k.id, k.reasons[0]])).toEqual([
      ['2026-03-02T09:00:00Z', 'daily backup'],
      ['2026-03-01T20:00:00Z', 'daily backup'],
      ['2026-03-01T08:00:00Z', 'oldest daily backup'],
    ]);
    expect(removed).toEqual([]);
  });

  test('keepLast keeps the N newest; a backup kept by several rules lists each', () => {
    const list = ['2026-01-05T10:00:00Z', '2026-01-05T11:00:00Z', '2026-01-05T12:00:00Z'].map((t) => backup(t));
    const { kept, removed } = decideRetention(list, { keepLast: 2, keepDaily: 1 });
    expect(kept.map((k) => [k.id, k.reasons])).toEqual([
      ['2026-01-05T12:00:00Z', ['last backup', 'daily backup', SAFETY_REASONS.newestGood]],
      ['2026-01-05T11:00:00Z', ['last backup']],
    ]);
    expect(ids(removed)).toEqual(['2026-01-05T10:00:00Z']);
  });

  test('weeks are ISO weeks: Sunday 2026-01-04 is in week 2026-01, Monday 2026-01-05 starts week 2; 2024-12-30 is in week 2025-01', () => {
    const list = ['2026-01-04T12:00:00Z', '2026-01-05T12:00:00Z', '2024-12-30T12:00:00Z', '2025-01-02T12:00:00Z'].map((t) => backup(t));
    const { kept, removed } = decideRetention(list, { keepWeekly: 10 });
    expect(ids(kept)).toEqual(['2026-01-05T12:00:00Z', '2026-01-04T12:00:00Z', '2025-01-02T12:00:00Z', '2024-12-30T12:00:00Z']);
    expect(kept.at(-1)!.reasons).toEqual(['oldest weekly backup']);
    expect(removed).toEqual([]);
  });

  test('buckets follow the wall clock of the time zone given', () => {
    // 23:30 UTC on 03-01 is 00:30 on 03-02 in Berlin: one day in Berlin with the 03-02 morning backup.
    const list = ['2026-03-01T23:30:00Z', '2026-03-02T08:00:00Z', '2026-02-28T12:00:00Z'].map((t) => backup(t));
    expect(ids(decideRetention(list, { keepDaily: 2 }).kept)).toEqual(['2026-03-02T08:00:00Z', '2026-03-01T23:30:00Z']);
    expect(ids(decideRetention(list, { keepDaily: 2 }, { timeZone: 'Europe/Berlin' }).kept)).toEqual(['2026-03-02T08:00:00Z', '2026-02-28T12:00:00Z']);
  });

  test('each VM is decided on its own', () => {
    const list = [backup('2026-03-01T08:00:00Z', { id: 'a1', vmId: 'a' }), backup('2026-03-02T08:00:00Z', { id: 'b1', vmId: 'b' }), backup('2026-03-03T08:00:00Z', { id: 'a2', vmId: 'a' })];
    const { kept, removed } = decideRetention(list, { keepLast: 1 });
    expect(ids(kept)).toEqual(['a2', 'b1']);
    expect(ids(removed)).toEqual(['a1']);
  });

  test('without any rule above 0 nothing is removed; bad counts and times are refused', () => {
    const list = ['2026-03-01T08:00:00Z', '2026-03-02T08:00:00Z'].map((t) => backup(t));
    expect(decideRetention(list, { keepDaily: 0 }).removed).toEqual([]);
    expect(() => decideRetention(list, { keepDaily: -1 })).toThrow('keepDaily must be a whole number ≥ 0, not -1');
    expect(() => decideRetention(list, { keepLast: 1.5 })).toThrow('keepLast must be a whole number ≥ 0');
    expect(() => decideRetention([backup('yesterday')], { keepLast: 1 })).toThrow('backup yesterday: time "yesterday" is not an ISO 8601 time');
  });

  test('describeKeepRules says the rules in a line', () => {
    expect(describeKeepRules({ keepLast: 3, keepDaily: 7, keepMonthly: 0, keepYearly: 2 })).toBe('keep 3 last, 7 daily, 2 yearly');
    expect(describeKeepRules({})).toBe('no keep rules');
  });
});

describe('safety rules', () => {
  test('the newest good backup is kept even when the rules would remove it', () => {
    // The two newest are incomplete (e.g. a restic snapshot without all its files is never listed, but a caller may pass one).
    const list = [backup('2026-03-05T08:00:00Z', { good: false }), backup('2026-03-04T08:00:00Z'), backup('2026-03-03T08:00:00Z')];
    const { kept, removed } = decideRetention(list, { keepLast: 1 });
    expect(kept.map((k) => [k.id, k.reasons])).toEqual([
      ['2026-03-05T08:00:00Z', ['last backup']],
      ['2026-03-04T08:00:00Z', [SAFETY_REASONS.newestGood]],
    ]);
    expect(ids(removed)).toEqual(['2026-03-03T08:00:00Z']);
  });

  test('the newest verified backup is kept; older verified ones are not', () => {
    const list = [backup('2026-03-05T08:00:00Z'), backup('2026-03-04T08:00:00Z'), backup('2026-03-03T08:00:00Z', { verified: true }), backup('2026-03-02T08:00:00Z', { verified: true })];
    const { kept, removed } = decideRetention(list, { keepLast: 1 });
    expect(kept.map((k) => [k.id, k.reasons])).toEqual([
      ['2026-03-05T08:00:00Z', ['last backup', SAFETY_REASONS.newestGood]],
      ['2026-03-03T08:00:00Z', [SAFETY_REASONS.newestVerified]],
    ]);
    expect(ids(removed)).toEqual(['2026-03-04T08:00:00Z', '2026-03-02T08:00:00Z']);
  });

  test('a backup whose run is still open is kept', () => {
    const list = [backup('2026-03-05T08:00:00Z'), backup('2026-03-04T08:00:00Z', { runOpen: true }), backup('2026-03-03T08:00:00Z')];
    const { kept, removed } = decideRetention(list, { keepLast: 1 });
    expect(kept.map((k) => [k.id, k.reasons])).toEqual([
      ['2026-03-05T08:00:00Z', ['last backup', SAFETY_REASONS.newestGood]],
      ['2026-03-04T08:00:00Z', [SAFETY_REASONS.runOpen]],
    ]);
    expect(ids(removed)).toEqual(['2026-03-03T08:00:00Z']);
  });

  test('the safety rules hold for each VM', () => {
    const list = [
      backup('2026-03-05T08:00:00Z', { id: 'a-new', vmId: 'a' }),
      backup('2026-03-01T08:00:00Z', { id: 'a-verified', vmId: 'a', verified: true }),
      backup('2026-03-04T08:00:00Z', { id: 'b-new', vmId: 'b' }),
      backup('2026-03-02T08:00:00Z', { id: 'b-verified', vmId: 'b', verified: true }),
      backup('2026-03-01T09:00:00Z', { id: 'b-old', vmId: 'b' }),
    ];
    const { kept, removed } = decideRetention(list, { keepYearly: 1 });
    expect(ids(kept)).toEqual(['a-new', 'a-verified', 'b-new', 'b-verified']);
    expect(ids(removed)).toEqual(['b-old']);
  });
});
