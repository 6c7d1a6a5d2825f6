/**
 * Determinism guard for altaroBackup / altaroOperation: recorded histories (test/altaro/histories)
 * and fresh ones (completed, warning, vendor failure, unknown VM, invalid input, cancelled) replay
 * against today's workflow code. RECORD_HISTORIES=1 records fresh ones beside them (never over them).
 */
import { altaroTest } from '../helpers/fixtures';
import { fileURLToPath } from 'node:url';
import type { AltaroProgress } from '../../contracts/altaro/results';
import { recordRun, replayFreshAndRecorded } from '../helpers/replay';

const historiesDir = fileURLToPath(new URL('./histories', import.meta.url));
const test = altaroTest({ sim: { operationMs: { 'take-backup': 1_500, restore: 20_000 } } });

test('recorded and fresh Altaro histories replay without nondeterminism', async ({ h }) => {
  const fresh = [
    await recordRun(h, 'completed', 'altaroBackup', h.input()),
    await recordRun(h, 'warning', 'altaroBackup', h.input({ vmRef: h.demo.warningVmRef })),
    await recordRun(h, 'failed', 'altaroBackup', h.input({ vmRef: h.demo.errorVmRef })),
    await recordRun(h, 'unknownvm', 'altaroOperation', h.input({ vmRef: 'nope', kind: 'verification' })),
    await recordRun(h, 'invalid', 'altaroOperation', { endpoint: 'altaro-sim', kind: 'nope' }),
    await recordRun(h, 'cancelled', 'altaroOperation', h.input({ kind: 'restore' }), async (id) => {
      const handle = h.client.workflow.getHandle(id);
      const deadline = Date.now() + 20_000;
      while ((await handle.query<AltaroProgress>('progress')).step !== 'track' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await handle.cancel();
    }),
  ];
  await replayFreshAndRecorded(historiesDir, h.env.address, fresh);
});
