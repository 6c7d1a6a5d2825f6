import { altaroTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { AltaroProgress } from '../../contracts/altaro/results';
import { startAltaroHarness, vendorReports, type AltaroHarness } from '../helpers/altaro-harness';

// Long operations, so the cancellation lands in the middle of one.
const test = altaroTest({ sim: { operationMs: { 'take-backup': 60_000, restore: 60_000 } } });

async function waitForTracking(handle: { query: <T>(name: string) => Promise<T> }): Promise<AltaroProgress> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const p = await handle.query<AltaroProgress>('progress');
    if (p.step === 'track' && p.operation.status === 'Processing') return p;
    if (Date.now() > deadline) throw new Error(`never reached tracking: ${JSON.stringify(p)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const [workflowType, extra] of [
  ['altaroBackup', {}],
  ['altaroOperation', { kind: 'restore' }],
] as const) {
  test(`cancelling ${workflowType} during the operation aborts it at the vendor, ends cancelled, leaves no session`, async ({ h }) => {
    const handle = await h.start(workflowType, h.input(extra));
    const live = await waitForTracking(handle);
    const guid = live.operation.operationGuid!;
    await handle.cancel();

    await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);
    // The vendor recorded the abort for this run's operation, and the operation is gone.
    const aborts = h.calls('POST', /\/instructions\/abort-operation\//);
    assert.ok(
      aborts.some((c) => c.path.endsWith(`/${guid}`) && c.status === 200),
      `abort calls: ${JSON.stringify(aborts.map((c) => c.path))}`,
    );
    assert.deepEqual(
      h.state.aborts.filter((a) => a.guid === guid).map((a) => a.accepted),
      [true],
    );
    const progress = await handle.query<AltaroProgress>('progress');
    assert.equal(progress.state, 'cancelled');
    assert.match(progress.message ?? '', new RegExp(`abort-operation for ${guid}: abort accepted`));
    assert.equal(h.state.listedOperations().filter((o) => o.guid === guid && h.state.isRunning(o)).length, 0, 'nothing still running');
    const type = workflowType === 'altaroBackup' ? 'backup' : 'restore';
    const [report] = await vendorReports(h, type, h.demo.vmRef);
    assert.match(String(report?.Error), /aborted by the user/);
    assert.equal(await h.openSessions(), 0, 'no session left open');
    const description = await handle.describe();
    assert.deepEqual(description.searchAttributes.BackupOutcome, ['cancelled']);
  });
}

test('a cancel while the instruction is on its way still aborts the operation it started; no session is left', async ({ h }) => {
  const id = h.simulator.faults.add({ method: 'POST', path: '*/instructions/take-backup/*', action: { kind: 'delay', ms: 1500 } });
  try {
    h.simulator.calls.clear();
    const abortsBefore = h.state.aborts.length;
    const handle = await h.start('altaroBackup', h.input());
    const deadline = Date.now() + 10_000;
    while (!h.simulator.calls.all().some((c) => c.path.startsWith('/rest/sessions/start')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    await handle.cancel();
    await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);
    const instructions = h.calls('POST', /\/instructions\/take-backup\//);
    assert.equal(instructions.length, 1, 'the instruction reached the agent');
    const aborted = h.state.aborts.slice(abortsBefore).filter((a) => a.accepted);
    assert.equal(aborted.length, 1, 'the operation it started was aborted');
    assert.equal(h.state.listedOperations().filter((o) => h.state.isRunning(o)).length, 0, 'nothing left running at the vendor');
    const progress = await handle.query<AltaroProgress>('progress');
    assert.equal(progress.state, 'cancelled');
    assert.match(progress.message ?? '', /cancelled during "instruct"; abort-operation for .*: abort accepted/);
    assert.equal(await h.openSessions(), 0);
  } finally {
    h.simulator.faults.remove(id);
  }
});
