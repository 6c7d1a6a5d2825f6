/**
 * Determinism guard for altaroBackup / altaroOperation: recorded histories (test/altaro/histories)
 * and fresh ones (completed, warning, vendor failure, unknown VM, invalid input, cancelled) replay
 * against today's workflow code. RECORD_HISTORIES=1 refreshes the recorded ones.
 */
import { afterAll, beforeAll, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import type { AltaroProgress } from '../../workflows/altaro-operation';
import { startAltaroHarness, type AltaroHarness } from '../helpers/altaro-harness';
import { assertReplays, recordedHistories, saveHistoriesIfAsked } from '../helpers/replay';

const historiesDir = fileURLToPath(new URL('./histories', import.meta.url));
let h: AltaroHarness;
beforeAll(async () => {
  h = await startAltaroHarness({ sim: { operationMs: { 'take-backup': 1_500, restore: 20_000 } } });
});
afterAll(async () => h?.stop());

async function recordRun(name: string, workflowType: string, args: unknown, act?: (id: string) => Promise<void>) {
  const workflowId = `replay-${name}-${Date.now()}`;
  const handle = await h.client.workflow.start(workflowType, { taskQueue: h.taskQueue, workflowId, args: [args] });
  await act?.(workflowId);
  await handle.result().catch(() => undefined);
  return { name, workflowType, workflowId, history: await handle.fetchHistory() };
}

test('recorded and fresh Altaro histories replay without nondeterminism', async () => {
  const fresh = [
    await recordRun('completed', 'altaroBackup', h.input()),
    await recordRun('warning', 'altaroBackup', h.input({ vmRef: h.demo.warningVmRef })),
    await recordRun('failed', 'altaroBackup', h.input({ vmRef: h.demo.errorVmRef })),
    await recordRun('unknownvm', 'altaroOperation', h.input({ vmRef: 'nope', kind: 'verification' })),
    await recordRun('invalid', 'altaroOperation', { endpoint: 'altaro-sim', kind: 'nope' }),
    await recordRun('cancelled', 'altaroOperation', h.input({ kind: 'restore' }), async (id) => {
      const handle = h.client.workflow.getHandle(id);
      const deadline = Date.now() + 20_000;
      while ((await handle.query<AltaroProgress>('progress')).step !== 'track' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await handle.cancel();
    }),
  ];
  await saveHistoriesIfAsked(historiesDir, h.env.address, fresh.map((run) => ({ workflowId: run.workflowId, file: `${run.workflowType}-${run.name}` })));
  const recorded = await recordedHistories(historiesDir);
  await assertReplays([...fresh, ...recorded]);
  console.log(`replayed ${fresh.length} fresh and ${recorded.length} recorded histories`);
});
