/** azureProtectVm and azureVmBackup end to end against the HTTPS Azure simulator. */
import { azureTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { AzureVmBackupResult } from '../../contracts/azure/results';
import type { AzureProtectResult } from '../../contracts/azure/results';
import type { Progress } from '../../contracts/progress';
import type { AzureHarness } from '../helpers/azure-harness';

const test = azureTest();

test('examples/azureVmBackup.json protects web-01, backs it up and returns the job and the new recovery point', async ({ h, arm }) => {
  const example = JSON.parse(await readFile(new URL('../../examples/azureVmBackup.json', import.meta.url), 'utf8'));
  assert.deepEqual(
    (await arm.protectedItems()).map((i) => i.properties.friendlyName),
    ['db-01'],
    'web-01 starts unprotected',
  );
  const handle = await h.start('azureVmBackup', { ...example, pollIntervalMs: 150 });
  const result = (await handle.result()) as AzureVmBackupResult;

  assert.equal(result.vm.name, 'web-01');
  assert.equal(result.protection.enabledByThisRun, true);
  assert.match(result.protection.policyId ?? '', /\/backupPolicies\/DefaultPolicy$/);
  assert.equal(result.job.operation, 'Backup');
  assert.equal(result.job.status, 'Completed');
  assert.match(result.job.duration ?? '', /^PT[\d.]+S$/);
  assert.deepEqual(
    result.job.tasks.map((t) => [t.taskId, t.status]),
    [
      ['Take Snapshot', 'Completed'],
      ['Transfer data to vault', 'Completed'],
    ],
  );
  assert.deepEqual(result.job.warnings, []);
  assert.equal(result.job.trackedVia, 'Azure-AsyncOperation');

  // What the vault shows afterwards, through its own API.
  const item = (await arm.protectedItems()).find((i) => i.properties.friendlyName === 'web-01');
  assert.equal(item?.properties.protectionState, 'Protected');
  const points = await arm.recoveryPoints('web-01');
  assert.deepEqual(
    points.map((p) => p.name),
    [result.recoveryPoint.name],
  );
  const job = (await arm.jobs()).find((j) => j.name === result.job.jobId);
  assert.equal(job?.properties.status, 'Completed');
  assert.equal(h.simulator.calls.matching('POST', /\/refreshContainers$/).length, 1, 'containers were refreshed to find the VM');

  const progress = await handle.query<Progress>('progress');
  assert.equal(progress.state, 'completed');
  assert.match(progress.message ?? '', /Backup job .* Completed 100% — Take Snapshot: Completed; Transfer data to vault: Completed/);
  const description = await handle.describe();
  assert.deepEqual(description.searchAttributes.BackupProvider, ['azure']);
  assert.deepEqual(description.searchAttributes.BackupOutcome, ['completed']);
});

test('the progress query shows the running job’s tasks and percentage', async ({ h, arm }) => {
  h.state.options.backupTaskMs = [1000, 3000];
  try {
    const handle = await h.start('azureVmBackup', { endpoint: 'azure-sim', vmName: 'db-01', pollIntervalMs: 150 });
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = await handle.query<Progress>('progress');
      if (p.message) seen.add(p.message);
      if (p.state !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await handle.result();
    assert.ok(
      [...seen].some((m) => /InProgress \d+% — Take Snapshot: (InProgress|Completed).*Transfer data to vault: (NotStarted|InProgress)/.test(m)),
      [...seen].join('\n'),
    );
  } finally {
    h.state.options.backupTaskMs = [600, 900];
  }
});

test('azureProtectVm protects app-02; on a protected VM it changes nothing', async ({ h, arm }) => {
  const example = JSON.parse(await readFile(new URL('../../examples/azureProtectVm.json', import.meta.url), 'utf8'));
  const first = (await h.execute('azureProtectVm', { ...example, pollIntervalMs: 100 })) as AzureProtectResult;
  assert.equal(first.alreadyProtected, false);
  assert.equal(first.containerName, 'IaasVMContainer;iaasvmcontainerv2;prod-rg;app-02');
  assert.equal(first.protectedItemName, 'VM;iaasvmcontainerv2;prod-rg;app-02');
  assert.equal(first.policy.name, 'DefaultPolicy');
  assert.equal(first.protectionState, 'IRPending');
  assert.ok((await arm.protectedItems()).some((i) => i.properties.friendlyName === 'app-02'));

  h.simulator.calls.clear();
  const again = (await h.execute('azureProtectVm', { ...example, policyName: 'EnhancedPolicy', pollIntervalMs: 100 })) as AzureProtectResult;
  assert.equal(again.alreadyProtected, true);
  assert.equal(again.policy.name, 'DefaultPolicy', 'the existing protection is reported, not changed');
  assert.equal(h.simulator.calls.matching('PUT', /.*/).length, 0, 'no PUT was sent');
});

test('a VM the vault cannot see fails clearly without changing anything', async ({ h, arm }) => {
  h.simulator.calls.clear();
  const err = await h.execute('azureVmBackup', { endpoint: 'azure-sim', vmName: 'no-such-vm', protectIfNeeded: true, pollIntervalMs: 100 }).then(
    () => assert.fail('should fail'),
    (e: Error & { cause?: Error }) => e,
  );
  assert.match(err.cause?.message ?? '', /step "find" failed: VM no-such-vm is neither protected by vault backup-vault nor among its protectable VMs/);
  assert.equal(h.simulator.calls.matching('PUT', /.*/).length + h.simulator.calls.matching('POST', /\/backup$/).length, 0);
});
