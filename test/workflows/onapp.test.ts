/**
 * onappBackup with stubbed activities on the time-skipping server: an unfinished backup is deleted
 * when the take or the build fails or the run is cancelled, and kept once built; a delete that
 * keeps failing leaves the run waiting for an operator, who can give up on it. onappRestore: a
 * refusal before the restore is one line; a restore once started cannot be undone, so a cancel
 * waits for it to end (or asks an operator) and says so.
 */
import { expect, test } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { VendorJob, onappStubs } from '../helpers/stub-activities';
import {
  expectStepFailure,
  fails,
  hangsUntilCancelled,
  needsAttention,
  outcomeAttribute,
  progressOf,
  runEnd,
  stubServerForFile,
  type Script,
  type Scripted,
  type StepFailureCase,
} from './stub-worker';

const taskQueue = 'wf-onapp';
const BACKUP = 'delete unfinished backup of web-01';

const server = stubServerForFile(taskQueue, onappStubs(new VendorJob(60_000)));

async function start(workflowId: string, script: Script, extra: Record<string, unknown> = {}) {
  server.world.script(workflowId, script);
  return server.env.client.workflow.start('onappBackup', { taskQueue, workflowId, args: [{ endpoint: 'onapp-sim', virtualServerId: 101, ...extra }] });
}

const cases: Array<StepFailureCase & { script: Script }> = [
  { step: 'preflight', failing: 'onappPreflight', script: { onappPreflight: fails('virtual server 101 not found') }, undos: [], labels: [] },
  { step: 'take', failing: 'onappTakeBackup', script: { onappTakeBackup: fails('backup server offline') }, undos: ['onappDeleteRunBackup'], labels: [BACKUP] },
  { step: 'build', failing: 'onappWaitBackupBuilt', script: { onappWaitBackupBuilt: fails('backup 7 failed to build') }, undos: ['onappDeleteRunBackup'], labels: [BACKUP] },
];
test.each(cases)('$failing fails at step "$step": exactly the undos registered so far run', async (expected) => {
  const workflowId = `onapp-saga-${expected.failing}`;
  await start(workflowId, expected.script);
  await expectStepFailure(server, workflowId, expected);
});

test('a delete that keeps failing: the run needs attention and, when an operator gives up, fails naming the backup left behind', async () => {
  const workflowId = 'onapp-needs-attention';
  const handle = await start(workflowId, { onappWaitBackupBuilt: fails('backup 7 failed to build'), onappDeleteRunBackup: fails('backup 7 is locked', 'VendorConflict') });
  expect((await needsAttention(server.env, workflowId)).leftovers).toEqual([{ label: BACKUP, error: 'backup 7 is locked' }]);

  await handle.signal('cleanup', { action: 'give-up' });
  const end = await runEnd(server.env, workflowId);
  expect(end.failure?.message).toBe(`step "build" failed: backup 7 failed to build — compensation: NOT undone, an operator gave up: ${BACKUP} (LEFT BEHIND: backup 7 is locked)`);
  expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'failed', undone: [], leftovers: [{ label: BACKUP, error: 'backup 7 is locked' }] });
  expect(await outcomeAttribute(server.env, workflowId)).toBe('failed');
});

test('cancelled during a day-long build: the wait stops, the unfinished backup is deleted, the run ends CANCELLED', async () => {
  const workflowId = 'onapp-cancel-build';
  const handle = await start(workflowId, { onappWaitBackupBuilt: hangsUntilCancelled('build') }, { buildTimeoutSeconds: 86_400 });
  await server.world.reached(workflowId, 'build waiting');
  await handle.cancel();

  expect((await runEnd(server.env, workflowId)).status).toBe('CANCELLED');
  expect(server.world.log(workflowId)).toContain('onappDeleteRunBackup');
  expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'cancelled', step: 'build', undone: [BACKUP] });
  expect(await outcomeAttribute(server.env, workflowId)).toBe('cancelled');
  await server.world.reached(workflowId, 'build cancelled');
});

// --- onappRestore -----------------------------------------------------------------------------

const RESTORE_WAIT = 'wait for the restore of backup 7 onto web-01 to end (OnApp cannot undo a restore)';

async function startRestore(workflowId: string, script: Script, extra: Record<string, unknown> = {}) {
  server.world.script(workflowId, script);
  return server.env.client.workflow.start('onappRestore', { taskQueue, workflowId, args: [{ endpoint: 'onapp-sim', virtualServerId: 101, backupId: 7, ...extra }] });
}

/** The first call runs until the run cancels it; later calls (the compensation's wait) answer as usual. */
function hangsFirstUntilCancelled(name: string): Scripted {
  const hang = hangsUntilCancelled(name);
  let calls = 0;
  return async (input, context) => (calls++ === 0 ? hang(input, context) : context.base(input));
}

test('a restore: preflight, start, wait until the server is unlocked, report', async () => {
  const workflowId = 'onapp-restore-happy';
  await startRestore(workflowId, {});
  const end = await runEnd(server.env, workflowId);
  expect(end.status).toBe('COMPLETED');
  expect(end.result).toMatchObject({
    provider: 'onapp',
    virtualServer: { id: 101, label: 'web-01' },
    backup: { id: 7 },
    chosen: 'given',
    adopted: false,
    summary: { backupId: 7, restoredOnto: 'web-01' },
  });
  expect(server.world.log(workflowId)).toEqual(['onappCheckEndpoint', 'onappRestorePreflight', 'onappStartRestore', 'onappWaitServerUnlocked']);
  expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'completed', step: 'report', message: 'backup 7 restored onto web-01' });
});

