/** The schedule policies the README shows are ones `backupctl schedule apply` accepts. */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parsePolicy } from '../../client/schedules/policy';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const policies = [...readme.matchAll(/```yaml\n(schedules:[\s\S]*?)```/g)].map((m) => m[1]!);

test('the README shows schedule policies', () => {
  assert.ok(policies.length >= 2, `found ${policies.length}`);
});

for (const [i, text] of policies.entries()) {
  test(`README policy ${i + 1} parses (${/workflow: (\w+)/.exec(text)?.[1]})`, () => {
    const entries = parsePolicy(text, `README policy ${i + 1}`);
    assert.ok(entries.length >= 1);
  });
}
