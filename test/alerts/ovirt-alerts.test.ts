/**
 * Alerts end to end: the main worker with a webhook (ALERT_WEBHOOK_URL, a secret in its
 * environment), the oVirt simulator and a local receiver. A failed backup posts exactly one line
 * naming the VM, the run, the step and the engine's reason, with the run's Web UI link; a good one
 * posts nothing; the URL is in no history (also the harness's secret scan at stop). rpoWatch reads
 * visibility: a freshly backed-up VM is within its RPO, a VM with no good backup is alerted once.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { RpoWatchResult } from '../../contracts/alerts/results';
import { ovirtTest } from '../helpers/fixtures';
import { eventually } from '../helpers/eventually';
import { startWebhookReceiver } from '../helpers/webhook-receiver';

const receiver = await startWebhookReceiver();
const dataDir = await mkdtemp(join(tmpdir(), 'alerts-data-'));
const test = ovirtTest({ secrets: { ALERT_WEBHOOK_URL: receiver.url }, workerEnv: { BACKUP_DATA_DIR: dataDir, TEMPORAL_UI_URL: 'http://ui.test:8233' } });
test.afterAll(() => receiver.close());
test.afterEach(({ h }) => h.simulator.faults.clear());

test('a failed backup posts one alert naming the VM, the run, the step and the reason, with the link; the URL is in no history', async ({ h }) => {
  h.simulator.faults.add({
    method: 'POST',
    path: '/vms/:id/snapshots',
    action: { kind: 'status', status: 400, message: 'Operation Failed', detail: '[Cannot create Snapshot. Storage Domain is out of space.]' },
  });
  const workflowId = `alert-fail-${Date.now()}`;
  const handle = await h.client.workflow.start('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId, args: [h.input()] });
  const err = await handle.result().catch((e: unknown) => e);
  // The run fails as it did before alerts existed.
  assert.ok(err instanceof WorkflowFailedError);
  assert.match(err.cause!.message, /^step "snapshot" failed: .*Storage Domain is out of space/);
  const runId = handle.firstExecutionRunId;

  const mine = receiver.received.filter((r) => r.body.workflowId === workflowId);
  assert.equal(mine.length, 1);
  const alert = mine[0]!.body;
  const link = `http://ui.test:8233/namespaces/default/workflows/${workflowId}/${runId}/history`;
  assert.deepEqual(
    { event: alert.event, provider: alert.provider, vmId: alert.vmId, runId: alert.runId, step: alert.step, uiUrl: alert.uiUrl, eventId: alert.eventId },
    { event: 'failed', provider: 'ovirt', vmId: h.demo.vmId, runId, step: 'snapshot', uiUrl: link, eventId: `failed:${workflowId}:${runId}` },
  );
  assert.match(alert.reason, /HTTP 400: .*Storage Domain is out of space/);
  assert.match(
    alert.text,
    new RegExp(`^VM ${h.demo.vmId} \\(ovirt\\): ovirtSnapshotBackup failed at step "snapshot": .*Storage Domain is out of space.* — run ${workflowId}/${runId} ${link.replace(/[.]/g, '\\.')}$`),
  );
  assert.equal(mine[0]!.headers['idempotency-key'], alert.eventId);

  const history = historyToJSON(await handle.fetchHistory());
  const key = new URL(receiver.url).pathname.split('/').pop()!;
  assert.ok(history.includes('sendAlert'), 'the alert is an activity of the run');
  assert.ok(!history.includes(key) && !history.includes(Buffer.from(key).toString('base64').slice(0, 8)), 'the webhook URL is in the history');
});

test('a good backup posts nothing; rpoWatch finds it in visibility (within the RPO) and alerts once for a VM with no good backup', async ({ h }) => {
  const before = receiver.received.length;
  await h.execute('ovirtSnapshotBackup', h.input());
  assert.equal(receiver.received.length, before);

  const input = {
    targets: [
      { provider: 'ovirt', vmId: h.demo.vmId, expectedIntervalMinutes: 60, graceMinutes: 30 },
      { provider: 'ovirt', vmId: 'never-backed-up', expectedIntervalMinutes: 60 },
    ],
  };
  // Visibility shows a closed run's search attributes a moment after it closed.
  const result = await eventually(
    () => h.execute<RpoWatchResult>('rpoWatch', input),
    (r) => r.checked[0]!.lastSuccessAt !== undefined,
  );
  assert.equal(result.checked[0]!.missed, false);
  assert.ok(Date.parse(result.checked[0]!.dueAt!) - Date.parse(result.checked[0]!.lastSuccessAt!) === 90 * 60_000);
  assert.equal(result.checked[1]!.missed, true);
  await h.execute<RpoWatchResult>('rpoWatch', input);
  const rpo = receiver.received.filter((r) => r.body.event === 'rpo-missed');
  assert.equal(rpo.length, 1);
  assert.equal(rpo[0]!.body.vmId, 'never-backed-up');
  assert.match(rpo[0]!.body.text, /^VM never-backed-up \(ovirt\) missed its RPO: no good backup found, expected every 1h/);
});

test('rpoWatch with no targets watches every backup schedule at its interval', async ({ h }) => {
  const scheduleId = `rpo-${Date.now()}`;
  await h.client.schedule.create({
    scheduleId,
    spec: { intervals: [{ every: '6h' }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'scheduledBackup',
      taskQueue: h.taskQueue,
      workflowId: `scheduled-${scheduleId}`,
      args: [{ scheduleId, workflowType: 'ovirtSnapshotBackup', input: h.input({ vmId: 'scheduled-vm' }) }],
    },
  });
  try {
    const result = await h.execute<RpoWatchResult>('rpoWatch', {});
    const watched = result.checked.find((c) => c.vmId === 'scheduled-vm');
    assert.deepEqual({ ...watched, alert: undefined }, { provider: 'ovirt', vmId: 'scheduled-vm', expectedIntervalMinutes: 360, graceMinutes: 60, missed: true, alert: undefined });
    assert.equal(watched!.alert!.sent, true);
  } finally {
    await h.client.schedule.getHandle(scheduleId).delete();
  }
});
