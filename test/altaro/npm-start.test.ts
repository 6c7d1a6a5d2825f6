/**
 * Must-show 1 as a user runs it: `npm start`, then
 * `backupctl start altaroBackup --input @examples/altaroBackup.json --wait` in another shell. The
 * result holds the vendor's report, and the simulator has no open session afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simulatorDemos } from '../../simulators/serve';
import { freePort } from '../helpers/ports';

const root = fileURLToPath(new URL('../..', import.meta.url));
let stack: ChildProcess;
let dataDir: string;
let temporalPort: number;
let altaroPort: number;
let output = '';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'altaro-npm-start-'));
  temporalPort = await freePort();
  const ports: Record<string, string> = {};
  for (const demo of simulatorDemos) ports[demo.portEnv] = String(await freePort());
  altaroPort = Number(ports.ALTARO_SIM_PORT);
  assert.ok(altaroPort, 'the Altaro demo is one of npm start\'s simulators');
  stack = spawn('npm', ['start'], {
    cwd: root,
    detached: true,
    env: { ...process.env, BACKUP_DATA_DIR: dataDir, TEMPORAL_PORT: String(temporalPort), TEMPORAL_UI_PORT: String(await freePort()), CODEC_SERVER_PORT: String(await freePort()), ...ports },
  });
  stack.stdout!.on('data', (d) => (output += d));
  stack.stderr!.on('data', (d) => (output += d));
  const deadline = Date.now() + 90_000;
  while (!/main worker polling/.test(output)) {
    if (Date.now() > deadline || stack.exitCode !== null) assert.fail(`the stack did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
});

after(async () => {
  if (stack && stack.exitCode === null) {
    process.kill(-stack.pid!, 'SIGINT');
    await new Promise((r) => stack.once('exit', r));
  }
  await rm(dataDir, { recursive: true, force: true });
});

test('npm start, then backupctl start altaroBackup --input @examples/altaroBackup.json --wait: the report, and no open session', async () => {
  // BACKUP_DATA_DIR: the CLI finds the stack's payload key there, as it does in a plain checkout.
  const env = { TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`, BACKUP_ENDPOINTS_FILE: join(dataDir, 'endpoints.simulators.json'), BACKUP_DATA_DIR: dataDir };
  const endpoints = await run('npx', ['backupctl', 'endpoints', '--json'], env);
  assert.equal(endpoints.code, 0, endpoints.stderr);
  assert.ok(JSON.parse(endpoints.stdout).some((e: { name: string }) => e.name === 'altaro-sim'));

  const started = await run('npx', ['backupctl', 'start', 'altaroBackup', '--input', '@examples/altaroBackup.json', '--wait'], env);
  assert.equal(started.code, 0, `${started.stderr}\n${output}`);
  const result = JSON.parse(started.stdout);
  assert.equal(result.outcome, 'success');
  assert.equal(result.report.Result, 'Success');
  assert.ok(result.operationGuid);

  // The API's own "end all sessions" lists what was still open: nothing.
  const res = await fetch(`http://127.0.0.1:${altaroPort}/api/rest/sessions/end`, { method: 'POST' });
  const body = (await res.json()) as { Success: boolean; ClosedSessions: unknown[] };
  assert.equal(body.Success, true);
  assert.deepEqual(body.ClosedSessions, []);
});
