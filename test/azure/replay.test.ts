/**
 * Determinism guard for the Azure workflows: recorded histories (test/azure/histories) and fresh
 * ones (completed, failed, cancelled, signalled) replay against today's workflow code.
 * RECORD_HISTORIES=1 records fresh ones beside them (never over them) after a deliberate, patched change.
 */
import { azureTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Progress } from '../../contracts/progress';

import { recordRun, replayFreshAndRecorded } from '../helpers/replay';
import { eventually } from '../helpers/eventually';

const historiesDir = fileURLToPath(new URL('./histories', import.meta.url));
const test = azureTest();

test('recorded and fresh Azure histories replay without nondeterminism', async ({ h }) => {
  const poll = { pollIntervalMs: 150 };
  const fresh = [
    await recordRun(h, 'backup', 'azureVmBackup', { endpoint: 'azure-sim', vmName: 'web-01', protectIfNeeded: true, ...poll }),
    await recordRun(h, 'protect', 'azureProtectVm', { endpoint: 'azure-sim', vmName: 'app-02', ...poll }),
    await recordRun(h, 'restore', 'azureRestore', { endpoint: 'azure-sim', vmName: 'db-01', restoreType: 'RestoreDisks', storageAccountId: h.storageAccountId, region: 'westeurope', ...poll }),
    await recordRun(h, 'invalid', 'azureVmBackup', { endpoint: 'azure-sim' }),
    await recordRun(h, 'filerecovery', 'azureFileRecovery', { endpoint: 'azure-sim', vmName: 'db-01', ...poll }, async (id) => {
      const handle = h.client.workflow.getHandle(id);
      await eventually(
        () => handle.query('fileRecovery'),
        (s) => s !== null,
        20_000,
      );
      await handle.signal('done');
    }),
    await (async () => {
      h.state.options.backupTaskMs = [2000, 20_000];
      try {
        return await recordRun(h, 'cancelled', 'azureVmBackup', { endpoint: 'azure-sim', vmName: 'db-01', ...poll }, async (id) => {
          const handle = h.client.workflow.getHandle(id);
          await eventually(
            () => handle.query<Progress>('progress'),
            (p) => p.step === 'job',
            20_000,
          );
          await handle.cancel();
        });
      } finally {
        h.state.options.backupTaskMs = [600, 900];
      }
    })(),
  ];

  const recorded = await replayFreshAndRecorded(historiesDir, h.env.address, fresh);
  assert.ok(recorded >= 6 || process.env.RECORD_HISTORIES === '1', `recorded histories are kept in test/azure/histories (found ${recorded})`);
});
