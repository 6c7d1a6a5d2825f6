/**
 * azureFileRecovery end to end: the script and password reach the requester through the worker-side
 * store, never through history; the connection is revoked after "done", on the time limit and on
 * cancellation, and the simulator then shows no active ILR session.
 */
import { azureTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { readFileRecoveryCredentials } from '../../activities/azure/file-recovery-store';
import type { AzureFileRecoveryResult, FileRecoveryHandle } from '../../contracts/azure/results';
import type { Progress } from '../../contracts/progress';
import type { AzureHarness } from '../helpers/azure-harness';
import { eventually } from '../helpers/eventually';
import { runBackupctl } from '../helpers/backupctl';

const test = azureTest();

async function openSession(handle: WorkflowHandle): Promise<FileRecoveryHandle> {
  const session = await eventually(
    () => handle.query<FileRecoveryHandle | null>('fileRecovery'),
    (s) => s !== null,
    20_000,
  );
  assert.ok(session, 'the session opened');
  return session;
}

/** The ILR password the simulator handed out for the VM's recovery point. */
function simPasswords(h: AzureHarness): string[] {
  return [...h.state.protectedItems.values()].flatMap((i) => i.recoveryPoints.flatMap((rp) => (rp.ilr ? [rp.ilr.password, rp.ilr.suffix] : [])));
}

async function assertNotInHistory(h: AzureHarness, handle: WorkflowHandle): Promise<void> {
  const history = JSON.stringify(await handle.fetchHistory());
  const secrets = simPasswords(h);
  assert.ok(secrets.length >= 2, 'the simulator issued a password');
  for (const secret of secrets) {
    assert.ok(!history.includes(secret), 'neither the password nor the suffix holding it is in history');
    assert.ok(!history.includes(Buffer.from(secret).toString('base64')), 'not even base64-encoded (as payloads are)');
  }
}

test('provision → the requester reads script and password → "done" → revoked, credentials wiped, password never in history', async ({ h, arm }) => {
  const handle = await h.start('azureFileRecovery', { endpoint: 'azure-sim', vmName: 'db-01', pollIntervalMs: 100 });
  const session = await openSession(handle);
  assert.deepEqual(
    h.state.activeIlrSessions().map((s) => s.vm),
    ['db-01'],
  );

  const rp = [...h.state.protectedItems.values()].find((i) => i.vm.name === 'db-01')!.recoveryPoints[0]!;
  const creds = await readFileRecoveryCredentials(h.fileRecoveryDir, session.ref);
  assert.equal(creds.password, rp.ilr!.password, 'the requester gets the password the service embedded in the suffix');
  assert.match(creds.script.toString('utf8'), /Azure VM file recovery for db-01/);
  assert.ok(!session.scriptFileName.includes(rp.ilr!.password), 'the script is named by the suffix without the password');
  assert.equal(session.scriptFileName, rp.ilr!.suffix.replace(rp.ilr!.password, '') + '.ps1');
  assert.match((await handle.query<Progress>('progress')).message ?? '', new RegExp(`when finished: backupctl done ${handle.workflowId} \\(or the "done" update or signal\\)`));

  await handle.signal('done');
  const result = (await handle.result()) as AzureFileRecoveryResult;
  assert.equal(result.session.endedBy, 'done signal');
  assert.equal(result.revoked, true);
  assert.deepEqual(h.state.activeIlrSessions(), []);
  const point = (await arm.recoveryPoints('db-01')).find((p) => p.name === rp.name);
  assert.equal(point?.properties.isInstantIlrSessionActive, false, 'the vault shows the session closed');
  assert.equal(existsSync(session.directory), false, 'the stored script and password are deleted on revoke');
  assert.equal(await handle.query('fileRecovery'), null);
  await assertNotInHistory(h, handle);
});

test('the time limit revokes the connection without a signal', async ({ h, arm }) => {
  const handle = await h.start('azureFileRecovery', { endpoint: 'azure-sim', vmName: 'db-01', timeLimitSeconds: 2, pollIntervalMs: 100 });
  const result = (await handle.result()) as AzureFileRecoveryResult;
  assert.equal(result.session.endedBy, 'time limit');
  assert.deepEqual(h.state.activeIlrSessions(), []);
  assert.equal(existsSync(result.session.directory), false);
  await assertNotInHistory(h, handle);
});

test('cancelling an open session still revokes it', async ({ h, arm }) => {
  const handle = await h.start('azureFileRecovery', { endpoint: 'azure-sim', vmName: 'db-01', timeLimitSeconds: 600, pollIntervalMs: 100 });
  const session = await openSession(handle);
  assert.equal(h.state.activeIlrSessions().length, 1);
  await handle.cancel();
  await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);
  const progress = await handle.query<Progress>('progress');
  assert.equal(progress.state, 'cancelled');
  assert.ok(
    progress.undone.some((u) => u.startsWith('revoke file recovery of VM db-01')),
    progress.undone.join(', '),
  );
  assert.deepEqual(h.state.activeIlrSessions(), []);
  assert.ok((await arm.recoveryPoints('db-01')).every((p) => !p.properties.isInstantIlrSessionActive));
  assert.equal(existsSync(session.directory), false);
  assert.ok(h.simulator.calls.matching('POST', /\/revokeInstantItemRecovery$/).length >= 1);
  await assertNotInHistory(h, handle);
});

