/**
 * Determinism guard for the workflows around the backups: scheduledBackup (with repository
 * retention), pruneBackups, rpoWatch and reaper, on the oVirt simulator. Recorded histories
 * (test/schedules/histories) and fresh ones replay against today's workflow code; RECORD_HISTORIES=1
 * records the fresh ones beside them (never over them: test/helpers/replay.ts).
 */
import { ovirtTest } from '../helpers/fixtures';
import { fileURLToPath } from 'node:url';
import { recordRun, replayFreshAndRecorded } from '../helpers/replay';

const historiesDir = fileURLToPath(new URL('./histories', import.meta.url));
const test = ovirtTest();

test('recorded and fresh histories of schedules, retention, RPO watches and the reaper replay without nondeterminism', async ({ h }) => {
  const { vmId, proxyVmId } = h.demo;
  const fresh = [
    await recordRun(h, 'completed', 'scheduledBackup', { scheduleId: 'replay-nightly', workflowType: 'ovirtSnapshotBackup', input: h.input(), repositoryRetention: { keepLast: 5 } }),
    await recordRun(h, 'dry-run', 'pruneBackups', { proxyVmId, vmId, keepLast: 1, dryRun: true }),
    await recordRun(h, 'completed', 'pruneBackups', { proxyVmId, vmId, keepLast: 3 }),
    await recordRun(h, 'completed', 'rpoWatch', { targets: [{ provider: 'ovirt', vmId, expectedIntervalMinutes: 1440, graceMinutes: 120 }] }),
    await recordRun(h, 'dry-run', 'reaper', { endpoints: ['ovirt-sim'], dryRun: true }),
    await recordRun(h, 'invalid', 'pruneBackups', { proxyVmId }),
  ];
  await replayFreshAndRecorded(historiesDir, h.env.address, fresh);
});
