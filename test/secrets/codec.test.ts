/** Payload encryption: round trip, key rotation, the codec server the UI calls, and the scan itself. */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { ApplicationFailure, defaultPayloadConverter, type FailureConverter } from '@temporalio/common';
import { AesGcmCodec, ENCRYPTED_ENCODING } from '../../lib/codec/aes-gcm-codec';
import { CodecServer } from '../../lib/codec/codec-server';
import { failureConverterPath, parseCodecKeys } from '../../lib/codec/keys';
import { findSecrets, plaintextFailures } from '../helpers/secret-scan';

const key = () => randomBytes(32);
const payload = defaultPayloadConverter.toPayload({ endpoint: 'ovirt-sim', vmId: 'web-01', note: 'sensitive-looking text' });

test('encode hides the payload, decode restores it exactly', async () => {
  const codec = new AesGcmCodec({ activeKeyId: 'k1', keys: { k1: key() } });
  const [encoded] = await codec.encode([payload]);
  assert.equal(Buffer.from(encoded!.metadata!.encoding!).toString(), ENCRYPTED_ENCODING);
  assert.equal(Buffer.from(encoded!.metadata!['encryption-key-id']!).toString(), 'k1');
  assert.ok(!Buffer.from(encoded!.data!).toString('latin1').includes('web-01'));
  const [decoded] = await codec.decode([encoded!]);
  assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), { endpoint: 'ovirt-sim', vmId: 'web-01', note: 'sensitive-looking text' });
  const [again] = await codec.encode([payload]);
  assert.notDeepEqual(again!.data, encoded!.data, 'a fresh IV every time');
});

test('rotation: new payloads use the active key, old ones still decrypt; a missing key is a clear error', async () => {
  const old = key();
  const before = new AesGcmCodec({ activeKeyId: '2026-05', keys: { '2026-05': old } });
  const [oldPayload] = await before.encode([payload]);
  const rotated = new AesGcmCodec({ activeKeyId: '2026-11', keys: { '2026-05': old, '2026-11': key() } });
  assert.deepEqual(
    await rotated.decode([oldPayload!]),
    [payload].map((p) => ({ metadata: p.metadata, data: p.data })),
  );
  const [newPayload] = await rotated.encode([payload]);
  assert.equal(Buffer.from(newPayload!.metadata!['encryption-key-id']!).toString(), '2026-11');
  await assert.rejects(before.decode([newPayload!]), /encrypted with key "2026-11", which this process does not have/);
  const tampered = { ...newPayload!, data: Uint8Array.from(newPayload!.data!, (b, i) => (i === 20 ? b ^ 1 : b)) };
  await assert.rejects(rotated.decode([tampered]), /auth/i, 'GCM refuses a changed ciphertext');
  assert.deepEqual(await rotated.decode([payload]), [payload], 'unencrypted payloads pass through');
});

test('key files are checked', () => {
  assert.throws(() => parseCodecKeys('{"activeKeyId":"a","keys":{"a":"c2hvcnQ="}}', 'keys.json'), /keys\.json is invalid: keys\.a: a 32-byte key/);
  assert.throws(() => new AesGcmCodec({ activeKeyId: 'b', keys: { a: key() } }), /active codec key "b"/);
});

