/**
 * The patch ledger (docs/patches.md) lists exactly the patch ids the workflows use: an id added with
 * `patched()` / `deprecatePatch()` needs its row (what it guards, since when, when it can go), and
 * a row whose id left the code goes with it.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(root, path)).isDirectory() ? files(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** Every patch id in workflows/, with the files that use it. */
function patchIdsInCode(): Map<string, string[]> {
  const ids = new Map<string, string[]>();
  for (const file of files('workflows')) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(/\b(?:patched|deprecatePatch)\(\s*(['"`])([^'"`]+)\1\s*\)/g)) ids.set(m[2]!, [...(ids.get(m[2]!) ?? []), file]);
    // A patch id must be a literal: a computed one could not be checked here (nor grepped for).
    assert.doesNotMatch(text.replace(/\b(?:patched|deprecatePatch)\(\s*(['"`])[^'"`]+\1\s*\)/g, ''), /\b(?:patched|deprecatePatch)\(/, `${file}: a patch id that is not a string literal`);
  }
  return ids;
}

/** The ids of the ledger's table rows (`| \`id\` | …`), each with its columns. */
function ledgerRows(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of readFileSync(join(root, 'docs/patches.md'), 'utf8').split('\n')) {
    const m = /^\|\s*`([^`]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (!m) continue;
    const [, id, rest] = m as unknown as [string, string, string];
    assert.ok(!rows.has(id), `docs/patches.md lists ${id} twice`);
    rows.set(
      id,
      rest.split('|').map((c) => c.trim()),
    );
  }
  return rows;
}

test('every patch id in workflows/ is in docs/patches.md, and every id there is still in the code', () => {
  const code = patchIdsInCode();
  const ledger = ledgerRows();
  assert.ok(code.size > 0, 'no patch ids found: the scan is broken');
  const missing = [...code.keys()].filter((id) => !ledger.has(id));
  const stale = [...ledger.keys()].filter((id) => !code.has(id));
  assert.deepEqual(missing, [], `patch ids without a row in docs/patches.md: ${missing.map((id) => `${id} (${code.get(id)!.join(', ')})`).join('; ')}`);
  assert.deepEqual(stale, [], `docs/patches.md lists ids no longer in workflows/: ${stale.join(', ')}`);
});

test('each row says which workflows, what it guards, since when and when it can go', () => {
  for (const [id, columns] of ledgerRows()) {
    assert.equal(columns.length, 4, `${id}: expected | workflow types | guards | since | deprecate when |`);
    for (const c of columns) assert.ok(c.length > 0, `${id}: an empty column`);
    assert.match(columns[2] ?? '', /^[0-9a-f]{7,}, \d{4}-\d{2}-\d{2}$/, `${id}: "since" is "<commit>, <date>"`);
  }
});
