import { test } from 'vitest';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { VendorError, isRetryableStatus, parseRetryAfter, toActivityFailure, withFailureMapping } from '../../lib/errors';

test('Retry-After in seconds and as an HTTP date', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6_000);
  assert.equal(parseRetryAfter(undefined), undefined);
  assert.equal(parseRetryAfter('soon'), undefined);
});

test('which statuses a retry can help', () => {
  for (const s of [408, 409, 429, 500, 502, 503, 504]) assert.ok(isRetryableStatus(s), String(s));
  for (const s of [400, 401, 403, 404, 422]) assert.ok(!isRetryableStatus(s), String(s));
});

test('a vendor error becomes an ApplicationFailure that carries the retry decision', () => {
  const transient = toActivityFailure(
    new VendorError({ vendor: 'ovirt', operation: 'POST /vms/1/snapshots', status: 429, vendorMessage: 'slow down', retryable: true, retryAfterMs: 2000 }),
  ) as ApplicationFailure;
  assert.ok(transient instanceof ApplicationFailure);
  assert.equal(transient.nonRetryable, false);
  assert.equal(transient.nextRetryDelay, 2000);
  assert.equal(transient.message, 'oVirt POST /vms/1/snapshots → HTTP 429: slow down');

  const rejected = toActivityFailure(
    new VendorError({ vendor: 'ovirt', operation: 'GET /vms/x', status: 404, vendorMessage: 'Not Found', retryable: false }),
  ) as ApplicationFailure;
  assert.equal(rejected.nonRetryable, true);
  assert.equal(rejected.type, 'VendorNotFoundError');
  assert.deepEqual(rejected.details, [{ vendor: 'ovirt', operation: 'GET /vms/x', status: 404, vendorMessage: 'Not Found', code: undefined }]);
});

test('activity objects are wrapped so every thrown vendor error is mapped', async () => {
  const wrapped = withFailureMapping({
    async fails() {
      throw new VendorError({ vendor: 'altaro', operation: 'x', vendorMessage: 'no', retryable: false });
    },
  });
  await assert.rejects(wrapped.fails(), (err: unknown) => err instanceof ApplicationFailure && err.nonRetryable === true);
});
