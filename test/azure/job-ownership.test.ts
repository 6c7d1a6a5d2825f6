/**
 * A run adopts and cancels only the Azure job its own trigger started: a backup the vault's policy
 * schedule started (or a restore someone else started) is waited for, never adopted and never
 * cancelled; a lost trigger reply still adopts the run's own job; a run cancelled while its trigger
 * is on its way leaves no job of its own running.
 */
import { azureTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { AzureRestoreResult } from '../../contracts/azure/results';
import type { AzureVmBackupResult } from '../../contracts/azure/results';
import type { Progress } from '../../contracts/progress';
import type { AzureHarness } from '../helpers/azure-harness';
import { type ArmInspector } from '../helpers/azure-inspect';
import { eventually } from '../helpers/eventually';

const test = azureTest();

const backupOf = (vmName: string) => ({ endpoint: 'azure-sim', vmName, pollIntervalMs: 150 });
const jobsOf = async (arm: ArmInspector, vm: string, operation: string) => (await arm.jobs()).filter((j) => j.properties.entityFriendlyName === vm && j.properties.operation === operation);
const statusOf = async (arm: ArmInspector, jobId: string) => (await arm.jobs()).find((j) => j.name === jobId)?.properties.status;

/** Runs `fn` with the simulator's backup task durations set, then puts the harness defaults back. */
async function withBackupTasks<T>(h: AzureHarness, ms: [number, number], fn: () => Promise<T>): Promise<T> {
  h.state.options.backupTaskMs = ms;
  try {
    return await fn();
  } finally {
    h.state.options.backupTaskMs = [600, 900];
  }
}

/** Cancels a job through the vault's API (as an admin would) and waits until it has ended. */
async function endJob(arm: ArmInspector, jobId: string): Promise<void> {
  if (['InProgress', 'Cancelling'].includes((await statusOf(arm, jobId)) ?? '')) await arm.raw('POST', `${arm.vault}/backupJobs/${jobId}/cancel`);
  await eventually(
    () => statusOf(arm, jobId),
    (s) => !['InProgress', 'Cancelling'].includes(s ?? ''),
    10_000,
  );
}

test('a backup of a VM whose policy backup is running waits for it and then takes its own: the policy job is not adopted', async ({ h, arm }) => {
  const policyJob = await withBackupTasks(h, [500, 1500], async () => h.state.startScheduledBackup('db-01'));
  const result = (await h.execute('azureVmBackup', backupOf('db-01'))) as AzureVmBackupResult;
  assert.notEqual(result.job.jobId, policyJob.id, 'the run follows a job of its own');
  assert.equal(result.job.adopted, false);
  assert.equal(result.job.status, 'Completed');
  assert.equal(await statusOf(arm, policyJob.id), 'Completed', 'the policy job ran to its end untouched');
  assert.equal(h.simulator.calls.matching('POST', new RegExp(`/backupJobs/${policyJob.id}/cancel$`)).length, 0);
});

test('cancelling a backup run while the policy backup of its VM runs never cancels the policy job', async ({ h, arm }) => {
  const policyJob = await withBackupTasks(h, [30_000, 30_000], async () => h.state.startScheduledBackup('db-01'));
  try {
    h.simulator.calls.clear();
    const handle = await h.start('azureVmBackup', backupOf('db-01'));
    await eventually(
      () => handle.query<Progress>('progress'),
      (p) => p.step === 'trigger' || p.step === 'job',
      20_000,
    );
    // The trigger has looked at the VM's jobs (and found the policy's) at least twice.
    await eventually(
      async () => h.simulator.calls.matching('GET', /\/backupJobs$/).length,
      (n) => n >= 2,
      10_000,
    );
    await handle.cancel();
    await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);

    assert.equal(await statusOf(arm, policyJob.id), 'InProgress', 'the policy job is still running');
    assert.deepEqual(
      h.simulator.calls.matching('POST', /\/backupJobs\/[^/]+\/cancel$/).map((c) => c.path),
      [],
      'no job was cancelled',
    );
    assert.deepEqual(
      (await jobsOf(arm, 'db-01', 'Backup')).filter((j) => j.name !== policyJob.id && ['InProgress', 'Cancelling'].includes(j.properties.status)),
      [],
      'no job of the run is running',
    );
  } finally {
    await endJob(arm, policyJob.id);
  }
});