test.each([
  ['a locked server', 'virtual server web-01 (101) is locked by another operation: nothing was restored; restore once it is unlocked'],
  ['a backup not built', 'backup 7 of virtual server web-01 (101) is not built yet: nothing was restored; restore it once it is built'],
])('%s is refused in one line before the restore is asked for', async (_case, message) => {
  const workflowId = `onapp-restore-refused-${message.slice(0, 12).replace(/\W/g, '-')}`;
  await startRestore(workflowId, { onappRestorePreflight: fails(message, 'InvalidInput') });
  const end = await runEnd(server.env, workflowId);
  expect(end).toMatchObject({ status: 'FAILED', failure: { type: 'BackupStepFailed', message: `step "preflight" failed: ${message} — compensation: nothing to undo` } });
  expect(server.world.log(workflowId)).toEqual(['onappCheckEndpoint', 'onappRestorePreflight']);
  expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'failed', step: 'preflight', undone: [] });
});

test('a start whose reply was lost is retried, and the retry adopts the running restore: one restore, waited for once', async () => {
  const workflowId = 'onapp-restore-lost-reply';
  let attempts = 0;
  await startRestore(workflowId, {
    onappStartRestore: async () => {
      if (++attempts === 1) throw ApplicationFailure.retryable('OnApp POST /backups/7/restore.json: other side closed', 'VendorTransientError');
      return { adopted: true };
    },
  });
  const end = await runEnd(server.env, workflowId);
  expect(end.status).toBe('COMPLETED');
  expect(end.result.adopted).toBe(true);
  expect(server.world.log(workflowId)).toEqual(['onappCheckEndpoint', 'onappRestorePreflight', 'onappStartRestore', 'onappStartRestore', 'onappWaitServerUnlocked']);
});

test('a start OnApp refuses (422) started nothing: the run fails with its words and waits for nothing', async () => {
  const workflowId = 'onapp-restore-start-refused';
  await startRestore(workflowId, { onappStartRestore: fails('OnApp POST /backups/7/restore.json → HTTP 422: Virtual server is locked by a running restore', 'VendorRejectedError') });
  await expectStepFailure(server, workflowId, { step: 'restore', failing: 'onappStartRestore', undos: [], labels: [] });
});

test('cancelled while the restore runs: the run cannot undo it, waits (not cancellable) until the server is unlocked, and ends CANCELLED saying so', async () => {
  const workflowId = 'onapp-restore-cancel-wait';
  const handle = await startRestore(workflowId, { onappWaitServerUnlocked: hangsFirstUntilCancelled('wait') });
  await server.world.reached(workflowId, 'wait waiting');
  await handle.cancel();

  expect((await runEnd(server.env, workflowId)).status).toBe('CANCELLED');
  const log = server.world.log(workflowId);
  expect(log.slice(log.indexOf('wait waiting') + 1).filter((e) => e !== 'wait cancelled')).toEqual(['onappWaitServerUnlocked']);
  expect(await progressOf(server.env, workflowId)).toMatchObject({
    state: 'cancelled',
    step: 'wait',
    undone: [RESTORE_WAIT],
    message: `cancelled during "wait"; OnApp cannot undo a restore: the restore of backup 7 onto web-01 may have run to its end; web-01 is unlocked; undone: ${RESTORE_WAIT}`,
  });
  expect(await outcomeAttribute(server.env, workflowId)).toBe('cancelled');
});

test('cancelled while the restore runs and the server stays locked: the run needs attention; an operator who gives up is told the restore may still be running', async () => {
  const workflowId = 'onapp-restore-cancel-stuck';
  let calls = 0;
  const hang = hangsUntilCancelled('wait');
  const handle = await startRestore(workflowId, {
    onappWaitServerUnlocked: async (input, context) => {
      if (calls++ === 0) return hang(input, context);
      throw ApplicationFailure.nonRetryable('virtual server 101 is still locked by the restore (it may still be running on the appliance): gave up after 120 polls', 'VendorOperationStuck');
    },
  });
  await server.world.reached(workflowId, 'wait waiting');
  await handle.cancel();
  const view = await needsAttention(server.env, workflowId);
  expect(view.leftovers).toEqual([{ label: RESTORE_WAIT, error: expect.stringContaining('still locked by the restore') }]);

  await handle.signal('cleanup', { action: 'give-up' });
  expect((await runEnd(server.env, workflowId)).status).toBe('CANCELLED');
  const progress = await progressOf(server.env, workflowId);
  expect(progress).toMatchObject({ state: 'cancelled', undone: [], leftovers: [{ label: RESTORE_WAIT }] });
  expect(progress.message).toMatch(
    /^cancelled during "wait"; OnApp cannot undo a restore: the restore of backup 7 onto web-01 may still be running on the appliance; NOT undone, an operator gave up: /,
  );
});
