/**
 * onappBackup with stubbed activities on the time-skipping server: an unfinished backup is deleted
 * when the take or the build fails or the run is cancelled, and kept once built; a delete that
 * keeps failing leaves the run waiting for an operator, who can give up on it.
 */
import { expect, test } from 'vitest';
import { VendorJob, onappStubs } from '../helpers/stub-activities';
import { expectStepFailure, fails, hangsUntilCancelled, needsAttention, outcomeAttribute, progressOf, runEnd, stubServerForFile, type Script, type StepFailureCase } from './stub-worker';

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
