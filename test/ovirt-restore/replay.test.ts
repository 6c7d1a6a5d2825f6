/**
 * Determinism guard for the restore side: recorded histories of a restore, a drill, a repository
 * check and a listing (kept in test/ovirt-restore/histories) plus fresh ones replay against today's
 * workflow code. RECORD_HISTORIES=1 records fresh ones beside them (never over them) after a deliberate, patched change.
 */
import { ovirtTest } from '../helpers/fixtures';
import { fileURLToPath } from 'node:url';
import { recordRun, replayFreshAndRecorded } from '../helpers/replay';

const historiesDir = fileURLToPath(new URL('./histories', import.meta.url));
const test = ovirtTest();

test('recorded and fresh histories of restores, drills and checks replay without nondeterminism', async ({ h }) => {
  await h.client.workflow.execute('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: `replay-backup-${Date.now()}`, args: [h.input()] });
  const restore = { backup: 'latest', cluster: h.demo.clusterName };
  const fresh = [
    await recordRun(h, 'completed', 'ovirtRestore', h.input({ ...restore, vmName: `replay-restored-${Date.now()}` })),
    await recordRun(h, 'refused', 'ovirtRestore', h.input({ ...restore, vmName: h.demo.vmName })),
    await recordRun(h, 'completed', 'ovirtRestoreDrill', h.input({ ...restore, boot: true })),
    await recordRun(h, 'completed', 'verifyBackups', { proxyVmId: h.demo.proxyVmId, all: true }),
    await recordRun(h, 'completed', 'ovirtListBackups', { proxyVmId: h.demo.proxyVmId, vmId: h.demo.vmId }),
  ];
  await replayFreshAndRecorded(historiesDir, h.env.address, fresh);
});
