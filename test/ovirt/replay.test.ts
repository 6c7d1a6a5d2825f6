/**
 * Determinism guard: histories of this workflow (recorded ones kept in the repo, plus fresh ones
 * from a successful, a failed and a cancelled run) replay against today's workflow code.
 * RECORD_HISTORIES=1 records fresh ones beside them (never over them) after a deliberate, patched change.
 */
import { ovirtTest } from '../helpers/fixtures';
import { fileURLToPath } from 'node:url';

import { recordRun, replayFreshAndRecorded } from '../helpers/replay';
import { eventually } from '../helpers/eventually';

const historiesDir = fileURLToPath(new URL('../replay/histories', import.meta.url));
const test = ovirtTest({ copy: { maxBytesPerSecond: 1024 * 1024 } });

test('recorded and fresh histories replay without nondeterminism', async ({ h }) => {
  const fresh = [
    await recordRun(h, 'completed', 'ovirtSnapshotBackup', h.input()),
    await recordRun(h, 'invalid', 'ovirtSnapshotBackup', { endpoint: 'ovirt-sim' }),
    await (async () => {
      h.simulator.faults.add({ method: 'POST', path: '/vms/:id/diskattachments', nth: 2, action: { kind: 'status', status: 400, message: 'Operation Failed', detail: 'injected' } });
      try {
        return await recordRun(h, 'failed', 'ovirtSnapshotBackup', h.input());
      } finally {
        h.simulator.faults.clear();
      }
    })(),
    await recordRun(h, 'cancelled', 'ovirtSnapshotBackup', h.input(), async (id) => {
      const handle = h.client.workflow.getHandle(id);
      await eventually(
        async () => (await handle.query<{ step: string }>('progress')).step,
        (s) => s === 'copy',
        20_000,
      );
      await handle.cancel();
    }),
  ];

  await replayFreshAndRecorded(historiesDir, h.env.address, fresh);
});
