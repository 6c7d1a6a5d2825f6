/**
 * The copy worker asks for huge pages for its copy buffers (activities/copy/huge-pages.ts): its
 * launchers add glibc's huge-page tunable, and its start-up line says whether the buffers got them,
 * measured in the process itself.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { HUGE_PAGE_TUNABLE, hugePageTunables } from '../../activities/copy/huge-pages';

const root = fileURLToPath(new URL('../../', import.meta.url));

function thpMode(): string | undefined {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** What checkHugePageBuffers says in a fresh process started with `tunables` (undefined: none). */
function checkIn(tunables: string | undefined): { onHugePages: boolean; notice: string } {
  const env = { ...process.env };
  delete env.GLIBC_TUNABLES;
  if (tunables !== undefined) env.GLIBC_TUNABLES = tunables;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', "import('./activities/copy/huge-pages.ts').then((m) => console.log(JSON.stringify(m.checkHugePageBuffers())))"], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!) as { onHugePages: boolean; notice: string };
}

test('the tunable is added to what the environment has, once', () => {
  assert.equal(hugePageTunables({}), HUGE_PAGE_TUNABLE);
  assert.equal(hugePageTunables({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }), `glibc.malloc.arena_max=2:${HUGE_PAGE_TUNABLE}`);
  assert.equal(hugePageTunables({ GLIBC_TUNABLES: `glibc.malloc.arena_max=2:${HUGE_PAGE_TUNABLE}` }), `glibc.malloc.arena_max=2:${HUGE_PAGE_TUNABLE}`);
});

test('with the tunable the copy buffers land on huge pages where the kernel gives them; without, only when the kernel always does', () => {
  const mode = thpMode();
  const without = checkIn(undefined);
  const withTunable = checkIn(HUGE_PAGE_TUNABLE);
  if (mode === undefined) {
    assert.equal(withTunable.onHugePages, false);
    assert.match(withTunable.notice, /does not report transparent huge pages/);
    return;
  }
  assert.equal(without.onHugePages, mode === 'always', without.notice);
  assert.equal(withTunable.onHugePages, mode !== 'never', withTunable.notice);
  if (mode === 'madvise') assert.match(without.notice, /start the copy worker with GLIBC_TUNABLES=glibc\.malloc\.hugetlb=1/);
  if (mode === 'never') assert.match(without.notice, /transparent huge pages are off/);
});

test('every launcher of the copy worker asks for huge pages', () => {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts['copy-worker']!, /^GLIBC_TUNABLES=\S*glibc\.malloc\.hugetlb=1 /);
  assert.match(pkg.scripts.bench!, /^GLIBC_TUNABLES=\S*glibc\.malloc\.hugetlb=1 /, 'the bench measures the copy as the copy worker runs it');
  const compose = parse(readFileSync(`${root}docker-compose.yml`, 'utf8')) as { services: Record<string, { command?: string[]; environment?: Record<string, string> }> };
  const copyWorkers = Object.entries(compose.services).filter(([, s]) => s.command?.includes('workers/copy-worker.ts'));
  assert.ok(copyWorkers.length >= 2, 'the production and the demo copy worker');
  for (const [name, service] of copyWorkers) assert.equal(service.environment?.GLIBC_TUNABLES, HUGE_PAGE_TUNABLE, name);
  assert.match(readFileSync(`${root}scripts/start-stack.ts`, 'utf8'), /GLIBC_TUNABLES: hugePageTunables\(env\)/);
});
