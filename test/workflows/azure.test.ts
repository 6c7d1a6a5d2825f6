/**
 * Azure's backup, restore and file recovery with stubbed activities on the time-skipping server:
 * what a run started (protection, a job, a file-recovery connection) is undone newest first when
 * a later step fails or the run is cancelled; a file recovery waits for its requester up to its
 * time limit (hours, in seconds of test time) and always revokes; a backup job of days is
 * followed in a few slices.
 */
import { Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { describe, expect, test } from 'vitest';
import { eventually } from '../helpers/eventually';
import { DAY_MS } from '../../bench/long-job-events';
import { VendorJob, azureStubs } from '../helpers/stub-activities';
import { expectStepFailure, fails, hangsUntilCancelled, needsAttention, outcomeAttribute, progressOf, runEnd, slowly, stubServerForFile, type Script, type StepFailureCase } from './stub-worker';

const taskQueue = 'wf-azure';
const PROTECTION = 'stop protection of VM web-01 (enabled by this run)';
const BACKUP_JOB = 'cancel the backup job of VM web-01';
const RESTORE_JOB = 'cancel the restore job of VM db-01';
const REVOKE = 'revoke file recovery of VM db-01 at recovery point rp-1';

const server = stubServerForFile(taskQueue, azureStubs(new VendorJob(60_000), 'Backup'));

async function start(workflowType: string, workflowId: string, script: Script, input: Record<string, unknown>) {
  server.world.script(workflowId, script);
  return server.env.client.workflow.start(workflowType, { taskQueue, workflowId, args: [{ endpoint: 'azure-sim', ...input }] });
}

/** The VM is not protected yet: the run enables protection (and undoes that if no recovery point comes of it). */
const unprotected: Script = { azureFindVm: async (input, { base }) => ({ ...((await base(input)) as object), protected: false }) };
const jobEnded = (status: string): Script => ({
  azureFollowJob: async () => ({
    job: {
      jobId: 'job-1',
      operation: 'Backup',
      entity: 'web-01',
      status,
      startTime: '2026-12-01T00:00:00Z',
      tasks: [],
      errors: [{ code: 'UserErrorVmNotFound', message: 'VM gone' }],
      properties: {},
      terminal: true,
    },
    polls: 1,
  }),
});

describe('azureVmBackup: a failure at each step undoes what the run started, newest first', () => {
  const backup = { vmName: 'web-01', protectIfNeeded: true };
  const cases: Array<StepFailureCase & { script: Script }> = [
    { step: 'find', failing: 'azureFindVm', script: { azureFindVm: fails('VM web-01 not in the vault') }, undos: [], labels: [] },
    { step: 'protect', failing: 'azureEnableProtection', script: { ...unprotected, azureEnableProtection: fails('policy not found') }, undos: ['azureDisableProtection'], labels: [PROTECTION] },
    {
      step: 'trigger',
      failing: 'azureTriggerBackup',
      script: { ...unprotected, azureTriggerBackup: fails('another backup is in progress') },
      undos: ['azureCancelJob', 'azureDisableProtection'],
      labels: [BACKUP_JOB, PROTECTION],
    },
    {
      step: 'job',
      failing: 'azureFollowJob',
      script: { ...unprotected, azureFollowJob: fails('job not found') },
      undos: ['azureCancelJob', 'azureDisableProtection'],
      labels: [BACKUP_JOB, PROTECTION],
    },
    // A job that ended is not cancelled: only the protection this run enabled is undone.
    { step: 'job', failing: 'azureFollowJob', script: { ...unprotected, ...jobEnded('Failed') }, undos: ['azureDisableProtection'], labels: [PROTECTION] },
    {
      step: 'recoveryPoint',
      failing: 'azureFindRecoveryPoint',
      script: { ...unprotected, azureFindRecoveryPoint: fails('no recovery point after the job') },
      undos: ['azureDisableProtection'],
      labels: [PROTECTION],
    },
  ];
  test.each(cases.map((c, i) => ({ ...c, i })))('#$i $failing fails at step "$step"', async ({ i, ...expected }) => {
    const workflowId = `azure-backup-saga-${i}`;
    await start('azureVmBackup', workflowId, expected.script, backup);
    await expectStepFailure(server, workflowId, expected);
  });

  test("a job that ended Failed is reported in Azure's words", async () => {
    const end = await runEnd(server.env, 'azure-backup-saga-4');
    expect(end.failure?.message).toMatch(/^step "job" failed: Azure Backup job job-1 ended Failed: UserErrorVmNotFound VM gone — compensation: undone: stop protection/);
  });
});

describe("azureRestore: the restore job is cancelled only while it is the run's and still running", () => {
  const restore = {
    vmName: 'db-01',
    recoveryPoint: 'latest',
    restoreType: 'RestoreDisks',
    storageAccountId: '/subscriptions/s/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/a',
    region: 'westeurope',
  };
  const cases: Array<StepFailureCase & { script: Script }> = [
    { step: 'recoveryPoint', failing: 'azureFindRecoveryPoint', script: { azureFindRecoveryPoint: fails('no recovery point named latest') }, undos: [], labels: [] },
    { step: 'trigger', failing: 'azureTriggerRestore', script: { azureTriggerRestore: fails('storage account in another region') }, undos: ['azureCancelJob'], labels: [RESTORE_JOB] },
    { step: 'job', failing: 'azureFollowJob', script: { azureFollowJob: fails('job not found') }, undos: ['azureCancelJob'], labels: [RESTORE_JOB] },
    { step: 'job', failing: 'azureFollowJob', script: jobEnded('Failed'), undos: [], labels: [] },
  ];
  test.each(cases.map((c, i) => ({ ...c, i })))('#$i $failing fails at step "$step"', async ({ i, ...expected }) => {
    const workflowId = `azure-restore-saga-${i}`;
    await start('azureRestore', workflowId, expected.script, restore);
    await expectStepFailure(server, workflowId, expected);
  });

  test('cancelled while the restore job runs: the follow stops, then the job is cancelled to the end, and the run ends CANCELLED', async () => {
    const workflowId = 'azure-restore-cancel';
    const handle = await start(
      'azureRestore',
      workflowId,
      { azureFollowJob: hangsUntilCancelled('follow'), azureCancelJob: slowly('cancel job', 1500) },
      { ...restore, jobTimeoutMinutes: 7 * 24 * 60 },
    );
    await server.world.reached(workflowId, 'follow waiting');
    await handle.cancel();

    expect((await runEnd(server.env, workflowId)).status).toBe('CANCELLED');
    const log = server.world.log(workflowId);
    expect(log.slice(log.indexOf('follow cancelled'))).toEqual(['follow cancelled', 'azureCancelJob', 'cancel job finished']);
    expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'cancelled', step: 'job', undone: [RESTORE_JOB] });
    expect(await outcomeAttribute(server.env, workflowId)).toBe('cancelled');
  });
});

