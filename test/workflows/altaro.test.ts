/**
 * altaroBackup and altaroOperation with stubbed activities on the time-skipping server: an
 * operation the run started is aborted when tracking fails or the run is cancelled, and not once
 * it is gone; a refused instruction leaves nothing to abort; an operation of a day is tracked in
 * a few slices.
 */
import { describe, expect, test } from 'vitest';
import { DAY_MS } from '../../bench/long-job-events';
import { VendorJob, altaroStubs } from '../helpers/stub-activities';
import { expectStepFailure, fails, hangsUntilCancelled, needsAttention, outcomeAttribute, progressOf, runEnd, slowly, stubServerForFile, type Script, type StepFailureCase } from './stub-worker';

const taskQueue = 'wf-altaro';
const VM = 'a1b2c3d4-0001-4000-8000-000000000001';
const ABORT = `abort take-backup operation on VM ${VM}`;

const server = stubServerForFile(taskQueue, altaroStubs(new VendorJob(60_000)));

async function start(workflowType: string, workflowId: string, script: Script, extra: Record<string, unknown> = {}) {
  server.world.script(workflowId, script);
  return server.env.client.workflow.start(workflowType, { taskQueue, workflowId, args: [{ endpoint: 'altaro-sim', vmRef: VM, ...extra }] });
}

describe("altaroBackup: a failure at each step aborts the operation only while it is the run's and running", () => {
  const cases: Array<StepFailureCase & { script: Script }> = [
    { step: 'instruct', failing: 'altaroCheckEndpoint', script: { altaroCheckEndpoint: fails('API session refused') }, undos: [], labels: [] },
    // Refused: no operation was started, so there is nothing to abort.
    { step: 'instruct', failing: 'altaroSendInstruction', script: { altaroSendInstruction: fails('Success:false, VM is busy') }, undos: [], labels: [] },
    { step: 'track', failing: 'altaroPollOperation', script: { altaroPollOperation: fails('operation status unreadable') }, undos: ['altaroAbortOperation'], labels: [ABORT] },
    {
      step: 'report',
      failing: 'altaroReadReport',
      script: { altaroReadReport: async () => ({ type: 'backup', report: { Result: 'Failed', DateTime: '2026-12-03-02-00-00', Error: 'VSS writer failed' }, result: 'failure' }) },
      undos: [],
      labels: [],
    },
  ];
  test.each(cases)('$failing fails at step "$step"', async (expected) => {
    const workflowId = `altaro-saga-${expected.failing}`;
    await start('altaroBackup', workflowId, expected.script);
    await expectStepFailure(server, workflowId, expected);
  });

  test("the failure says what the API answered to the abort, and a failed backup in the report's words", async () => {
    expect((await runEnd(server.env, 'altaro-saga-altaroPollOperation')).failure?.message).toMatch(/— compensation: abort-operation for op-1: aborted; undone: abort take-backup operation on VM \S+$/);
    expect((await runEnd(server.env, 'altaro-saga-altaroReadReport')).failure?.message).toMatch(/^step "report" failed: Altaro take-backup of VM \S+ ended "Failed": VSS writer failed/);
  });
});

test('cancelled while a day-long operation runs: tracking stops, the operation is aborted to the end, the run ends CANCELLED', async () => {
  const workflowId = 'altaro-cancel-track';
  const handle = await start('altaroBackup', workflowId, { altaroPollOperation: hangsUntilCancelled('track'), altaroAbortOperation: slowly('abort', 1500) });
  await server.world.reached(workflowId, 'track waiting');
  await handle.cancel();

  expect((await runEnd(server.env, workflowId)).status).toBe('CANCELLED');
  const log = server.world.log(workflowId);
  expect(log.slice(log.indexOf('track cancelled'))).toEqual(['track cancelled', 'altaroAbortOperation', 'abort finished']);
  expect(await progressOf(server.env, workflowId)).toMatchObject({
    state: 'cancelled',
    step: 'track',
    undone: [ABORT],
    message: `cancelled during "track"; abort-operation for op-1: aborted; undone: ${ABORT}`,
  });
  expect(await outcomeAttribute(server.env, workflowId)).toBe('cancelled');
});

test('an abort that keeps failing: the run needs attention, and when an operator gives up fails naming the operation left running', async () => {
  const workflowId = 'altaro-needs-attention';
  const handle = await start('altaroBackup', workflowId, {
    altaroPollOperation: fails('operation status unreadable'),
    altaroAbortOperation: fails('abort refused: operation not abortable', 'VendorConflict'),
  });
  expect((await needsAttention(server.env, workflowId)).leftovers).toEqual([{ label: ABORT, error: 'abort refused: operation not abortable' }]);

  await handle.signal('cleanup', { action: 'give-up' });
  const end = await runEnd(server.env, workflowId);
  expect(end.failure?.message).toBe(`step "track" failed: operation status unreadable — compensation: NOT undone, an operator gave up: ${ABORT} (LEFT BEHIND: abort refused: operation not abortable)`);
  expect(await outcomeAttribute(server.env, workflowId)).toBe('failed');
});

test.each(['altaroBackup', 'altaroOperation'])('%s of an operation that runs a day: tracked in a few slices, completed in seconds of test time', async (workflowType) => {
  const workflowId = `altaro-day-long-${workflowType}`;
  const { altaroPollOperation } = altaroStubs(new VendorJob(DAY_MS));
  await start(workflowType, workflowId, { altaroPollOperation: altaroPollOperation! }, workflowType === 'altaroOperation' ? { kind: 'take-offsitecopy' } : {});
  const end = await runEnd(server.env, workflowId);

  expect(end.status).toBe('COMPLETED');
  expect(end.result).toMatchObject({ outcome: 'success', operationGuid: 'op-1' });
  const slices = server.world.log(workflowId).filter((e) => e === 'altaroPollOperation').length;
  expect(slices).toBeGreaterThan(3);
  expect(slices).toBeLessThanOrEqual(40);
  expect(server.world.log(workflowId)).not.toContain('altaroAbortOperation');
});
