/** `backupctl status`/`--follow` lines: a polling activity's live view wins over the progress query's older message. */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import type { RunStatus } from '../../client/backup-client';
import { ProgressView } from '../../client/cli/format';

const status = (live?: string): RunStatus => ({
  workflowId: 'backup-azure-web-01',
  runId: 'r1',
  type: 'azureVmBackup',
  status: 'RUNNING',
  startTime: new Date(0),
  taskQueue: 'q',
  live,
  progress: {
    workflowType: 'azureVmBackup',
    state: 'running',
    step: 'job',
    stepIndex: 4,
    steps: ['validate', 'find', 'protect', 'trigger', 'job', 'recoveryPoint'],
    percent: 66,
    disksTotal: 0,
    disksDone: 0,
    bytesTotal: 0,
    bytesCopied: 0,
    message: 'Backup job j1 InProgress 25%',
    undone: [],
    timings: [],
  },
});

test('the live job status from the polling activity is shown instead of the last slice message', () => {
  const line = new ProgressView().line(status('Backup job j1 InProgress 42%'), false);
  assert.match(line, /Backup job j1 InProgress 42% \(live\)/);
  assert.doesNotMatch(line, /25%/);
});

test('without a live view the progress message is shown', () => {
  assert.match(new ProgressView().line(status(), false), /Backup job j1 InProgress 25%$/);
});

test('a run no worker can run reads as stuck, with the reason, instead of a bare RUNNING', () => {
  const stuck: RunStatus = { ...status(), progress: undefined, problem: 'no worker polls task queue q: the run waits until one does (is the worker running, on this queue?)' };
  assert.equal(new ProgressView().line(stuck, false), 'backup-azure-web-01: RUNNING but STUCK: no worker polls task queue q: the run waits until one does (is the worker running, on this queue?)');
});