test('azureVmBackup of a job that runs three days: followed in a few slices, completed in seconds of test time', async () => {
  const workflowId = 'azure-backup-three-days';
  const job = new VendorJob(3 * DAY_MS);
  const { azureTriggerBackup, azureFollowJob } = azureStubs(job, 'Backup');
  await start('azureVmBackup', workflowId, { azureTriggerBackup: azureTriggerBackup!, azureFollowJob: azureFollowJob! }, { vmName: 'web-01', jobTimeoutMinutes: 7 * 24 * 60 });
  const end = await runEnd(server.env, workflowId);

  expect(end.status).toBe('COMPLETED');
  expect(end.result.job).toMatchObject({ jobId: 'job-1', status: 'Completed', progressPercentage: 100 });
  const slices = server.world.log(workflowId).filter((e) => e === 'azureFollowJob').length;
  expect(slices).toBeGreaterThan(3);
  expect(slices).toBeLessThanOrEqual(30);
  expect(server.world.log(workflowId)).not.toContain('azureCancelJob');
});

describe('azureFileRecovery: the connection is always revoked', () => {
  const recovery = { vmName: 'db-01', recoveryPoint: 'latest' };

  test('nobody signals "done": the session stays open its 12 hours, then is revoked, in seconds of test time', async () => {
    const workflowId = 'azure-ilr-time-limit';
    await start('azureFileRecovery', workflowId, {}, { ...recovery, timeLimitSeconds: 12 * 3600 });
    const end = await runEnd(server.env, workflowId);

    expect(end.status).toBe('COMPLETED');
    expect(end.result).toMatchObject({ revoked: true, session: { endedBy: 'time limit' } });
    const openMs = Date.parse(end.result.session.endedAt) - Date.parse(end.result.session.openedAt);
    expect(openMs).toBeGreaterThanOrEqual(12 * 3600_000);
    expect(openMs).toBeLessThan(12 * 3600_000 + 60_000);
    expect(server.world.log(workflowId).filter((e) => e === 'azureRevokeFileRecovery')).toHaveLength(1);
  });

  test('provisioning fails: what it may have made is revoked, and the run fails naming the step', async () => {
    const workflowId = 'azure-ilr-provision-fails';
    await start('azureFileRecovery', workflowId, { azureProvisionFileRecovery: fails('recovery point expired') }, recovery);
    await expectStepFailure(server, workflowId, { step: 'provision', failing: 'azureProvisionFileRecovery', undos: ['azureRevokeFileRecovery'], labels: [REVOKE] });
  });

  test('cancelled while the requester works: the connection is revoked, the script location withdrawn, the run ends CANCELLED', async () => {
    const workflowId = 'azure-ilr-cancel';
    const handle = await start('azureFileRecovery', workflowId, {}, { ...recovery, timeLimitSeconds: 12 * 3600 });
    // Real time: no time skips until the test awaits the result, so the session is open now.
    await server.world.reached(workflowId, 'azureProvisionFileRecovery');
    await (async () => {
      for (let i = 0; i < 100 && (await progressOf(server.env, workflowId)).step !== 'session'; i++) await new Promise((r) => setTimeout(r, 50));
    })();
    expect(await handle.query('fileRecovery')).toMatchObject({ scriptPath: '/data/ilr/script.py' });
    await handle.cancel();

    expect((await runEnd(server.env, workflowId)).status).toBe('CANCELLED');
    expect(server.world.log(workflowId).slice(-1)).toEqual(['azureRevokeFileRecovery']);
    expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'cancelled', step: 'session', undone: [REVOKE] });
    expect(await handle.query('fileRecovery')).toBeNull();
  });

  test('"done" and "cleanup" as updates: refused while they cannot apply (nothing recorded), answered once the session is open', async () => {
    const workflowId = 'azure-ilr-done-update';
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const handle = await start(
      'azureFileRecovery',
      workflowId,
      {
        azureProvisionFileRecovery: async (input, { base, note }) => {
          note('provision waiting');
          const ticker = setInterval(() => Context.current().heartbeat(), 100);
          try {
            await released;
          } finally {
            clearInterval(ticker);
          }
          return base(input);
        },
      },
      { ...recovery, timeLimitSeconds: 12 * 3600 },
    );
    const refusal = (err: unknown) => (err instanceof WorkflowUpdateFailedError ? (err.cause?.message ?? '') : String(err));
    try {
      await server.world.reached(workflowId, 'provision waiting');
      expect(refusal(await handle.executeUpdate('done').catch((e) => e))).toBe('no file recovery session is open (the run is at "provision", running); ask again once it is');
      expect(refusal(await handle.executeUpdate('cleanup', { args: [{ action: 'retry' }] }).catch((e) => e))).toMatch(/^the run is not waiting for a cleanup decision/);
      expect(refusal(await handle.executeUpdate('cleanup', { args: [{ action: 'maybe' }] }).catch((e) => e))).toMatch(/^a cleanup decision is \{"action":"retry"\} or/);
    } finally {
      release();
    }
    await eventually(
      () => progressOf(server.env, workflowId),
      (p) => p.step === 'session',
    );
    expect((await progressOf(server.env, workflowId)).message).toContain(`when finished: backupctl done ${workflowId}`);
    expect(await handle.executeUpdate('done')).toEqual({ ended: true, next: 'the connection is revoked and the stored script and password deleted' });

    const end = await runEnd(server.env, workflowId);
    expect(end.result).toMatchObject({ revoked: true, session: { endedBy: 'done signal' } });
    const log = server.world.log(workflowId);
    expect(log.filter((e) => e === 'azureRevokeFileRecovery')).toHaveLength(1);
    expect((await handle.fetchHistory()).events?.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toHaveLength(1);
  });

  test('a revoke that keeps failing: the run needs attention, names the connection left open, and ends when an operator gives up', async () => {
    const workflowId = 'azure-ilr-needs-attention';
    const handle = await start(
      'azureFileRecovery',
      workflowId,
      { azureProvisionFileRecovery: fails('recovery point expired'), azureRevokeFileRecovery: fails('vault refuses: 409 Conflict', 'VendorConflict') },
      recovery,
    );
    expect((await needsAttention(server.env, workflowId)).leftovers).toEqual([{ label: REVOKE, error: 'vault refuses: 409 Conflict' }]);

    expect(await handle.executeUpdate('cleanup', { args: [{ action: 'give-up' }] })).toEqual({ action: 'give-up', leftovers: [REVOKE], next: 'the run ends and reports these as left behind' });
    const end = await runEnd(server.env, workflowId);
    expect(end.failure?.message).toBe(`step "provision" failed: recovery point expired — compensation: NOT undone, an operator gave up: ${REVOKE} (LEFT BEHIND: vault refuses: 409 Conflict)`);
    expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'failed', leftovers: [{ label: REVOKE }] });
  });
});

test("a scheduled run waits the three days its backup job takes, then completes with the backup's result", async () => {
  const job = new VendorJob(3 * DAY_MS);
  const { azureTriggerBackup, azureFollowJob } = azureStubs(job, 'Backup');
  const childId = 'backup-azure-web-02';
  server.world.script(childId, { azureTriggerBackup: azureTriggerBackup!, azureFollowJob: azureFollowJob! });
  await server.env.client.workflow.start('scheduledBackup', {
    taskQueue,
    workflowId: 'azure-scheduled-three-days',
    args: [{ scheduleId: 'weekly-web-02', workflowType: 'azureVmBackup', input: { endpoint: 'azure-sim', vmName: 'web-02', jobTimeoutMinutes: 7 * 24 * 60 } }],
  });
  const end = await runEnd(server.env, 'azure-scheduled-three-days');

  expect(end.status).toBe('COMPLETED');
  expect(end.result).toMatchObject({ scheduleId: 'weekly-web-02', outcome: 'completed', childWorkflowId: childId, result: { job: { status: 'Completed' } } });
  expect(server.world.log(childId).filter((e) => e === 'azureFollowJob').length).toBeGreaterThan(3);
});
