/**
 * Async tracking (Azure-AsyncOperation vs Location only), throttling with Retry-After, 5xx retries,
 * a failed Azure job, and cancelling a run whose job is running: end to end through Temporal.
 */
import { azureTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { AzureVmBackupResult } from '../../contracts/azure/results';
import type { Progress } from '../../contracts/progress';
import type { AzureHarness } from '../helpers/azure-harness';
import { eventually } from '../helpers/eventually';

const test = azureTest();

const backupOf = (vmName: string, extra: Record<string, unknown> = {}) => ({ endpoint: 'azure-sim', vmName, pollIntervalMs: 150, ...extra });

test('with Azure-AsyncOperation the trigger follows operationsStatus and takes the job id from it', async ({ h, arm }) => {
  h.simulator.calls.clear();
  const result = (await h.execute('azureVmBackup', backupOf('db-01'))) as AzureVmBackupResult;
  assert.equal(result.job.trackedVia, 'Azure-AsyncOperation');
  assert.ok(h.simulator.calls.matching('GET', /\/protectedItems\/[^/]+\/operationsStatus\/[^/]+$/).length >= 1);
  assert.equal(h.simulator.calls.matching('GET', /\/protectedItems\/[^/]+\/operationResults\/[^/]+$/).length, 0);
  assert.equal(result.job.status, 'Completed');
});

test('with Location only the same workflow follows operationResults and finds the job in the job list', async ({ h, arm }) => {
  h.state.options.asyncHeaders = 'location-only';
  try {
    h.simulator.calls.clear();
    const result = (await h.execute('azureVmBackup', backupOf('web-01', { protectIfNeeded: true }))) as AzureVmBackupResult;
    assert.equal(result.job.trackedVia, 'Location');
    assert.equal(h.simulator.calls.matching('GET', /\/operationsStatus\//).length, 0, 'no operationsStatus URL was given, none was polled');
    assert.ok(h.simulator.calls.matching('GET', /\/protectedItems\/[^/]+\/operationResults\/[^/]+$/).length >= 2, 'the protect PUT and the backup POST were followed by Location');
    assert.ok(h.simulator.calls.matching('GET', /\/backupJobs$/).length >= 1, 'the job was looked up in the job list');
    assert.equal(result.job.status, 'Completed');
    const jobs = (await arm.jobs()).filter((j) => j.properties.operation === 'Backup' && j.properties.entityFriendlyName === 'web-01');
    assert.deepEqual(
      jobs.map((j) => j.name),
      [result.job.jobId],
    );
    assert.deepEqual(
      (await arm.recoveryPoints('web-01')).map((p) => p.name),
      [result.recoveryPoint.name],
    );
  } finally {
    h.state.options.asyncHeaders = 'both';
  }
});

test('429 with Retry-After: the activity waits as long as Azure asked before calling again', async ({ h, arm }) => {
  h.simulator.calls.clear();
  // 3 s: longer than the retry policy's own first interval (1 s), so only honouring Retry-After explains the gap.
  h.simulator.faults.add({ method: 'GET', path: '*/backupPolicies', action: { kind: 'status', status: 429, message: 'Too many requests', retryAfterSeconds: 3 } });
  await h.execute('azureProtectVm', { endpoint: 'azure-sim', vmName: 'db-01', pollIntervalMs: 100 });
  const calls = h.simulator.calls.matching('GET', /\/backupPolicies$/);
  assert.deepEqual(
    calls.map((c) => c.status),
    [429, 200],
  );
  const gap = calls[1]!.startedAt - (calls[0]!.startedAt + calls[0]!.durationMs);
  assert.ok(gap >= 2900, `the retry came ${gap} ms after the 429 that asked for 3 s`);
});

test('a 503 on the backup trigger is retried without starting a second backup', async ({ h, arm }) => {
  h.simulator.faults.clear();
  h.simulator.faults.add({ method: 'POST', path: '*/backup', action: { kind: 'status', status: 503, message: 'Service Unavailable' } });
  const before = (await arm.jobs()).filter((j) => j.properties.operation === 'Backup' && j.properties.entityFriendlyName === 'db-01').length;
  const result = (await h.execute('azureVmBackup', backupOf('db-01'))) as AzureVmBackupResult;
  assert.equal(result.job.status, 'Completed');
  const after = (await arm.jobs()).filter((j) => j.properties.operation === 'Backup' && j.properties.entityFriendlyName === 'db-01').length;
  assert.equal(after - before, 1, 'exactly one backup job');
  assert.deepEqual(
    h.simulator.calls
      .matching('POST', /\/backup$/)
      .slice(-2)
      .map((c) => c.status),
    [503, 202],
  );
});

test('the backup trigger’s reply is lost and its job ends before the retry: the retry adopts that job, no second backup', async ({ h, arm }) => {
  h.simulator.faults.clear();
  h.state.options.backupTaskMs = [50, 100];
  try {
    // The vault starts the job, the reply never arrives; the job is over long before the 1 s activity retry.
    h.simulator.faults.add({ method: 'POST', path: '*/backup', action: { kind: 'drop', afterHandling: true } });
    const before = (await arm.jobs()).filter((j) => j.properties.operation === 'Backup' && j.properties.entityFriendlyName === 'db-01').length;
    const result = (await h.execute('azureVmBackup', backupOf('db-01'))) as AzureVmBackupResult;
    assert.equal(result.job.status, 'Completed');
    assert.equal(result.job.adopted, true);
    const after = (await arm.jobs()).filter((j) => j.properties.operation === 'Backup' && j.properties.entityFriendlyName === 'db-01').length;
    assert.equal(after - before, 1, 'exactly one backup job');
    assert.deepEqual(
      h.simulator.calls
        .matching('POST', /\/backup$/)
        .slice(-1)
        .map((c) => c.status),
      ['dropped'],
      'the trigger was sent once',
    );
  } finally {
    h.state.options.backupTaskMs = [600, 900];
  }
});

test('a failed Azure job fails the run with its error, and protection this run enabled is removed again', async ({ h, arm }) => {
  h.simulator.faults.clear();
  h.state.script.next('Backup', { code: 400037, title: 'UserErrorVmNotInDesirableState', message: 'VM is not in a state that allows backups.' });
  const err = await h.execute('azureVmBackup', backupOf('app-02', { protectIfNeeded: true })).then(
    () => assert.fail('should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError);
  assert.match(err.cause?.message ?? '', /step "job" failed: Azure Backup job .* ended Failed: 400037 UserErrorVmNotInDesirableState VM is not in a state that allows backups\./);
  assert.match(err.cause?.message ?? '', /undone: stop protection of VM app-02 \(enabled by this run\)/);
  assert.ok(!(await arm.protectedItems()).some((i) => i.properties.friendlyName === 'app-02'), 'app-02 is unprotected again');
});

test('a garbled operation status while protection is enabled fails the run; the protection still being configured is removed too', async ({ h, arm }) => {
  h.simulator.faults.clear();
  h.simulator.faults.add({ method: 'GET', path: '*/protectedItems/*/operationsStatus/*', action: { kind: 'malformed' } });
  const err = await h.execute('azureProtectVm', { endpoint: 'azure-sim', vmName: 'app-02', pollIntervalMs: 100 }).then(
    () => assert.fail('should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError);
  assert.match(err.cause?.message ?? '', /step "protect" failed: .*unexpected response body.*undone: stop protection of VM app-02/s);
  // Let every operation the vault accepted run to its end, then look: app-02 must not have become protected.
  await eventually(
    async () => [...h.state.operations.values()].every((op) => Date.now() >= op.doneAt),
    (done) => done,
    10_000,
  );
  assert.ok(!(await arm.protectedItems()).some((i) => i.properties.friendlyName === 'app-02'), 'app-02 is not protected');
});

test('cancelling the run while the backup job runs cancels the Azure job and waits for it to end', async ({ h, arm }) => {
  h.state.options.backupTaskMs = [3000, 30_000];
  try {
    h.simulator.calls.clear();
    const handle = await h.start('azureVmBackup', backupOf('db-01'));
    await eventually(
      () => handle.query<Progress>('progress'),
      (p) => p.step === 'job' && /InProgress/.test(p.message ?? ''),
      20_000,
    );
    await handle.cancel();
    await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);

    const progress = await handle.query<Progress>('progress');
    assert.equal(progress.state, 'cancelled');
    assert.deepEqual(progress.undone, ['cancel the backup job of VM db-01']);
    const cancels = h.simulator.calls.matching('POST', /\/backupJobs\/[^/]+\/cancel$/);
    assert.equal(cancels.length, 1);
    const jobId = /backupJobs\/([^/]+)\/cancel$/.exec(cancels[0]!.path)![1]!;
    const job = (await arm.jobs()).find((j) => j.name === jobId);
    assert.equal(job?.properties.status, 'Cancelled', 'the run ended only after the job had');
    assert.ok(!(await arm.jobs()).some((j) => ['InProgress', 'Cancelling'].includes(j.properties.status)), 'no job left running');
  } finally {
    h.state.options.backupTaskMs = [600, 900];
  }
});
