/**
 * Determinism guard for fleetBackup: histories recorded before the fleet-outcome-table,
 * fleet-ends-cancelled and fleet-children-request-cancel patches (a fleet continued as new, with a
 * failing and an invalid VM; a fleet cancelled while children ran) replay against today's code.
 * They were recorded on the time-skipping server with the stub children of stub-workflows.ts.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { assertReplays, recordedHistories } from '../helpers/replay';

test('fleet histories from before the patches replay without nondeterminism', async () => {
  const histories = await recordedHistories(fileURLToPath(new URL('./histories', import.meta.url)));
  assert.equal(histories.length, 3);
  await assertReplays(histories);
});