test('a lost trigger reply after a policy backup of the VM: the retry adopts the job this run started, not the policy’s', async ({ h, arm }) => {
  const policyJob = await withBackupTasks(h, [500, 1000], async () => h.state.startScheduledBackup('db-01'));
  await withBackupTasks(h, [50, 100], async () => {
    // The vault starts the run's job, the reply never arrives; the job is over long before the retry.
    h.simulator.faults.add({ method: 'POST', path: '*/backup', action: { kind: 'drop', afterHandling: true } });
    try {
      const before = new Set((await jobsOf(arm, 'db-01', 'Backup')).map((j) => j.name));
      const result = (await h.execute('azureVmBackup', backupOf('db-01'))) as AzureVmBackupResult;
      const started = (await jobsOf(arm, 'db-01', 'Backup')).filter((j) => !before.has(j.name));
      assert.deepEqual(
        started.map((j) => j.name),
        [result.job.jobId],
        'the run started exactly one job and follows it',
      );
      assert.notEqual(result.job.jobId, policyJob.id);
      assert.equal(result.job.adopted, true);
      assert.equal(result.job.status, 'Completed');
      assert.deepEqual(
        h.simulator.calls
          .matching('POST', /\/backup$/)
          .slice(-1)
          .map((c) => c.status),
        ['dropped'],
        'the trigger was sent once',
      );
    } finally {
      h.simulator.faults.clear();
    }
  });
  assert.equal(await statusOf(arm, policyJob.id), 'Completed');
});

test('a restore job someone else started on the VM is waited for, not adopted', async ({ h, arm }) => {
  const foreign = h.state.startJob('Restore', 'db-01', [{ taskId: 'Transfer data', ms: 1500 }], { 'Restore type': 'RestoreDisks' });
  const result = (await h.execute('azureRestore', {
    endpoint: 'azure-sim',
    vmName: 'db-01',
    restoreType: 'RestoreDisks',
    storageAccountId: h.storageAccountId,
    region: 'westeurope',
    targetResourceGroupId: h.resourceGroupId('restore-rg'),
    pollIntervalMs: 150,
  })) as AzureRestoreResult;
  assert.notEqual(result.job.jobId, foreign.id);
  assert.equal(result.job.adopted, false);
  assert.equal(result.job.status, 'Completed');
  assert.equal(await statusOf(arm, foreign.id), 'Completed');
});

test('a run cancelled while its backup trigger is on its way leaves no job of its own running', async ({ h, arm }) => {
  await withBackupTasks(h, [30_000, 30_000], async () => {
    const before = new Set((await jobsOf(arm, 'db-01', 'Backup')).map((j) => j.name));
    // The trigger reaches the vault 3 s late: the cancel arrives while it is on its way.
    h.simulator.faults.add({ method: 'POST', path: '*/backup', action: { kind: 'delay', ms: 3000 } });
    try {
      h.simulator.calls.clear();
      const handle = await h.start('azureVmBackup', backupOf('db-01'));
      await eventually(
        () => handle.query<Progress>('progress'),
        (p) => p.step === 'trigger',
        20_000,
      );
      // The trigger has looked for running jobs: its POST is the next call.
      await eventually(
        async () => h.simulator.calls.matching('GET', /\/backupJobs$/).length,
        (n) => n >= 1,
        10_000,
      );
      await handle.cancel();
      await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);

      // The POST did reach the vault and started a job …
      await eventually(
        async () => h.simulator.calls.matching('POST', /\/backup$/).length,
        (n) => n >= 1,
        10_000,
      );
      assert.deepEqual(
        h.simulator.calls.matching('POST', /\/backup$/).map((c) => c.status),
        [202],
      );
      const started = (await jobsOf(arm, 'db-01', 'Backup')).filter((j) => !before.has(j.name));
      assert.equal(started.length, 1, 'the trigger started one job');
      // … which the run cancelled before it ended.
      assert.equal(started[0]!.properties.status, 'Cancelled');
      assert.deepEqual(
        (await arm.jobs()).filter((j) => ['InProgress', 'Cancelling'].includes(j.properties.status)).map((j) => j.name),
        [],
        'no job left running',
      );
      assert.equal((await handle.query<Progress>('progress')).state, 'cancelled');
    } finally {
      h.simulator.faults.clear();
    }
  });
});
