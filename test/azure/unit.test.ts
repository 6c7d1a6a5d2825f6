/** Azure pieces that need no server: the seed's password extraction, filters, input schemas, when a followed job is worth reporting. */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { extractIlrPassword } from '../../activities/azure/file-recovery-store';
import { jobMoved } from '../../activities/azure/follow-job';
import type { AzureJobSummary } from '../../activities/azure/job-summary';
import { parseFilter } from '../../simulators/azure/routes';
import { azureRestoreInput, azureVmBackupInput } from '../../contracts/azure/input';

test('the ILR password is the 15 characters starting 33 after the last "_", cut out of the suffix', () => {
  const hex32 = '0123456789abcdef0123456789abcdef';
  const suffix = `db_01_westeurope_1700000000000_${hex32}Pw3rdXyZ9kLmN2qTAIL`;
  const underscore = suffix.lastIndexOf('_');
  assert.equal(suffix.slice(underscore + 33, underscore + 48), 'Pw3rdXyZ9kLmN2q', 'the fixture puts the password at the seed’s offset');
  assert.deepEqual(extractIlrPassword(suffix), {
    password: 'Pw3rdXyZ9kLmN2q',
    suffixWithoutPassword: `db_01_westeurope_1700000000000_${hex32}TAIL`,
  });
});

test('a suffix without room for the password is refused rather than misread', () => {
  assert.throws(() => extractIlrPassword('no-underscore-here'), /no password where the service puts it/);
  assert.throws(() => extractIlrPassword('vm_short'), /no password/);
});

test('OData filters of the simulator', () => {
  assert.deepEqual(parseFilter("backupManagementType eq 'AzureIaasVM' and operation eq 'Backup' and status eq 'InProgress'"), {
    backupManagementType: 'AzureIaasVM',
    operation: 'Backup',
    status: 'InProgress',
  });
});

test('input schemas list every problem and refuse unknown fields', () => {
  const r = azureRestoreInput.safeParse({ endpoint: 'azure-sim', vmName: 'db-01', restoreType: 'AlternateLocation', storageAccountId: 'x', region: 'westeurope', password: 'no' });
  assert.equal(r.success, false);
  const messages = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
  assert.match(messages, /storageAccountId must be a storage account resource id/);
  assert.match(messages, /password/);
  const alt = azureRestoreInput.safeParse({
    endpoint: 'azure-sim',
    vmName: 'db-01',
    restoreType: 'AlternateLocation',
    storageAccountId: '/subscriptions/s/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/a',
    region: 'westeurope',
  });
  assert.deepEqual(alt.error?.issues.map((i) => i.path.join('.')).sort(), ['subnetId', 'targetResourceGroupId', 'targetVmName', 'virtualNetworkId']);
  assert.equal(azureVmBackupInput.safeParse({ endpoint: 'azure-sim' }).error?.issues[0]?.message, 'give vmName or vmResourceId');
});

test('a followed job is reported when its status changes or its progress crosses a 25 % step, not on every percent', () => {
  const job = (status: string, progressPercentage?: number): AzureJobSummary => ({
    jobId: 'j',
    operation: 'Backup',
    entity: 'db-01',
    status,
    startTime: '2026-01-01T00:00:00Z',
    progressPercentage,
    tasks: [],
    errors: [],
    properties: {},
    terminal: false,
  });
  assert.equal(jobMoved(undefined, job('InProgress', 3), 25), true, 'the first look is always reported');
  assert.equal(jobMoved(job('InProgress', 3), job('InProgress', 24), 25), false);
  assert.equal(jobMoved(job('InProgress', 24), job('InProgress', 25), 25), true);
  assert.equal(jobMoved(job('InProgress', 26), job('InProgress', 49), 25), false, 'moved 23 points within one step');
  assert.equal(jobMoved(job('InProgress', 10), job('Cancelling', 10), 25), true);
  assert.equal(jobMoved(job('InProgress'), job('InProgress', 30), 25), true, 'no percentage counts as 0');
  assert.equal(jobMoved(job('InProgress', 10), job('InProgress', 90), 0), false, 'a step of 0 reports status changes only');
});
