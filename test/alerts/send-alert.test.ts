/**
 * sendAlert against a local receiver standing in for the webhook: what it posts (generic JSON,
 * Slack's one line), once per event (the ledger; the Idempotency-Key when a reply was lost), how it
 * fails (5xx retryable, 4xx not, never naming the URL), and nothing at all without a webhook.
 */
import { afterAll, beforeAll, beforeEach, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createAlertActivities } from '../../activities/alerts/activities';
import type { AlertConfig } from '../../activities/alerts/settings';
import type { AlertEvent } from '../../contracts/alerts/events';
import { withFailureMapping } from '../../lib/errors';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';

let receiver: WebhookReceiver;
let dir: string;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  dir = await mkdtemp(join(tmpdir(), 'alerts-'));
});
afterAll(async () => {
  for (const close of closers) await close();
  await receiver.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  receiver.received.length = 0;
  receiver.answers.length = 0;
});

let runs = 0;
function event(overrides: Partial<AlertEvent> = {}): AlertEvent {
  runs++;
  return {
    kind: 'failed',
    provider: 'ovirt',
    vmId: 'vm-1',
    workflowType: 'ovirtSnapshotBackup',
    workflowId: 'backup-ovirt-vm-1',
    runId: `run-${runs}`,
    step: 'snapshot',
    reason: 'oVirt POST /vms/vm-1/snapshots → HTTP 400: Storage Domain is out of space\nsecond line',
    at: '2026-12-01T02:00:00.000Z',
    ...overrides,
  };
}

function sender(config: Partial<AlertConfig> = {}) {
  const { activities, close } = createAlertActivities({
    webhookUrl: receiver.url,
    format: 'json',
    uiBaseUrl: 'http://ui.example:8233/',
    namespace: 'backups',
    ledgerPath: join(dir, `ledger-${Math.random().toString(36).slice(2)}.log`),
    ...config,
  });
  closers.push(close);
  // As the worker registers it: failures mapped to Temporal's retry decision.
  return withFailureMapping(activities);
}

test('generic JSON: every field, the one line, the run link, and the event id in the body and the Idempotency-Key header', async () => {
  const e = event();
  const result = await sender().sendAlert(e);
  assert.deepEqual(result, { sent: true, eventId: `failed:backup-ovirt-vm-1:${e.runId}` });
  assert.equal(receiver.received.length, 1);
  const [got] = receiver.received;
  const uiUrl = `http://ui.example:8233/namespaces/backups/workflows/backup-ovirt-vm-1/${e.runId}/history`;
  assert.deepEqual(got!.body, {
    event: 'failed',
    provider: 'ovirt',
    vmId: 'vm-1',
    workflowType: 'ovirtSnapshotBackup',
    workflowId: 'backup-ovirt-vm-1',
    runId: e.runId,
    step: 'snapshot',
    reason: e.reason,
    uiUrl,
    at: e.at,
    eventId: result.eventId,
    text: `VM vm-1 (ovirt): ovirtSnapshotBackup failed at step "snapshot": oVirt POST /vms/vm-1/snapshots → HTTP 400: Storage Domain is out of space second line — run backup-ovirt-vm-1/${e.runId} ${uiUrl}`,
  });
  assert.equal(got!.headers['idempotency-key'], result.eventId);
  assert.equal(got!.headers['content-type'], 'application/json');
});

test('slack: {"text": one line} naming the VM, the run, the step and the reason, with the link', async () => {
  const e = event({ kind: 'needs-attention', step: 'attach', reason: 'undo kept failing: detach disk os (HTTP 500)' });
  await sender({ format: 'slack' }).sendAlert(e);
  assert.equal(receiver.received.length, 1);
  const body = receiver.received[0]!.body;
  assert.deepEqual(Object.keys(body), ['text']);
  assert.doesNotMatch(body.text, /\n/);
  assert.match(
    body.text,
    new RegExp(
      `^VM vm-1 \\(ovirt\\): ovirtSnapshotBackup needs attention at step "attach": undo kept failing: detach disk os \\(HTTP 500\\) — run backup-ovirt-vm-1/${e.runId} http://ui\\.example:8233/namespaces/backups/workflows/backup-ovirt-vm-1/${e.runId}/history$`,
    ),
  );
});

test('once per event: an attempt retried after a delivery whose completion was lost finds it in the ledger and does not post again', async () => {
  const ledgerPath = join(dir, 'once.log');
  const send = sender({ ledgerPath });
  const e = event();
  const first = await send.sendAlert(e);
  // The worker died before Temporal heard of the success: the activity runs again, same input.
  const retried = await send.sendAlert(e);
  assert.equal(receiver.received.length, 1);
  assert.deepEqual(retried, { sent: true, eventId: first.eventId, reason: 'delivered before' });
  // A worker restarted on the same host reads the same ledger.
  assert.equal((await sender({ ledgerPath }).sendAlert(e)).reason, 'delivered before');
  assert.equal(receiver.received.length, 1);
  assert.deepEqual((await readFile(ledgerPath, 'utf8')).split('\n'), [first.eventId, '']);
});

test('a reply lost on the way back: the attempt fails retryable, and the retry carries the same Idempotency-Key for the receiver to drop', async () => {
  const send = sender();
  const e = event();
  receiver.answers.push('drop');
  const err = await send.sendAlert(e).catch((x: unknown) => x);
  assert.ok(err instanceof ApplicationFailure);
  assert.equal(err.nonRetryable, false);
  await send.sendAlert(e);
  assert.equal(receiver.received.length, 2);
  assert.equal(receiver.received[0]!.headers['idempotency-key'], receiver.received[1]!.headers['idempotency-key']);
  assert.deepEqual(receiver.received[0]!.body, receiver.received[1]!.body);
});

test('5xx is retried, 4xx is not; no failure names the webhook URL (its path is its key)', async () => {
  const send = sender();
  receiver.answers.push({ status: 503 });
  const busy = await send.sendAlert(event()).catch((x: unknown) => x);
  assert.ok(busy instanceof ApplicationFailure);
  assert.equal(busy.nonRetryable, false);
  receiver.answers.push({ status: 404 });
  const gone = await send.sendAlert(event()).catch((x: unknown) => x);
  assert.ok(gone instanceof ApplicationFailure);
  assert.equal(gone.nonRetryable, true);
  assert.match(gone.message, /alert webhook POST alert webhook → HTTP 404: refused \(404\)/);
  const path = new URL(receiver.url).pathname;
  for (const failure of [busy, gone]) assert.ok(!JSON.stringify({ m: failure.message, d: failure.details }).includes(path.slice(1)), failure.message);
  // Nothing answers: retryable, and still no URL.
  const { activities, close } = createAlertActivities({ webhookUrl: `http://127.0.0.1:1${path}`, format: 'json', uiBaseUrl: 'http://ui', namespace: 'default', ledgerPath: join(dir, 'down.log') });
  closers.push(close);
  const down = await withFailureMapping(activities)
    .sendAlert(event())
    .catch((x: unknown) => x);
  assert.ok(down instanceof ApplicationFailure);
  assert.equal(down.nonRetryable, false);
  assert.ok(!JSON.stringify({ m: down.message, d: down.details }).includes(path.slice(1)), down.message);
});

test('no webhook configured: { sent: false } with the reason, nothing posted, no error', async () => {
  const result = await sender({ webhookUrl: undefined }).sendAlert(event());
  assert.equal(result.sent, false);
  assert.match(result.reason!, /no alert webhook configured \(ALERT_WEBHOOK_URL/);
  assert.equal(receiver.received.length, 0);
});