test('the codec server decodes for the UI origin only, and requires a token', async () => {
  const codec = new AesGcmCodec({ activeKeyId: 'k', keys: { k: key() } });
  const server = new CodecServer({ codec, allowedOrigins: ['http://127.0.0.1:8233'], auth: { tokens: ['ui-token-1234567'] } });
  const url = await server.start(0);
  try {
    const [encoded] = await codec.encode([payload]);
    const json = {
      payloads: [{ metadata: Object.fromEntries(Object.entries(encoded!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(encoded!.data!).toString('base64') }],
    };
    const headers = { 'content-type': 'application/json', 'x-namespace': 'default', origin: 'http://127.0.0.1:8233' };
    const denied = await fetch(`${url}/decode`, { method: 'POST', headers, body: JSON.stringify(json) });
    assert.equal(denied.status, 401);
    const res = await fetch(`${url}/decode`, { method: 'POST', headers: { ...headers, authorization: 'Bearer ui-token-1234567' }, body: JSON.stringify(json) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://127.0.0.1:8233');
    const body = (await res.json()) as { payloads: Array<{ data: string }> };
    assert.deepEqual(JSON.parse(Buffer.from(body.payloads[0]!.data, 'base64').toString()), { endpoint: 'ovirt-sim', vmId: 'web-01', note: 'sensitive-looking text' });
    const preflight = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null, 'other origins get no CORS grant');
  } finally {
    await server.stop();
  }
});

test('the secret scan finds a secret in plaintext, base64 and URL-encoded form', () => {
  const secret = 'P@ss word/with+signs';
  const texts = [
    { where: 'a', text: `...${secret}...` },
    { where: 'b', text: Buffer.from(`{"password":"${secret}"}`).toString('base64') },
    { where: 'c', text: `path/${encodeURIComponent(secret)}/x` },
    { where: 'd', text: 'nothing here' },
  ];
  const hits = findSecrets(texts, [secret]);
  // b: inside a larger base64 text, at whatever alignment the surrounding JSON puts it.
  assert.deepEqual([...new Set(hits.map((h) => h.where))].sort(), ['a', 'b', 'c']);
  assert.ok(hits.some((h) => h.where === 'b' && h.form === 'base64'));
});

test('payloads encrypted in the earlier JSON format still decrypt (histories and schedules written before the protobuf format)', async () => {
  // Made by the codec before it encoded payloads as protobuf, with the fixed key below.
  const legacy = {
    metadata: { encoding: new Uint8Array(Buffer.from(ENCRYPTED_ENCODING)), 'encryption-key-id': new Uint8Array(Buffer.from('legacy')) },
    data: new Uint8Array(
      Buffer.from(
        'cayeruJmZvzE6pqvxp4eRGOvESGjEblHrGlEa0GMJFbx5HJ0ROs2FOgW7THE1xy8JsHGd54zRtZTsuFHH73Nk/hgpOz2DiBDMW/KdyeTfxaXJhOpOtgy/H4+WMZMZrlLZhzkrJYHXONS50C9Vd4nrEKG9VQE1lqBlDnjhbKKrFPC8XGMZPqaFeEp',
        'base64',
      ),
    ),
  };
  const codec = new AesGcmCodec({ activeKeyId: 'new', keys: { legacy: Buffer.alloc(32, 7), new: key() } });
  const [decoded] = await codec.decode([legacy]);
  assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), { endpoint: 'ovirt-sim', vmId: 'web-01' });
});

test('the encrypted form is the Payload protobuf: smaller than the JSON form for a few KiB of XML, and exact for binary data', async () => {
  const codec = new AesGcmCodec({ activeKeyId: 'k1', keys: { k1: key() } });
  const ovf = defaultPayloadConverter.toPayload({ type: 'ovf', data: `<?xml version="1.0"?><Envelope>${'<Section a="b">text</Section>'.repeat(100)}</Envelope>` });
  const [encoded] = await codec.encode([ovf]);
  const jsonForm = JSON.stringify({ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from(ovf.data!).toString('base64') });
  assert.ok(encoded!.data!.length < jsonForm.length * 0.8, `${encoded!.data!.length} bytes encrypted against ${jsonForm.length} for the JSON form`);
  const binary = { metadata: { encoding: new Uint8Array(Buffer.from('binary/plain')) }, data: new Uint8Array(randomBytes(300)) };
  const [round] = await codec.decode(await codec.encode([binary]));
  assert.deepEqual(round, binary);
});

test('a failure travels encoded: message and stack in an encrypted payload that the codec server decodes back to the one-line reason', async () => {
  const { failureConverter } = createRequire(import.meta.url)(failureConverterPath) as { failureConverter: FailureConverter };
  const codec = new AesGcmCodec({ activeKeyId: 'k', keys: { k: key() } });
  const failure = failureConverter.errorToFailure(ApplicationFailure.nonRetryable('oVirt add snapshot → HTTP 400: Low disk space on /data/ovirt', 'VendorError'), defaultPayloadConverter);
  assert.equal(failure.message, 'Encoded failure');
  assert.equal(failure.stackTrace, '');
  const [encrypted] = await codec.encode([failure.encodedAttributes!]);
  assert.ok(!Buffer.from(encrypted!.data!).toString('latin1').includes('Low disk space'));
  const server = new CodecServer({ codec, allowedOrigins: ['http://127.0.0.1:8233'], auth: { tokens: ['failure-token-123456'] } });
  const url = await server.start(0);
  try {
    const json = {
      payloads: [
        { metadata: Object.fromEntries(Object.entries(encrypted!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(encrypted!.data!).toString('base64') },
      ],
    };
    const res = await fetch(`${url}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: 'http://127.0.0.1:8233', authorization: 'Bearer failure-token-123456' },
      body: JSON.stringify(json),
    });
    const body = (await res.json()) as { payloads: Array<{ data: string }> };
    const attributes = JSON.parse(Buffer.from(body.payloads[0]!.data, 'base64').toString()) as { message: string; stack_trace: string };
    assert.equal(attributes.message, 'oVirt add snapshot → HTTP 400: Low disk space on /data/ovirt');
    assert.match(attributes.stack_trace, /ApplicationFailure/);
  } finally {
    await server.stop();
  }
});

test('the secret scan finds failure messages and stack traces a history keeps as text', () => {
  const history = (failure: object) => ({ where: 'h', text: JSON.stringify({ events: [{ workflowExecutionFailedEventAttributes: { failure } }] }) });
  const hits = plaintextFailures([
    history({ message: 'Low disk space', stackTrace: 'at /work/activities/ovirt.ts:12', applicationFailureInfo: {} }),
    history({ message: 'Encoded failure', stackTrace: '', encodedAttributes: { data: 'x' }, applicationFailureInfo: {} }),
  ]);
  assert.deepEqual(
    hits.map((h) => h.form),
    ['failure message "Low disk space"', 'failure stack trace "at /work/activities/ovirt.ts:12"'],
  );
});
