/** azureRestore end to end: restore disks and restore as a new VM, checked through the simulator's ARM API. */
import { azureTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { AzureRestoreResult } from '../../contracts/azure/results';
import type { AzureHarness } from '../helpers/azure-harness';

const test = azureTest();

const sub = (h: AzureHarness) => `/subscriptions/${h.demo.subscriptionId}`;

test('examples/azureRestore.json restores the latest recovery point’s disks into restore-rg', async ({ h, arm }) => {
  const example = JSON.parse(await readFile(new URL('../../examples/azureRestore.json', import.meta.url), 'utf8'));
  const [latest] = await arm.recoveryPoints('db-01');
  const result = (await h.execute('azureRestore', { ...example, pollIntervalMs: 150 })) as AzureRestoreResult;
  assert.equal(result.restoreType, 'RestoreDisks');
  assert.equal(result.recoveryPoint.name, latest!.name);
  assert.equal(result.job.operation, 'Restore');
  assert.equal(result.job.status, 'Completed');
  assert.equal(result.job.properties['Target Storage Account Name'], 'restorestaging');
  assert.deepEqual(
    result.job.tasks.map((t) => [t.taskId, t.status]),
    [['Transfer data', 'Completed']],
  );

  const disks = (await arm.get(`${sub(h)}/resourceGroups/restore-rg/providers/Microsoft.Compute/disks`)).value as Array<{ name: string; tags: Record<string, string> }>;
  assert.equal(disks.length, 2, 'an OS disk and a data disk were restored');
  assert.ok(disks.every((d) => d.tags.SourceVm === 'db-01' && d.tags.RSVaultBackup === latest!.name));
});

test('AlternateLocation restores a new VM from a named recovery point', async ({ h, arm }) => {
  const [rp] = await arm.recoveryPoints('db-01');
  const missing = await arm.raw('GET', `${sub(h)}/resourceGroups/restore-rg/providers/Microsoft.Compute/virtualMachines/db-01-restored`);
  assert.equal(missing.status, 404);
  const result = (await h.execute('azureRestore', {
    endpoint: 'azure-sim',
    vmName: 'db-01',
    recoveryPoint: rp!.name,
    restoreType: 'AlternateLocation',
    storageAccountId: h.storageAccountId,
    region: 'westeurope',
    targetResourceGroupId: h.resourceGroupId('restore-rg'),
    targetVmName: 'db-01-restored',
    virtualNetworkId: `${sub(h)}/resourceGroups/prod-rg/providers/Microsoft.Network/virtualNetworks/prod-vnet`,
    subnetId: `${sub(h)}/resourceGroups/prod-rg/providers/Microsoft.Network/virtualNetworks/prod-vnet/subnets/default`,
    pollIntervalMs: 150,
  })) as AzureRestoreResult;
  assert.equal(result.job.status, 'Completed');
  assert.equal(result.target.virtualMachineId, `${sub(h)}/resourceGroups/restore-rg/providers/Microsoft.Compute/virtualMachines/db-01-restored`);
  const vm = await arm.get(`${sub(h)}/resourceGroups/restore-rg/providers/Microsoft.Compute/virtualMachines/db-01-restored`);
  assert.equal(vm.name, 'db-01-restored');
  assert.equal(vm.properties.storageProfile.osDisk.osType, 'Windows');
});

test('the restore trigger’s reply is lost and the restore ends before the retry: one restore job, one set of disks', async ({ h, arm }) => {
  h.state.options.restoreTaskMs = 100;
  try {
    h.simulator.faults.add({ method: 'POST', path: '*/restore', action: { kind: 'drop', afterHandling: true } });
    const jobs = async () => (await arm.jobs()).filter((j) => j.properties.operation === 'Restore').length;
    const disks = async () => ((await arm.get(`${sub(h)}/resourceGroups/lost-reply-rg/providers/Microsoft.Compute/disks`)).value as unknown[]).length;
    const before = await jobs();
    const result = (await h.execute('azureRestore', {
      endpoint: 'azure-sim',
      vmName: 'db-01',
      restoreType: 'RestoreDisks',
      storageAccountId: h.storageAccountId,
      region: 'westeurope',
      targetResourceGroupId: h.resourceGroupId('lost-reply-rg'),
      pollIntervalMs: 150,
    })) as AzureRestoreResult;
    assert.equal(result.job.status, 'Completed');
    assert.equal((await jobs()) - before, 1, 'exactly one restore job');
    assert.equal(await disks(), 2, 'one OS disk and one data disk, restored once');
  } finally {
    h.simulator.faults.clear();
    h.state.options.restoreTaskMs = 900;
  }
});

test('a restore Azure refuses fails with the ARM error code and message', async ({ h, arm }) => {
  const err = await h
    .execute('azureRestore', {
      endpoint: 'azure-sim',
      vmName: 'db-01',
      restoreType: 'RestoreDisks',
      storageAccountId: `${sub(h)}/resourceGroups/restore-rg/providers/Microsoft.Storage/storageAccounts/nosuchaccount`,
      region: 'westeurope',
      pollIntervalMs: 100,
    })
    .then(
      () => assert.fail('should fail'),
      (e: unknown) => e,
    );
  assert.ok(err instanceof WorkflowFailedError);
  assert.match(err.cause?.message ?? '', /step "trigger" failed: Azure POST .*\/restore → HTTP 400: UserErrorStorageAccountNotFound: Storage account .*nosuchaccount was not found/);
});

test('bad input is refused at once with every problem listed and no call to Azure', async ({ h, arm }) => {
  h.simulator.calls.clear();
  const err = await h.execute('azureRestore', { endpoint: 'azure-sim', vmName: 'db-01', restoreType: 'AlternateLocation', storageAccountId: 'nope', clientSecret: 'x' }).then(
    () => assert.fail('should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure);
  assert.equal(err.cause.type, 'InvalidInput');
  assert.equal(err.cause.nonRetryable, true);
  for (const field of ['storageAccountId', 'region', 'clientSecret']) assert.match(err.cause.message, new RegExp(field));
  assert.equal(h.simulator.calls.all().length, 0);
});

test('cancelling a restore cancels the Azure restore job and leaves no restored VM', async ({ h, arm }) => {
  h.state.options.restoreTaskMs = 30_000;
  try {
    h.simulator.calls.clear();
    const handle = await h.start('azureRestore', {
      endpoint: 'azure-sim',
      vmName: 'db-01',
      restoreType: 'AlternateLocation',
      storageAccountId: h.storageAccountId,
      region: 'westeurope',
      targetResourceGroupId: h.resourceGroupId('restore-rg'),
      targetVmName: 'db-01-cancelled',
      virtualNetworkId: `${sub(h)}/resourceGroups/prod-rg/providers/Microsoft.Network/virtualNetworks/prod-vnet`,
      subnetId: `${sub(h)}/resourceGroups/prod-rg/providers/Microsoft.Network/virtualNetworks/prod-vnet/subnets/default`,
      pollIntervalMs: 150,
    });
    for (let i = 0; i < 200 && (await handle.query<{ step: string }>('progress')).step !== 'job'; i++) await new Promise((r) => setTimeout(r, 100));
    await handle.cancel();
    await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause?.name === 'CancelledFailure');
    const cancels = h.simulator.calls.matching('POST', /\/backupJobs\/[^/]+\/cancel$/);
    assert.equal(cancels.length, 1);
    const jobId = /backupJobs\/([^/]+)\/cancel$/.exec(cancels[0]!.path)![1]!;
    assert.equal((await arm.jobs()).find((j) => j.name === jobId)?.properties.status, 'Cancelled');
    const vm = await arm.raw('GET', `${sub(h)}/resourceGroups/restore-rg/providers/Microsoft.Compute/virtualMachines/db-01-cancelled`);
    assert.equal(vm.status, 404);
  } finally {
    h.state.options.restoreTaskMs = 900;
  }
});