test('cancelling while the provision is still running revokes what it provisioned', async ({ h, arm }) => {
  h.state.options.asyncMs = 2500;
  try {
    h.simulator.calls.clear();
    const handle = await h.start('azureFileRecovery', { endpoint: 'azure-sim', vmName: 'db-01', timeLimitSeconds: 600, pollIntervalMs: 100 });
    await eventually(
      async () => h.simulator.calls.matching('POST', /\/provisionInstantItemRecovery$/).length,
      (n) => n > 0,
      20_000,
    );
    assert.equal(h.simulator.calls.matching('POST', /\/provisionInstantItemRecovery$/).length, 1);
    await handle.cancel();
    await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);
    // The provision finishes on the service's clock; the revoke issued after it closes the session.
    assert.ok(h.simulator.calls.matching('POST', /\/revokeInstantItemRecovery$/).length >= 1, 'a revoke was sent');
    const progress = await handle.query<Progress>('progress');
    assert.ok(
      progress.undone.some((u) => u.startsWith('revoke file recovery')),
      progress.undone.join(', '),
    );
    await eventually(
      async () => h.state.activeIlrSessions(),
      (s) => s.length === 0,
      10_000,
    );
    assert.deepEqual(h.state.activeIlrSessions(), []);
  } finally {
    h.state.options.asyncMs = 300;
  }
});

test('backupctl: start says the run waits for you and how to answer; `backupctl done` ends the session and it is revoked', async ({ h }) => {
  const env = { TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: h.taskQueue };
  const started = await runBackupctl(env, 'start', 'azureFileRecovery', '--input', JSON.stringify({ endpoint: 'azure-sim', vmName: 'db-01', timeLimitSeconds: 600, pollIntervalMs: 100 }));
  assert.equal(started.code, 0, started.stderr);
  const workflowId = started.stdout.trim();
  assert.match(started.stderr, new RegExp(`it waits for you: when finished, backupctl done ${workflowId} \\(end the open file recovery session now`));
  await openSession(h.client.workflow.getHandle(workflowId));
  const done = await runBackupctl(env, 'done', workflowId);
  assert.equal(done.code, 0, done.stderr);
  assert.equal(done.stdout.trim(), `${workflowId}: the session ends; the connection is revoked and the stored script and password deleted`);
  const result = await runBackupctl(env, 'result', workflowId);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).revoked, true);
  assert.deepEqual(h.state.activeIlrSessions(), []);
});
