import { test } from 'vitest';
import assert from 'node:assert/strict';
import { FaultInjector } from '../../simulators/framework/faults';
import { compilePattern } from '../../simulators/framework/router';

const status = { kind: 'status', status: 503 } as const;

test('route patterns match one segment per parameter', () => {
  const { regex } = compilePattern('/vms/:id/snapshots');
  assert.ok(regex.test('/vms/abc/snapshots'));
  assert.ok(!regex.test('/vms/abc/snapshots/def'));
  assert.ok(compilePattern('/vms/*').regex.test('/vms/a/b/c'));
});

test('nth and times pick which matching calls fail', () => {
  const faults = new FaultInjector();
  faults.add({ method: 'POST', path: '/vms/:id/snapshots', nth: 2, times: 2, action: status });
  const fired = [1, 2, 3, 4, 5].map(() => faults.take('POST', '/vms/1/snapshots') !== undefined);
  assert.deepEqual(fired, [false, true, true, false, false]);
  assert.equal(faults.take('GET', '/vms/1/snapshots'), undefined, 'other methods are untouched');
});

test('times 0 fires on every matching call; query narrows the match', () => {
  const faults = new FaultInjector();
  faults.add({ path: '/vms/:id/snapshots/:sid', query: 'all_content=true', times: 0, action: status });
  assert.equal(faults.take('GET', '/vms/1/snapshots/2', ''), undefined);
  assert.ok(faults.take('GET', '/vms/1/snapshots/2', '?all_content=true'));
  assert.ok(faults.take('GET', '/vms/1/snapshots/2', '?all_content=true'));
});

test('a rate fires about that often, the same way for the same seed', () => {
  const run = () => {
    const faults = new FaultInjector();
    faults.add({ path: '/x', rate: 0.3, seed: 7, action: status });
    return Array.from({ length: 1000 }, () => faults.take('GET', '/x') !== undefined);
  };
  const a = run();
  const count = a.filter(Boolean).length;
  assert.ok(count > 230 && count < 370, `fired ${count} of 1000`);
  assert.deepEqual(run(), a);
});

test('a rule that makes no sense is refused with the field named', () => {
  const faults = new FaultInjector();
  assert.throws(() => faults.add({ path: '/x', action: { kind: 'status', status: 200 } as never }), /status/);
});
