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

  const rejected = toActivityFailure(new VendorError({ vendor: 'ovirt', operation: 'GET /vms/x', status: 404, vendorMessage: 'Not Found', retryable: false })) as ApplicationFailure;
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

test('one builder turns an HTTP status into the error: retryable statuses are transient, others rejected or not found', async () => {
  const { HttpClient } = await import('../../lib/http/http-client');
  const http = new HttpClient({ vendor: 'azure', baseUrl: 'https://management.example' });
  const req = { method: 'GET' as const, path: '/jobs/1' };
  const of = (status: number, headers: Record<string, string | undefined> = {}) => http.statusError(req, { status, headers }, 'the vendor said so', 42);
  try {
    for (const status of [408, 409, 429, 500, 503]) {
      const err = of(status, { 'retry-after': '2' });
      assert.equal(err.type, 'VendorTransientError', String(status));
      assert.equal(err.retryAfterMs, 2000);
      assert.equal((toActivityFailure(err) as ApplicationFailure).nonRetryable, false);
    }
    for (const status of [400, 401, 403, 422]) {
      const failure = toActivityFailure(of(status)) as ApplicationFailure;
      assert.equal(failure.type, 'VendorRejectedError', String(status));
      assert.equal(failure.nonRetryable, true);
    }
    const missing = of(404);
    assert.equal(missing.type, 'VendorNotFoundError');
    assert.equal(missing.isNotFound, true);
    assert.equal(missing.code, '42');
    assert.equal(missing.message, 'Azure GET /jobs/1 → HTTP 404: the vendor said so');
  } finally {
    await http.close();
  }
});
