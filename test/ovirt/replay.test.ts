/**
 * Determinism guard: histories of this workflow (recorded ones kept in the repo, plus fresh ones
 * from a successful, a failed and a cancelled run) replay against today's workflow code.
 * Set RECORD_HISTORIES=1 to refresh the recorded ones after a deliberate, patched change.
 */
import { ovirtTest } from '../helpers/fixtures';
import { fileURLToPath } from 'node:url';
import type { OvirtHarness } from '../helpers/ovirt-harness';

import { assertReplays, recordedHistories, saveHistoriesIfAsked } from '../helpers/replay';
import { eventually } from '../helpers/eventually';

const historiesDir = fileURLToPath(new URL('../replay/histories', import.meta.url));
const test = ovirtTest({ copy: { maxBytesPerSecond: 1024 * 1024 } });

async function recordRun(h: OvirtHarness, name: string, args: unknown, act?: (id: string) => Promise<void>) {
  const workflowId = `replay-${name}-${Date.now()}`;
  const handle = await h.client.workflow.start('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId, args: [args] });
  await act?.(workflowId);
  await handle.result().catch(() => undefined);
  return { workflowId, history: await handle.fetchHistory() };
}

test('recorded and fresh histories replay without nondeterminism', async ({ h }) => {
  const fresh = [
    await recordRun(h, 'completed', h.input()),
    await recordRun(h, 'invalid-input', { endpoint: 'ovirt-sim' }),
    await (async () => {
      h.simulator.faults.add({ method: 'POST', path: '/vms/:id/diskattachments', nth: 2, action: { kind: 'status', status: 400, message: 'Operation Failed', detail: 'injected' } });
      try {
        return await recordRun(h, 'failed-attach', h.input());
      } finally {
        h.simulator.faults.clear();
      }
    })(),
    await recordRun(h, 'cancelled', h.input(), async (id) => {
      const handle = h.client.workflow.getHandle(id);
      await eventually(
        async () => (await handle.query<{ step: string }>('progress')).step,
        (s) => s === 'copy',
        20_000,
      );
      await handle.cancel();
    }),
  ];

  await saveHistoriesIfAsked(
    historiesDir,
    h.env.address,
    fresh.map((run) => ({ workflowId: run.workflowId, file: `ovirtSnapshotBackup-${run.workflowId.split('-')[1]}` })),
  );
  const recorded = await recordedHistories(historiesDir);
  await assertReplays([...fresh, ...recorded]);
  console.log(`replayed ${fresh.length} fresh and ${recorded.length} recorded histories`);
});
