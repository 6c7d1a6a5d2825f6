/** Retention over incremental chains: a point goes only when no kept point builds on it; the chain head stays. */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { decideRetention, neededByReason, SAFETY_REASONS, type RetentionCandidate } from '../../contracts/retention/keep-rules';

const point = (id: string, day: number, parent?: string, extra: Partial<RetentionCandidate> = {}): RetentionCandidate => ({
  id,
  time: `2026-12-${String(day).padStart(2, '0')}T02:00:00Z`,
  vmId: 'vm',
  good: true,
  verified: false,
  runOpen: false,
  ...(parent !== undefined ? { parent } : {}),
  ...extra,
});

test('one chain of five with keepLast 2: nothing goes, every ancestor of a kept point stays with the reason', () => {
  const chain = [point('p1', 1), point('p2', 2, 'p1'), point('p3', 3, 'p2'), point('p4', 4, 'p3'), point('p5', 5, 'p4', { chainHead: true })];
  const { kept, removed } = decideRetention(chain, { keepLast: 2 });
  assert.deepEqual(removed, []);
  assert.deepEqual(
    kept.map((k) => [k.id, k.reasons]),
    [
      ['p5', ['last backup', SAFETY_REASONS.newestGood, SAFETY_REASONS.chainHead]],
      ['p4', ['last backup', neededByReason('p5')]],
      ['p3', [neededByReason('p4')]],
      ['p2', [neededByReason('p3')]],
      ['p1', [neededByReason('p2')]],
    ],
  );
});

test('a later full starts a new chain: the old chain goes when nothing kept builds on it; a kept old point keeps its own ancestors only', () => {
  const points = [point('a1', 1), point('a2', 2, 'a1'), point('a3', 3, 'a2'), point('b1', 4), point('b2', 5, 'b1', { chainHead: true })];
  assert.deepEqual(
    decideRetention(points, { keepLast: 2 }).removed.map((r) => r.id),
    ['a3', 'a2', 'a1'],
  );
  // A verified a2 stays (newest verified), and a1 with it; a3 goes.
  const verified = points.map((p) => (p.id === 'a2' ? { ...p, verified: true } : p));
  const decision = decideRetention(verified, { keepLast: 1 });
  assert.deepEqual(
    decision.removed.map((r) => r.id),
    ['a3'],
  );
  assert.deepEqual(decision.kept.find((k) => k.id === 'a1')?.reasons, [neededByReason('a2')]);
});

test('the chain head stays even when the rules keep only newer snapshot-procedure backups', () => {
  const points = [point('c1', 1), point('c2', 2, 'c1', { chainHead: true }), point('s1', 3), point('s2', 4)];
  const { kept, removed } = decideRetention(points, { keepLast: 1 });
  assert.deepEqual(
    kept.map((k) => k.id),
    ['s2', 'c2', 'c1'],
  );
  assert.deepEqual(
    removed.map((r) => r.id),
    ['s1'],
  );
});
