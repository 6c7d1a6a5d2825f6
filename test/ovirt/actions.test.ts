/**
 * Cost on Temporal Cloud: the billable actions of one oVirt backup of the example's demo VM (two
 * eligible disks) against the simulator, counted from its history by bench/lib/actions.ts and,
 * for what no history shows (heartbeats, queries), from the dev server's own `action` metric.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { actionDelta, countActions, describeActions, serverActions } from '../../bench/lib/actions';
import type { OvirtBackupManifest } from '../../contracts/ovirt/results';
import { eventually } from '../helpers/eventually';
import { startOvirtHarness, type OvirtHarness } from '../helpers/ovirt-harness';
import { freePort } from '../helpers/ports';

/** The budget of one successful backup of a two-disk VM (issue #22). */
const BUDGET = 16;

describe('billable actions of one oVirt backup', () => {
  let h: OvirtHarness;
  let metricsUrl: string;
  beforeAll(async () => {
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    h = await startOvirtHarness({ serverArgs: ['--metrics-port', String(port)] });
  });
  afterAll(async () => h?.stop());

  test(`the example backup (two disks) costs at most ${BUDGET} actions, heartbeats included`, async () => {
    const example = JSON.parse(readFileSync(new URL('../../examples/ovirtSnapshotBackup.json', import.meta.url), 'utf8'));
    const before = await serverActions(metricsUrl);
    const handle = await h.client.workflow.start('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: `actions-${Date.now()}`, args: [{ ...h.input(), ...example, pollIntervalMs: 100 }] });
    const manifest = (await handle.result()) as OvirtBackupManifest;
    assert.equal(manifest.disks.length, 2);
    // The server's metrics are exported every second or so: read once they have settled.
    let server: Record<string, number> = {};
    for (let read = 0; read < 10; read++) {
      await new Promise((r) => setTimeout(r, 1500));
      const now = actionDelta(before, await serverActions(metricsUrl));
      if (JSON.stringify(now) === JSON.stringify(server)) break;
      server = now;
    }
    const heartbeats = server.grpc_RecordActivityTaskHeartbeat ?? 0;
    const count = countActions(await handle.fetchHistory(), { heartbeats, queries: server.grpc_QueryWorkflow ?? 0 });
    console.log(`ovirtSnapshotBackup: ${describeActions(count)}`);
    for (const item of count.items) console.log(`  #${item.eventId} ${item.kind} ${item.actions}: ${item.what}`);
    console.log(`  server action metric for the run: ${JSON.stringify(server)}`);
    // The history count agrees with the server's own metric on what both see.
    assert.equal(server.grpc_StartWorkflowExecution, 1);
    assert.equal(server.command_ScheduleActivityTask ?? 0, count.byKind.activities);
    assert.ok(count.total <= BUDGET, `${describeActions(count)} > ${BUDGET}`);
  });

  test('what admins list by stays: a failed run is found by the step it failed in, an ordinary one has no BackupStep', async () => {
    const ids = (query: string) => async () => {
      const found: string[] = [];
      for await (const run of h.client.workflow.list({ query })) found.push(run.workflowId);
      return found;
    };
    const workflowId = `actions-failed-${Date.now()}`;
    const handle = await h.client.workflow.start('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId, args: [h.input({ vmId: '6f2a0d3e-5b1c-4c8e-9a10-0000000000ff' })] });
    await assert.rejects(handle.result());
    await eventually(ids('BackupOutcome="failed" AND BackupStep="preflight"'), (found) => found.includes(workflowId));
    const completed = await eventually(ids('BackupOutcome="completed"'), (found) => found.length > 0);
    const withStep = await ids('BackupStep IS NOT NULL')();
    assert.ok(!completed.some((id) => withStep.includes(id)), `completed runs carry no BackupStep: ${withStep.join(', ')}`);
  });
});
