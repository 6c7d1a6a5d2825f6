/**
 * fleetBackup's logic on Temporal's time-skipping test server, with a stub in place of the vendor
 * workflow (test/fleet/stub-workflows.ts): a fleet of thousands keeps every payload of every run
 * small and still gives the full table; a cancelled fleet ends cancelled, its running children
 * undo, and its table says which VMs were cancelled and which never started. (What a terminated
 * fleet does to its children is tested end to end in fleet.test.ts: this server left the
 * children of a terminated fleet running.)
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { createFleetTableActivities } from '../../activities/fleet-table';
import { BackupClient } from '../../client/backup-client';
import { bundlerLogger, workflowPreloadModules } from '../../workers/workflow-bundle';
import type { FleetCounts, FleetResult } from '../../contracts/fleet/results';
import { assertReplays } from '../helpers/replay';
import { startTimeSkippingTemporal, testDataConverter } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';

const taskQueue = 'fleet-logic';
const defaults = { endpoint: 'ovirt-sim', proxyVmId: 'proxy-1' };
const PAYLOAD_WARN_BYTES = 256 * 1024;
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let backups: BackupClient;
const undone: string[] = [];

beforeAll(async () => {
  env = await startTimeSkippingTemporal();
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./stub-workflows.ts', import.meta.url)),
    preloadModules: workflowPreloadModules,
    logger: bundlerLogger,
  });
  worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle,
    dataConverter: testDataConverter,
    activities: {
      ...createFleetTableActivities(),
      async stubUndo({ vmId }: { vmId: string }) {
        undone.push(vmId);
      },
    },
  });
  running = worker.run();
  backups = new BackupClient(env.client, taskQueue);
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

/** The histories of every run of a workflow's continue-as-new chain, oldest first. */
async function chainHistories(client: Client, workflowId: string) {
  const histories = [];
  for (let runId: string | undefined = (await client.workflow.getHandle(workflowId).describe()).runId; runId;) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    histories.unshift(history);
    runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  return histories;
}

/** Every payload anywhere in an event (inputs, results, continue-as-new input, markers, …), with its size. */
function payloads(value: unknown, where: string, out: Array<{ where: string; bytes: number }>): void {
  if (!value || typeof value !== 'object' || value instanceof Uint8Array) return;
  const v = value as Record<string, unknown>;
  if (v.data instanceof Uint8Array && v.metadata && typeof v.metadata === 'object') {
    let bytes = v.data.length;
    for (const m of Object.values(v.metadata as Record<string, unknown>)) if (m instanceof Uint8Array) bytes += m.length;
    out.push({ where, bytes });
    return;
  }
  for (const [key, child] of Object.entries(v)) payloads(child, `${where}.${key}`, out);
}

