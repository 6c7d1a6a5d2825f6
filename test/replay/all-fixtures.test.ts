/**
 * Every recorded history in the repository (test/**\/histories/*.json, all versions of them) replays
 * against today's workflow code, and every workflow type the worker registers has at least one.
 * The per-vendor replay tests record them (RECORD_HISTORIES=1, test/helpers/replay.ts), never over
 * an older recording.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertReplays, newFixturePath, recordedHistories } from '../helpers/replay';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function historyDirs(dir = join(root, 'test')): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => historyDirs(join(dir, e.name))));
  return [...(entries.some((e) => e.isDirectory() && e.name === 'histories') ? [join(dir, 'histories')] : []), ...nested.flat().filter((d) => d !== join(dir, 'histories'))];
}

/** The workflow types workflows/index.ts registers. */
async function registeredTypes(): Promise<string[]> {
  const index = await readFile(join(root, 'workflows/index.ts'), 'utf8');
  return [...index.matchAll(/^export const (\w+) = lazy\(/gm)].map((m) => m[1]!);
}

test('every recorded history replays, and every registered workflow type has one', async () => {
  const dirs = await historyDirs();
  const byType = new Map<string, string[]>();
  const histories = [];
  for (const dir of dirs) {
    for (const h of await recordedHistories(dir)) {
      const type = h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?';
      byType.set(type, [...(byType.get(type) ?? []), relative(root, h.file!)]);
      histories.push({ ...h, file: relative(root, h.file!) });
    }
  }
  const types = await registeredTypes();
  assert.ok(types.length >= 20, `workflows/index.ts registers ${types.length} types: the scan is broken`);
  const missing = types.filter((t) => !byType.has(t));
  assert.deepEqual(missing, [], `workflow types with no recorded history (record one: RECORD_HISTORIES=1 with the replay test of its vendor): ${missing.join(', ')}`);
  const replayed = await assertReplays(histories);
  console.log(`replayed ${replayed} recorded histories of ${byType.size} workflow types from ${dirs.length} folders`);
});

test('a recording never overwrites a fixture: the second goes beside it under the build id, a third of the same build is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fixtures-'));
  try {
    assert.equal(newFixturePath(dir, 'pruneBackups-completed', '0.1.0-abc'), join(dir, 'pruneBackups-completed.json'));
    await writeFile(join(dir, 'pruneBackups-completed.json'), '{}');
    const second = newFixturePath(dir, 'pruneBackups-completed', '0.1.0-abc');
    assert.equal(second, join(dir, 'pruneBackups-completed--0.1.0-abc.json'));
    await writeFile(second, '{}');
    assert.throws(() => newFixturePath(dir, 'pruneBackups-completed', '0.1.0-abc'), /refusing to overwrite the recorded history .*pruneBackups-completed--0\.1\.0-abc\.json/);
    assert.equal(newFixturePath(dir, 'pruneBackups-completed', '0.2.0-def'), join(dir, 'pruneBackups-completed--0.2.0-def.json'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
