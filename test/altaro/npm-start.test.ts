/**
 * Must-show 1 as a user runs it: `npm start`, then
 * `backupctl start altaroBackup --input @examples/altaroBackup.json --wait` in another shell. The
 * result holds the vendor's report, and the simulator has no open session afterwards.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { startNpmStack, type NpmStartStack } from '../helpers/npm-start-stack';

let stack: NpmStartStack;

beforeAll(async () => {
  stack = await startNpmStack({ name: 'altaro-npm-start', waitForCopyWorker: false });
});

afterAll(async () => stack?.stop());

test('npm start, then backupctl start altaroBackup --input @examples/altaroBackup.json --wait: the report, and no open session', async () => {
  const endpoints = await stack.cli(['endpoints', '--json']);
  assert.equal(endpoints.code, 0, endpoints.stderr);
  assert.ok(JSON.parse(endpoints.stdout).some((e: { name: string }) => e.name === 'altaro-sim'));

  const started = await stack.cli(['start', 'altaroBackup', '--input', '@examples/altaroBackup.json', '--wait']);
  assert.equal(started.code, 0, `${started.stderr}\n${stack.output()}`);
  const result = JSON.parse(started.stdout);
  assert.equal(result.outcome, 'success');
  assert.equal(result.report.Result, 'Success');
  assert.ok(result.operationGuid);

  // The API's own "end all sessions" lists what was still open: nothing.
  const res = await fetch(`http://127.0.0.1:${stack.simulatorPort('altaro')}/api/rest/sessions/end`, { method: 'POST' });
  const body = (await res.json()) as { Success: boolean; ClosedSessions: unknown[] };
  assert.equal(body.Success, true);
  assert.deepEqual(body.ClosedSessions, []);
});
