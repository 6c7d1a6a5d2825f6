// Runs the whole suite with Node's test runner: resolves (or installs) the Temporal CLI once,
// bundles the workflows once, then runs every test file; each file starts its own dev server.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const tsx = ['--import', 'tsx'];
const run = (args, env = {}) => {
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root, env: { ...process.env, ...env } });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

function testFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'helpers' ? [] : testFiles(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const filter = process.argv.slice(2);
const files = testFiles(join(root, 'test'))
  .filter((f) => !filter.length || filter.some((p) => f.includes(p)))
  .sort();

run([...tsx, 'scripts/ensure-temporal.ts']);
// Each harness records what its secret scan saw; the last test file adds them up for this run only.
rmSync(join(root, '.artifacts', 'secret-scan'), { recursive: true, force: true });
const bundlePath = join(root, '.artifacts', 'workflow-bundle.js');
run([...tsx, 'scripts/bundle-workflows.ts', bundlePath]);
run([...tsx, '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { WORKFLOW_BUNDLE_PATH: bundlePath });
