/**
 * Bad input: every workflow input schema (the catalog's and scheduledBackup's) gets random
 * values (fc.anything / fc.jsonValue) and its example input with one field removed, nulled, wrapped,
 * retyped or replaced, plus an unknown field. safeParse never throws; every problem has a message
 * and a path naming the field (the root only for a non-object or an unknown key, which the message
 * names); parseWorkflowInput fails with "invalid input for <type>: <every problem>". See
 * docs/fuzzing.md.
 */
import { test, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { workflowCatalog, workflowIdFor, type WorkflowEntry } from '../../contracts/catalog';
import { scheduledBackupInput } from '../../contracts/schedule/input';
import { ErrorTypes } from '../../lib/errors';
import { formatIssues, parseWorkflowInput } from '../../workflows/shared/validate-input';
import { assertNoUnhandled, count, countOf, installUnhandledGuard, mutate, nastyString, params, pathsOf, report, runsFor, type Mutation } from './kit';

installUnhandledGuard();
const RUNS = runsFor(250);
const root = new URL('../..', import.meta.url).pathname;
afterAll(() => console.log(report('workflow inputs')));

/** examples/<type>.json, the valid input each mutation starts from ({} when missing: its test then fails saying so). */
const example = (type: string): Record<string, unknown> => {
  const path = join(root, 'examples', `${type}.json`);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {};
};

const targets: Array<{ type: string; schema: z.ZodType; valid: Record<string, unknown>; entry?: WorkflowEntry }> = [
  ...Object.entries(workflowCatalog as Record<string, WorkflowEntry>).map(([type, entry]) => ({ type, schema: entry.input, valid: example(type), entry })),
  {
    type: 'scheduledBackup',
    schema: scheduledBackupInput,
    valid: { scheduleId: 'nightly-web', workflowType: 'ovirtSnapshotBackup', input: example('ovirtSnapshotBackup'), retention: { keep: 3 } },
  },
];

test('every workflow that validates its input is fuzzed here', () => {
  const validated = new Set<string>();
  for (const file of readdirSync(join(root, 'workflows')).filter((f) => f.endsWith('.ts'))) {
    // Every workflow opens through openRun (or a vendor's open…Run), which parses its input.
    for (const m of readFileSync(join(root, 'workflows', file), 'utf8').matchAll(/workflowType: '([A-Za-z0-9]+)'|open[A-Za-z]*Run\(\s*'([A-Za-z0-9]+)'/g)) validated.add((m[1] ?? m[2])!);
  }
  assert.ok(validated.size >= targets.length - 1, `found only ${validated.size} workflows`);
  assert.deepEqual(
    [...validated].filter((t) => !targets.some((x) => x.type === t)),
    [],
    'workflows whose input schema is not fuzzed',
  );
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * safeParse must not throw; each issue has a message and names a field of the schema, or is at
 * the root because the input is no object (invalid_type) or has unknown keys (named in the message).
 */
function check(type: string, schema: z.ZodType, input: unknown): z.core.$ZodIssue[] {
  let result: ReturnType<z.ZodType['safeParse']>;
  try {
    result = schema.safeParse(input);
  } catch (err) {
    assert.fail(`${type}: safeParse threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.stack ?? String(err)}`);
  }
  const fields = 'shape' in schema ? Object.keys((schema as unknown as { shape: Record<string, unknown> }).shape) : [];
  const issues = result.success ? [] : result.error.issues;
  for (const issue of issues) {
    const where = `${type}: issue ${JSON.stringify({ code: issue.code, path: issue.path.map(String), message: issue.message })}`;
    assert.ok(typeof issue.message === 'string' && issue.message.trim().length > 0, `${where} has no message`);
    if (issue.path.length === 0) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) assert.ok(issue.message.includes(key) || issue.message.includes(JSON.stringify(key)), `${where} does not name the key ${JSON.stringify(key)}`);
      } else {
        assert.equal(issue.code, 'invalid_type', `${where} is at the root`);
        assert.ok(!isObject(input) || input instanceof Date || typeof input !== 'object', `${where}: an object input got a root type error`);
      }
    } else {
      assert.ok(fields.includes(String(issue.path[0])), `${where} names no field of the input (fields: ${fields.join(', ')})`);
    }
  }

  // parseWorkflowInput: the same verdict, as a non-retryable InvalidInput listing every problem.
  let parsed: unknown;
  let failure: unknown;
  try {
    parsed = parseWorkflowInput(type, schema, input);
  } catch (err) {
    failure = err;
  }
  if (result.success) {
    assert.equal(failure, undefined, `${type}: parseWorkflowInput refused what safeParse accepted`);
    assert.deepEqual(parsed, result.data);
  } else {
    assert.ok(failure instanceof ApplicationFailure, `${type}: parseWorkflowInput threw ${String(failure)}`);
    assert.equal(failure.type, ErrorTypes.invalidInput);
    assert.equal(failure.nonRetryable, true);
    assert.ok(failure.message.startsWith(`invalid input for ${type}: `), failure.message);
    for (const problem of formatIssues(result.error)) assert.ok(failure.message.includes(problem), `${type}: "${problem}" missing from: ${failure.message}`);
  }
  return issues;
}

const randomInput = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.anything({
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withSparseArray: true,
      withTypedArray: true,
      withBoxedValues: true,
      withUnicodeString: true,
    }),
  },
  { weight: 3, arbitrary: fc.jsonValue() },
  { weight: 2, arbitrary: fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), nastyString), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 }) },
);

