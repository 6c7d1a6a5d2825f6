/** The Altaro simulator on its own, through its REST API, on a clock the test moves. */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { createAltaroSimulator, ALTARO_DEMO } from '../../simulators/altaro';
import { SimClock } from '../../simulators/framework/clock';

const clock = new SimClock({ startAt: Date.UTC(2026, 0, 1, 12, 0, 0), speedup: 0 });
const { simulator, state } = createAltaroSimulator({
  password: 'pw',
  clock,
  maxSessions: 2,
  sessionIdleMs: 60_000,
  operationMs: { 'take-backup': 10_000 },
  lingerMs: 3_000,
});
beforeAll(async () => {
  await simulator.start(0);
});
afterAll(async () => simulator.stop());

async function call(method: string, path: string, body?: unknown, base = '/api/rest') {
  const res = await fetch(`${simulator.url}${base}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.match(res.headers.get('content-type') ?? '', /json/);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}
const login = async (base?: string) =>
  (await call('POST', '/sessions/start', { ServerAddress: 'LOCALHOST', ServerPort: 35107, Username: ALTARO_DEMO.username, Password: 'pw', Domain: '' }, base)).body;

test('sessions: envelope, wrong password, cap on open sessions, idle expiry answers "Invalid Token", end all', async () => {
  const bad = await call('POST', '/sessions/start', { Username: ALTARO_DEMO.username, Password: 'nope' });
  assert.equal(bad.status, 200);
  assert.equal(bad.body.Success, false);
  assert.ok('ErrorCode' in bad.body && 'ErrorAdditionalDetails' in bad.body);
  const a = await login();
  const b = await login('/api');
  assert.equal(a.Success, true);
  assert.equal(typeof b.Data, 'string');
  const third = await login();
  assert.equal(third.Success, false);
  assert.match(third.ErrorMessage, /Too many open sessions/);
  clock.advance(61_000);
  const expired = await call('GET', `/vms/list/${a.Data}`);
  assert.equal(expired.body.Success, false);
  assert.match(expired.body.ErrorMessage, /Invalid Token/);
  const c = await login();
  const all = await call('POST', '/sessions/end');
  assert.deepEqual(all.body.ClosedSessions, [{ SessionToken: c.Data }]);
});

test('an operation progresses, lingers briefly once done, drops out, and leaves a report; abort and unknown VMs', async () => {
  const token = (await login()).Data as string;
  const vms = await call('GET', `/vms/list/${token}/1`, undefined, '/api');
  assert.equal(vms.body.VirtualMachines.length, 3);
  const unknown = await call('POST', `/instructions/take-backup/${token}/nope`);
  assert.equal(unknown.body.Success, false);
  assert.match(unknown.body.ErrorMessage, /was not found/);

  const guid = (await call('POST', `/instructions/take-backup/${token}/${ALTARO_DEMO.vmRef}`)).body.Data as string;
  const busy = await call('POST', `/instructions/take-backup/${token}/${ALTARO_DEMO.vmRef}`);
  assert.match(busy.body.ErrorMessage, /already in progress/);
  clock.advance(5_000);
  let st = (await call('GET', `/activity/operation-status/${token}/${guid}`)).body.Statuses;
  assert.equal(st[0].Status, 'Processing');
  assert.equal(st[0].Percentage, 50);
  assert.ok(st[0].SubOperation);
  assert.equal((await call('GET', `/activity/operation-status/${token}`)).body.Statuses.length, 1);
  clock.advance(6_000);
  st = (await call('GET', `/activity/operation-status/${token}/${guid}`)).body.Statuses;
  assert.equal(st[0].Status, 'Completed');
  clock.advance(3_000);
  assert.deepEqual((await call('GET', `/activity/operation-status/${token}/${guid}`)).body.Statuses, []);
  const reports = (await call('GET', `/reports/backup/${token}/${ALTARO_DEMO.vmRef}`)).body.BackupReports;
  assert.equal(reports.length, 1);
  assert.equal(reports[0].Result, 'Success');
  assert.equal(reports[0].Duration, 10);
  assert.match(reports[0].DateTime, /^\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$/);

  const g2 = (await call('POST', `/instructions/restore/${token}/${ALTARO_DEMO.vmRef}`, { RestoreAsName: 'copy' })).body.Data as string;
  clock.advance(1_000);
  assert.equal((await call('POST', `/instructions/abort-operation/${token}/${g2}`)).body.Success, true);
  assert.equal((await call('POST', `/instructions/abort-operation/${token}/${g2}`)).body.Success, false, 'a second abort is refused');
  clock.advance(5_000);
  const restore = (await call('GET', `/reports/restore/${token}/${ALTARO_DEMO.vmRef}`)).body.RestoreReports;
  assert.equal(restore[0].Result, 'Aborted');
  assert.equal(restore[0].RestoreAsName, 'copy');
  assert.equal((await call('POST', `/sessions/end/${token}`)).body.Success, true);
  assert.equal(state.openSessionCount(), 0);
});
