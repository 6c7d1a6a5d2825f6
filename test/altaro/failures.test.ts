import { altaroTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { AltaroOperationResult, AltaroProgress } from '../../contracts/altaro/results';
import { ALTARO_SIM_PASSWORD, startAltaroHarness, vendorReports, type AltaroHarness } from '../helpers/altaro-harness';

const test = altaroTest();

function rootMessage(err: unknown): string {
  const parts: string[] = [];
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e) {
    parts.push(e.message ?? '');
    e = e.cause as typeof e;
  }
  return parts.join(' | ');
}

test("a vendor-side failure fails the run with the report's own error message", async ({ h }) => {
  await assert.rejects(h.execute('altaroBackup', h.input({ vmRef: h.demo.errorVmRef })), (err: WorkflowFailedError) => {
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.nonRetryable, true);
    assert.match(err.cause.message, /step "report" failed: Altaro take-backup of VM .* ended "Error": Backup location "Backup Drive E:" is not accessible: The device is not ready/);
    return true;
  });
  assert.equal(await h.openSessions(), 0, 'no session left open after a failure');
});

test("an unknown VM ref fails fast, non-retryable, at its first read, with the API's ErrorMessage; no instruction is sent", async ({ h }) => {
  h.simulator.calls.clear();
  const handle = await h.start('altaroBackup', h.input({ vmRef: 'no-such-vm-ref' }));
  await assert.rejects(handle.result(), (err: WorkflowFailedError) => {
    assert.match(rootMessage(err), /The virtual machine with reference "no-such-vm-ref" was not found/);
    assert.match(err.cause!.message, /step "instruct" failed/);
    return true;
  });
  // The report baseline is read before the instruction: the API refuses the unknown VM there.
  assert.equal(h.calls('GET', /\/reports\/backup\//).length, 1, "one read of the VM's reports");
  assert.equal(h.calls('POST', /\/instructions\//).length, 0, 'no instruction sent');
  const history = await handle.fetchHistory();
  const scheduled = history.events!.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);
  assert.deepEqual(scheduled, ['altaroCheckEndpoint', 'altaroReportBaseline', 'sendAlert']);
  const attempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
  assert.ok(
    attempts.every((a) => a === 1),
    `attempts: ${attempts.join(',')}`,
  );
  assert.equal(await h.openSessions(), 0);
});

test('a bad input fails at once listing every problem, with no vendor call', async ({ h }) => {
  h.simulator.calls.clear();
  await assert.rejects(h.execute('altaroOperation', { endpoint: 'altaro-sim', kind: 'make-coffee', pollIntervalMs: 5, token: 'x' }), (err: WorkflowFailedError) => {
    const cause = err.cause as ApplicationFailure;
    assert.equal(cause.type, 'InvalidInput');
    assert.equal(cause.nonRetryable, true);
    assert.match(cause.message, /vmRef/);
    assert.match(cause.message, /kind must be one of/);
    assert.match(cause.message, /pollIntervalMs/);
    assert.match(cause.message, /token/);
    return true;
  });
  assert.equal(h.simulator.calls.all().length, 0);
});

test('an unknown endpoint profile fails non-retryably without a vendor call', async ({ h }) => {
  h.simulator.calls.clear();
  await assert.rejects(h.execute('altaroBackup', h.input({ endpoint: 'nowhere' })), (err: WorkflowFailedError) => {
    assert.match(rootMessage(err), /unknown endpoint profile "nowhere"/);
    return true;
  });
  assert.equal(h.simulator.calls.all().length, 0);
});

test('transient HTTP errors while polling are retried and the run completes', async ({ h }) => {
  const id = h.simulator.faults.add({ method: 'GET', path: '*/activity/operation-status/*', nth: 2, times: 2, action: { kind: 'status', status: 503, message: 'Service Unavailable' } });
  try {
    const result = await h.execute<AltaroOperationResult>('altaroBackup', h.input());
    assert.equal(result.outcome, 'success');
    assert.equal(h.simulator.faults.list().find((f) => f.id === id)?.fired, 2);
  } finally {
    h.simulator.faults.remove(id);
  }
  assert.equal(await h.openSessions(), 0);
});

test('the token expires mid-poll: a new session is opened, the run completes, and the history holds neither token nor password', async ({ h }) => {
  h.state.operationMs['take-backup'] = 3_000;
  try {
    const invalidBefore = h.state.invalidTokenAnswers;
    const handle = await h.start('altaroBackup', h.input({ maxPollIntervalMs: 200 }));
    const deadline = Date.now() + 20_000;
    let expired = 0;
    while (Date.now() < deadline && expired === 0) {
      const p = await handle.query<AltaroProgress>('progress');
      if (p.step === 'track' && p.operation.status === 'Processing') expired = h.state.expireAllSessions();
      else await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(expired >= 1, 'a session was open mid-poll and was expired');
    const result = (await handle.result()) as AltaroOperationResult;
    assert.equal(result.outcome, 'success');
    assert.ok(h.state.invalidTokenAnswers > invalidBefore, 'the API answered "Invalid Token" and the run went on with a new session');

    const history = JSON.stringify(await handle.fetchHistory());
    assert.ok(h.state.issuedTokens.length > 0);
    for (const token of h.state.issuedTokens) assert.ok(!history.includes(token), `token ${token.slice(0, 4)}… found in the history`);
    assert.ok(!history.includes(ALTARO_SIM_PASSWORD), 'password found in the history');
    assert.ok(!history.includes(Buffer.from(ALTARO_SIM_PASSWORD).toString('base64')), 'base64 password found in the history');
  } finally {
    h.state.operationMs['take-backup'] = 1_200;
  }
  assert.equal(await h.openSessions(), 0);
});

test('errors never carry the token: a failure during a call names the path with {token}', async ({ h }) => {
  const id = h.simulator.faults.add({ method: 'GET', path: '*/reports/backup/*', times: 0, action: { kind: 'status', status: 400, message: 'Bad Request' } });
  try {
    const handle = await h.start('altaroBackup', h.input());
    await assert.rejects(handle.result(), (err: WorkflowFailedError) => {
      assert.ok(err.cause instanceof ApplicationFailure);
      assert.ok(err.cause.cause instanceof ActivityFailure);
      assert.match(err.cause.message, /GET \/reports\/backup\/\{token\}\//);
      return true;
    });
    const history = JSON.stringify(await handle.fetchHistory());
    for (const token of h.state.issuedTokens) assert.ok(!history.includes(token), 'token in the history');
  } finally {
    h.simulator.faults.remove(id);
  }
  assert.equal(await h.openSessions(), 0);
});

test('a session refused because too many are open is retried, and the run completes once one is free', async ({ h }) => {
  h.state.maxSessions = 0;
  h.simulator.calls.clear();
  try {
    const handle = await h.start('altaroBackup', h.input());
    const deadline = Date.now() + 10_000;
    while (h.calls('POST', /\/sessions\/start$/).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(h.calls('POST', /\/sessions\/start$/).length >= 2, 'the refused start was tried again');
    h.state.maxSessions = 10;
    const result = (await handle.result()) as AltaroOperationResult;
    assert.equal(result.outcome, 'success');
  } finally {
    h.state.maxSessions = 10;
  }
  assert.equal(await h.openSessions(), 0);
});

test('an instruction whose reply was lost is adopted on retry, not sent twice', async ({ h }) => {
  const id = h.simulator.faults.add({ method: 'POST', path: '*/instructions/take-backup/*', action: { kind: 'drop', afterHandling: true } });
  h.simulator.calls.clear();
  const operationsBefore = h.state.operations.size;
  try {
    const result = await h.execute<AltaroOperationResult>('altaroBackup', h.input());
    assert.equal(result.outcome, 'success');
    const sent = h.calls('POST', /\/instructions\/take-backup\//);
    assert.equal(sent.length, 1, 'the instruction was sent once');
    assert.equal(sent[0]!.status, 'dropped');
    assert.ok(h.state.operations.size <= operationsBefore + 1);
  } finally {
    h.simulator.faults.remove(id);
  }
  assert.equal(await h.openSessions(), 0);
});

test('a slow reply after the instruction (the operation ends first): the run still reads its own report', async ({ h }) => {
  // The first logout is the instruct activity's: held 2 s, longer than the 1.2 s backup, so the
  // operation has written its report before the run goes on. A baseline read after the instruction
  // would take that report for an old one and wait out reportTimeoutSeconds.
  const reportsBefore = (await vendorReports(h, 'backup', h.demo.vmRef)).length;
  const id = h.simulator.faults.add({ method: 'POST', path: '/rest/sessions/end/*', action: { kind: 'delay', ms: 2_000 } });
  let result: AltaroOperationResult;
  try {
    result = await h.execute<AltaroOperationResult>('altaroBackup', h.input({ reportTimeoutSeconds: 5 }));
    assert.equal(result.outcome, 'success');
    assert.equal(h.simulator.faults.list().find((f) => f.id === id)?.fired, 1);
  } finally {
    h.simulator.faults.remove(id);
  }
  const reports = await vendorReports(h, 'backup', h.demo.vmRef);
  assert.equal(reports.length, reportsBefore + 1, 'one new report: the one the run read');
  // Altaro's DateTime (yyyy-MM-dd-HH-mm-ss) sorts as text: the run read the newest report.
  assert.equal(
    result.report.DateTime,
    reports
      .map((r) => String(r.DateTime))
      .sort()
      .at(-1),
  );
  assert.equal(await h.openSessions(), 0);
});

test('a logout refused by a burst of 503 and a 429 is retried with backoff: no session is left open', async ({ h }) => {
  const burst = h.simulator.faults.add({ method: 'POST', path: '/rest/sessions/end/*', times: 3, action: { kind: 'status', status: 503, message: 'Service Unavailable' } });
  // Rules are tried in order: this one sees only the calls the burst let through.
  const busy = h.simulator.faults.add({ method: 'POST', path: '/rest/sessions/end/*', action: { kind: 'status', status: 429, message: 'Too Many Requests', retryAfterSeconds: 1 } });
  try {
    const result = await h.execute<AltaroOperationResult>('altaroBackup', h.input());
    assert.equal(result.outcome, 'success');
    assert.equal(h.simulator.faults.list().find((f) => f.id === burst)?.fired, 3);
    assert.equal(h.simulator.faults.list().find((f) => f.id === busy)?.fired, 1);
    // Counted before openSessions() closes whatever is open.
    assert.equal(h.state.openSessionCount(), 0, 'every session the run opened was ended');
  } finally {
    h.simulator.faults.remove(burst);
    h.simulator.faults.remove(busy);
  }
});