for (const { type, schema, valid, entry } of targets) {
  test(`${type}: random input never throws and every problem names a field`, async () => {
    const name = `${type} random`;
    assert.ok(Object.keys(valid).length > 0, `examples/${type}.json is missing: the fuzz cases start from it`);
    assert.deepEqual(check(type, schema, valid), [], `${type}: the example input is refused`);
    // Also objects with the schema's own keys, each kept, dropped or given a random value.
    const fieldwise = fc.record(Object.fromEntries(Object.keys(valid).map((k) => [k, fc.oneof(fc.constant(valid[k]), fc.jsonValue({ maxDepth: 1 }), nastyString)])), { requiredKeys: [] });
    fc.assert(
      fc.property(fc.oneof(randomInput, fieldwise), (input) => {
        count(name);
        check(type, schema, input);
        if (isObject(input)) {
          // The catalog's helpers see the same raw objects a client passes.
          entry?.subject(input);
          assert.equal(typeof workflowIdFor(type, input, 'u1'), 'string');
        }
      }),
      params(RUNS),
    );
    assert.ok(countOf(name) >= RUNS);
    await assertNoUnhandled();
  });

  test(`${type}: the example with one field mutated is refused by that field's name, or accepted`, async () => {
    const name = `${type} one-field`;
    const paths = pathsOf(valid);
    assert.ok(paths.length > 0, `examples/${type}.json is missing: the fuzz cases start from it`);
    const mutation: fc.Arbitrary<Mutation | { path: [string]; action: 'add'; value: unknown }> = fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          path: fc.constantFrom(...paths),
          action: fc.constantFrom('remove', 'replace', 'replace', 'null', 'wrap'),
          value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), nastyString),
        }) as fc.Arbitrary<Mutation>,
      },
      {
        weight: 1,
        arbitrary: fc.record({ path: fc.tuple(fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), nastyString)), action: fc.constant('add' as const), value: fc.jsonValue({ maxDepth: 1 }) }),
      },
    );
    fc.assert(
      fc.property(mutation, (m) => {
        count(name);
        const field = String(m.path[0]);
        if (m.action === 'add' && field in valid) return;
        const input = m.action === 'add' ? { ...valid, [field]: m.value } : (mutate(valid, m) as Record<string, unknown>);
        const issues = check(type, schema, input);
        if (!issues.length) return;
        // The problem is reported on the mutated field, or by a cross-field rule with its own path.
        const named = issues.some((i) => String(i.path[0]) === field || (i.code === 'unrecognized_keys' && i.keys.includes(field)));
        assert.ok(
          named || issues.every((i) => i.code === 'custom'),
          `${type}: mutating ${JSON.stringify(m.path)} (${m.action}) gave problems that do not name it: ${JSON.stringify(issues.map((i) => [i.path.map(String).join('.'), i.message]))}`,
        );
      }),
      params(RUNS),
    );
    assert.ok(countOf(name) >= RUNS);
    await assertNoUnhandled();
  });
}
