/**
 * Determinism guard for ovirtIncrementalBackup: recorded histories (test/ovirt-incremental/histories)
 * and fresh ones (a full, an incremental after a guest write, a refused input) replay against
 * today's workflow code. RECORD_HISTORIES=1 records the fresh ones beside them (never over them).
 */
import { fileURLToPath } from 'node:url';
import { BITMAP_GRANULARITY } from '../../simulators/ovirt';
import { ovirtTest } from '../helpers/fixtures';
import { recordRun, replayFreshAndRecorded } from '../helpers/replay';

const historiesDir = fileURLToPath(new URL('./histories', import.meta.url));
const MiB = 1024 * 1024;
const test = ovirtTest({ sim: { diskSizes: { os: 4 * MiB, data: MiB }, backupTimings: { backupStartMs: 200, backupFinalizeMs: 200, transferStartMs: 100, transferFinalizeMs: 100 } } });

test('recorded and fresh ovirtIncrementalBackup histories replay without nondeterminism', async ({ h }) => {
  const input = { endpoint: 'ovirt-sim', vmId: h.demo.vmId, proxyVmId: h.demo.proxyVmId, pollIntervalMs: 100 };
  const fresh = [await recordRun(h, 'full', 'ovirtIncrementalBackup', input)];
  await h.state.writeDiskRange(h.demo.osDiskId, 3 * BITMAP_GRANULARITY, BITMAP_GRANULARITY);
  fresh.push(await recordRun(h, 'incremental', 'ovirtIncrementalBackup', input));
  fresh.push(await recordRun(h, 'invalid', 'ovirtIncrementalBackup', { endpoint: 'ovirt-sim' }));
  await replayFreshAndRecorded(historiesDir, h.env.address, fresh);
});
