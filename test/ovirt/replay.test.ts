/**
 * Determinism guard: histories of this workflow (recorded ones kept in the repo, plus fresh ones
 * from a successful, a failed and a cancelled run) replay against today's workflow code.
 * Set RECORD_HISTORIES=1 to refresh the recorded ones after a deliberate, patched change.
 */
import { afterAll, beforeAll, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startOvirtHarness, type OvirtHarness } from '../helpers/ovirt-harness';
import { eventually } from '../helpers/ovirt-inspect';
import { assertReplays, recordedHistories, saveHistoriesIfAsked } from '../helpers/replay';

const historiesDir = fileURLToPath(new URL('../replay/histories', import.meta.url));
let h: OvirtHarness;
beforeAll(async () => {
  h = await startOvirtHarness({ copy: { maxBytesPerSecond: 1024 * 1024 } });
});
afterAll(async () => h?.stop());

async function recordRun(name: string, args: unknown, act?: (id: string) => Promise<void>) {
  const workflowId = `replay-${name}-${Date.now()}`;
  const handle = await h.client.workflow.start('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId, args: [args] });
  await act?.(workflowId);
  await handle.result().catch(() => undefined);
  return { workflowId, history: await handle.fetchHistory() };
}

test('recorded and fresh histories replay without nondeterminism', async () => {
  const fresh = [
    await recordRun('completed', h.input()),
    await recordRun('invalid-input', { endpoint: 'ovirt-sim' }),
    await (async () => {
      h.simulator.faults.add({ method: 'POST', path: '/vms/:id/diskattachments', nth: 2, action: { kind: 'status', status: 400, message: 'Operation Failed', detail: 'injected' } });
      try {
        return await recordRun('failed-attach', h.input());
      } finally {
        h.simulator.faults.clear();
      }
    })(),
    await recordRun('cancelled', h.input(), async (id) => {
      const handle = h.client.workflow.getHandle(id);
      await eventually(async () => (await handle.query<{ step: string }>('progress')).step, (s) => s === 'copy', 20_000);
      await handle.cancel();
    }),
  ];

  await saveHistoriesIfAsked(historiesDir, h.env.address, fresh.map((run) => ({ workflowId: run.workflowId, file: `ovirtSnapshotBackup-${run.workflowId.split('-')[1]}` })));
  const recorded = await recordedHistories(historiesDir);
  await assertReplays([...fresh, ...recorded]);
  console.log(`replayed ${fresh.length} fresh and ${recorded.length} recorded histories`);
});