test('5,000 VMs, 30 % failing: the fleet completes, no payload of any run reaches 256 KB, and the table has every VM', async (t) => {
  const started = Date.now();
  const vms = Array.from({ length: 5000 }, (_, i) => ({ vmId: i % 10 < 3 ? `vm-${i}-fail` : `vm-${i}` }));
  const workflowId = 'fleet-5000';
  const handle = await env.client.workflow.start('fleetBackup', { taskQueue, workflowId, args: [{ workflowType: 'ovirtSnapshotBackup', defaults, vms, maxConcurrent: 200 }] });
  const result = (await handle.result()) as FleetResult;
  console.log(`fleet of 5,000 stub children ran in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const histories = await chainHistories(env.client, workflowId);
  assert.equal(histories.length, 10, 'one history per run of the chain');
  const sizes: Array<{ where: string; bytes: number }> = [];
  histories.forEach((history, run) => history.events?.forEach((event, i) => payloads(event, `run ${run + 1} event ${i + 1}`, sizes)));
  const largest = sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  console.log(`${sizes.length} payloads; the largest ${largest.bytes} bytes at ${largest.where}`);
  assert.deepEqual(
    sizes.filter((s) => s.bytes > PAYLOAD_WARN_BYTES),
    [],
    'no payload reaches 256 KB',
  );

  assert.deepEqual(
    { total: result.counts.total, succeeded: result.counts.succeeded, failed: result.counts.failed, skipped: result.counts.skipped, runs: result.counts.runs },
    { total: 5000, succeeded: 3500, failed: 1500, skipped: 0, runs: 10 },
  );
  assert.equal(result.recentFailures.length, 100);
  // The last run alone had 150 failures: the newest 100 are all its own.
  for (const f of result.recentFailures) assert.match(f.reason!, /^the engine refused vm-(4[5-9]\d\d)-fail$/);
  assert.equal(new Set(result.recentFailures.map((f) => f.vm)).size, 100);

  const table = await backups.fleetTable(workflowId);
  assert.equal(table.status, 'COMPLETED');
  assert.equal(table.runs, 10);
  assert.equal(table.rows.length, 5000);
  assert.equal(new Set(table.rows.map((r) => r.vm)).size, 5000, 'every VM once');
  assert.deepEqual(table.counts, { succeeded: 3500, failed: 1500, skipped: 0, cancelled: 0, 'not-started': 0 });
  const failed = table.rows.filter((r) => r.outcome === 'failed');
  assert.deepEqual(
    failed.map((r) => r.vm).sort(),
    vms
      .filter((v) => v.vmId.endsWith('-fail'))
      .map((v) => v.vmId)
      .sort(),
  );
  for (const row of failed) assert.match(row.reason!, new RegExp(`the engine refused ${row.vm}$`));
});

test('a cancelled fleet ends cancelled: running children undo, the table says which VMs were cancelled and which never started', async () => {
  undone.length = 0;
  const vms = ['c-ok-0', 'c-hold-1', 'c-hold-2', 'c-ok-3', 'c-hold-4', 'c-ok-5'].map((vmId) => ({ vmId }));
  const workflowId = 'fleet-cancelled';
  const handle = await env.client.workflow.start('fleetBackup', { taskQueue, workflowId, args: [{ workflowType: 'ovirtSnapshotBackup', defaults, vms, maxConcurrent: 2 }] });
  await eventually(
    () => handle.query<FleetCounts>('fleetCounts'),
    (c) => c.succeeded === 1 && c.running === 2,
  );

  await handle.cancel();
  await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);
  assert.equal((await handle.describe()).status.name, 'CANCELLED');
  assert.deepEqual(undone.sort(), ['c-hold-1', 'c-hold-2'], 'each running child ran its compensation');
  for (const vm of ['c-hold-1', 'c-hold-2']) assert.equal((await env.client.workflow.getHandle(`backup-ovirt-${vm}`).describe()).status.name, 'CANCELLED');

  const counts = await handle.query<FleetCounts>('fleetCounts');
  assert.deepEqual(
    { succeeded: counts.succeeded, failed: counts.failed, cancelled: counts.cancelled, notStarted: counts.notStarted, running: counts.running },
    { succeeded: 1, failed: 0, cancelled: 2, notStarted: 3, running: 0 },
  );
  const table = await backups.fleetTable(workflowId);
  assert.equal(table.status, 'CANCELLED');
  assert.deepEqual(Object.fromEntries(table.rows.map((r) => [r.vm, r.outcome])), {
    'c-ok-0': 'succeeded',
    'c-hold-1': 'cancelled',
    'c-hold-2': 'cancelled',
    'c-ok-3': 'not-started',
    'c-hold-4': 'not-started',
    'c-ok-5': 'not-started',
  });
  await assert.rejects(backups.result(workflowId), /was cancelled/);
});

test("every fleet run of this file replays against today's workflow code (determinism)", async () => {
  const runs = [...(await chainHistories(env.client, 'fleet-5000')), ...(await chainHistories(env.client, 'fleet-cancelled'))];
  assert.equal(await assertReplays(runs.map((history, i) => ({ workflowId: `fleet run ${i + 1}`, history }))), 11);
});
