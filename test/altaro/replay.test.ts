/**
 * Determinism guard for altaroBackup / altaroOperation: recorded histories (test/altaro/histories)
 * and fresh ones (completed, warning, vendor failure, unknown VM, invalid input, cancelled) replay
 * against today's workflow code. RECORD_HISTORIES=1 refreshes the recorded ones.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { resolveTemporalCli } from '../../lib/temporal/cli-path';
import type { AltaroProgress } from '../../workflows/altaro-operation';
import { startAltaroHarness, type AltaroHarness } from '../helpers/altaro-harness';
import { testDataConverter, workflowBundle } from '../helpers/temporal';

const historiesDir = fileURLToPath(new URL('./histories', import.meta.url));
let h: AltaroHarness;
before(async () => {
  h = await startAltaroHarness({ sim: { operationMs: { 'take-backup': 1_500, restore: 20_000 } } });
});
after(async () => h?.stop());

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
  if (process.env.RECORD_HISTORIES === '1') {
    for (const run of fresh) {
      const json = execFileSync(resolveTemporalCli(), ['workflow', 'show', '--address', h.env.address, '--workflow-id', run.workflowId, '-o', 'json'], { encoding: 'utf8' });
      await writeFile(join(historiesDir, `${run.workflowType}-${run.name}.json`), json);
    }
  }
  const recorded = await Promise.all(
    (await readdir(historiesDir))
      .filter((f) => f.endsWith('.json'))
      .map(async (f) => ({ workflowId: f, history: historyFromJSON(JSON.parse(await readFile(join(historiesDir, f), 'utf8'))) })),
  );
  const all = [...fresh, ...recorded];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle(), dataConverter: testDataConverter }, all)) {
    assert.equal(result.error, undefined, `${result.workflowId}: ${result.error}`);
    replayed++;
  }
  assert.equal(replayed, all.length);
  console.log(`replayed ${fresh.length} fresh and ${recorded.length} recorded histories`);
});
