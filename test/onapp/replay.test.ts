/**
 * Determinism guard for onappBackup, onappListBackups and onappRestore: recorded histories
 * (test/onapp/histories) and fresh ones replay against today's workflow code. RECORD_HISTORIES=1
 * records the fresh ones beside them (never over them: test/helpers/replay.ts).
 */
import { onappTest } from '../helpers/fixtures';
import { fileURLToPath } from 'node:url';
import { recordRun, replayFreshAndRecorded } from '../helpers/replay';

const historiesDir = fileURLToPath(new URL('./histories', import.meta.url));
const test = onappTest({ buildMs: 600, restoreMs: 600 });

test('recorded and fresh OnApp histories replay without nondeterminism', async ({ h }) => {
  const server = { endpoint: 'onapp-sim', virtualServerId: 101, pollIntervalMs: 200 };
  const fresh = [
    await recordRun(h, 'completed', 'onappBackup', { ...server, backupType: 'incremental', note: 'replay fixture' }),
    await recordRun(h, 'completed', 'onappListBackups', { endpoint: 'onapp-sim', virtualServerId: 101 }),
    await recordRun(h, 'completed', 'onappRestore', { ...server, backupId: 'latest' }),
    await recordRun(h, 'invalid', 'onappRestore', { endpoint: 'onapp-sim' }),
  ];
  await replayFreshAndRecorded(historiesDir, h.env.address, fresh);
});
