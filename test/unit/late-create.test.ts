/**
 * The late-create grace: a create whose answer timed out waits one more client timeout before its
 * attempt fails, and a cancel does not cut that wait short (the workflow waits for the create to
 * stop before it undoes; an undo run while the late create could still land would miss it).
 */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { VendorError } from '../../lib/errors';
import { failAfterLateCreateGrace } from '../../activities/late-create';

const timedOut = () => new VendorError({ vendor: 'ovirt', operation: 'POST /vms/{id}/snapshots', vendorMessage: 'no answer within 50 ms', retryable: true, code: 'UND_ERR_HEADERS_TIMEOUT' });

test('a cancel during the grace does not end it: the attempt fails with the timeout, after the grace', async () => {
  const env = new MockActivityEnvironment({ attempt: 1 });
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => heartbeats.push(d));
  let settled = false;
  const grace = env.run(() => failAfterLateCreateGrace(timedOut(), { timeoutMs: 1_500 })).finally(() => (settled = true));
  await new Promise((r) => setImmediate(r));
  env.cancel();
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'the grace is still running after the cancel');
  await assert.rejects(grace, (err: unknown) => err instanceof VendorError && err.code === 'UND_ERR_HEADERS_TIMEOUT');
  assert.ok(heartbeats.length >= 1, 'the grace heartbeats');
});

test('an error a late answer cannot follow (the vendor answered) fails at once', async () => {
  const env = new MockActivityEnvironment({ attempt: 1 });
  const refused = new VendorError({ vendor: 'ovirt', operation: 'POST /vms/{id}/snapshots', status: 409, vendorMessage: 'locked', retryable: true });
  await assert.rejects(
    env.run(() => failAfterLateCreateGrace(refused, { timeoutMs: 60_000 })),
    (err: unknown) => err === refused,
  );
});
