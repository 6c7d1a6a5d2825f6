/**
 * Nobody decrypts through the codec server without a credential: the bearer token, or the Web UI's
 * forwarded access token checked as a JWT against the issuer's JWKS or a public key file. CORS
 * preflights stay answerable; a codec server with nothing configured does not start.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign, createHmac, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AesGcmCodec } from '../../lib/codec/aes-gcm-codec';
import { codecAuthFromEnv, ensureLocalCodecToken, type CodecAuthOptions } from '../../lib/codec/codec-auth';
import { CodecServer } from '../../lib/codec/codec-server';
import { projectRoot } from '../../lib/temporal/cli-path';

const UI = 'http://127.0.0.1:8233';
const TOKEN = 'codec-token-0123456789abcdef';
const codec = new AesGcmCodec({ activeKeyId: 'k', keys: { k: randomBytes(32) } });

async function encodedBody(): Promise<string> {
  const [p] = await codec.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"vmId":"web-01"}') }]);
  return JSON.stringify({
    payloads: [{ metadata: Object.fromEntries(Object.entries(p!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(p!.data!).toString('base64') }],
  });
}

async function withServer(
  auth: CodecAuthOptions,
  fn: (decode: (headers?: Record<string, string>) => Promise<{ status: number; body: any }>, url: string) => Promise<void>,
  extra: { demoAdmitUiOrigins?: boolean } = {},
) {
  const server = new CodecServer({ codec, allowedOrigins: [UI], auth, ...extra });
  const url = await server.start(0);
  const body = await encodedBody();
  try {
    await fn(async (headers = {}) => {
      const res = await fetch(`${url}/decode`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers }, body });
      return { status: res.status, body: await res.json() };
    }, url);
  } finally {
    await server.stop();
  }
}

const decoded = (body: any) => JSON.parse(Buffer.from(body.payloads[0].data, 'base64').toString());

function jwt(key: KeyObject, alg: string, claims: Record<string, unknown>, kid = 'k1'): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const data = `${enc({ alg, typ: 'JWT', kid })}.${enc(claims)}`;
  const hash = alg === 'EdDSA' ? null : `sha${alg.slice(2)}`;
  const signature = sign(hash, Buffer.from(data), alg.startsWith('ES') ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${data}.${signature.toString('base64url')}`;
}

const nowSec = () => Math.floor(Date.now() / 1000);

test('the bearer token: none, a wrong one and the right one; a preflight needs none', async () => {
  await withServer({ tokens: [TOKEN] }, async (decode, url) => {
    const none = await decode({ origin: UI });
    assert.equal(none.status, 401);
    assert.match(none.body.error, /unauthorized: a bearer token is required/);
    const wrong = await decode({ authorization: 'Bearer codec-token-0123456789abcdeX' });
    assert.deepEqual([wrong.status, wrong.body.error], [401, 'unauthorized: wrong token']);
    assert.equal((await decode({ authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` })).status, 401);
    const right = await decode({ authorization: `Bearer ${TOKEN}`, origin: UI });
    assert.equal(right.status, 200);
    assert.deepEqual(decoded(right.body), { vmId: 'web-01' });
    const preflight = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { origin: UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } });
    assert.equal(preflight.status, 200);
    assert.equal(preflight.headers.get('access-control-allow-origin'), UI);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
  });
});

test("the Web UI's access token as a JWT against the issuer's JWKS: valid, expired, wrongly signed, wrong audience or issuer, alg none, HS256", async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let jwksHits = 0;
  const jwks = createServer((_req, res) => {
    jwksHits++;
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        keys: [
          { ...publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'ES256' },
          { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'r1' },
        ],
      }),
    );
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
  const good = { iss: 'https://idp.example', aud: ['temporal-ui', 'other'], sub: 'alice', exp: nowSec() + 600 };
  try {
    await withServer({ tokens: [TOKEN], jwt: { jwksUrl, audience: 'temporal-ui', issuer: 'https://idp.example' } }, async (decode) => {
      const bearer = (t: string) => ({ authorization: `Bearer ${t}`, origin: UI });
      const ok = await decode(bearer(jwt(privateKey, 'ES256', good)));
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual(decoded(ok.body), { vmId: 'web-01' });
      assert.equal((await decode(bearer(jwt(rsa.privateKey, 'RS256', good, 'r1')))).status, 200, 'RS256 from the same JWKS');
      assert.equal((await decode(bearer(TOKEN))).status, 200, 'the shared token works beside the JWT check');
      const refusals: Array<[string, string, RegExp]> = [
        ['expired', jwt(privateKey, 'ES256', { ...good, exp: nowSec() - 3600 }), /JWT expired/],
        ['no expiry', jwt(privateKey, 'ES256', { ...good, exp: undefined }), /no expiry/],
        ['signed by another key', jwt(other.privateKey, 'ES256', good), /signature does not verify/],
        [
          'tampered claims',
          (() => {
            const [h, , s] = jwt(privateKey, 'ES256', good).split('.');
            return `${h}.${Buffer.from(JSON.stringify({ ...good, sub: 'mallory' })).toString('base64url')}.${s}`;
          })(),
          /signature does not verify/,
        ],
        ['wrong audience', jwt(privateKey, 'ES256', { ...good, aud: 'someone-else' }), /audience is not temporal-ui/],
        ['wrong issuer', jwt(privateKey, 'ES256', { ...good, iss: 'https://evil.example' }), /issuer is not https:\/\/idp\.example/],
        ['unknown kid', jwt(privateKey, 'ES256', good, 'k9'), /key k9 is not in the issuer's JWKS/],
        ['alg none', `${Buffer.from('{"alg":"none","kid":"k1"}').toString('base64url')}.${Buffer.from(JSON.stringify(good)).toString('base64url')}.`, /algorithm none is not accepted/],
        [
          'HS256 keyed with the public key',
          (() => {
            const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
            const data = `${enc({ alg: 'HS256', kid: 'k1' })}.${enc(good)}`;
            return `${data}.${createHmac('sha256', publicKey.export({ format: 'pem', type: 'spki' }))
              .update(data)
              .digest('base64url')}`;
          })(),
          /algorithm HS256 is not accepted/,
        ],
        ['RS256 header on the EC key', jwt(rsa.privateKey, 'RS256', good, 'k1'), /does not fit the key/],
      ];
      for (const [name, token, why] of refusals) {
        const res = await decode(bearer(token));
        assert.equal(res.status, 401, name);
        assert.match(res.body.error, why, name);
      }
    });
    assert.ok(jwksHits <= 2, `the JWKS is cached (fetched ${jwksHits} times)`);
  } finally {
    jwks.close();
  }
});

test('a static public key file instead of a JWKS, read from the environment', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'codec-auth-'));
  try {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    await writeFile(join(dir, 'idp.pem'), publicKey.export({ format: 'pem', type: 'spki' }));
    const auth = codecAuthFromEnv({ CODEC_SERVER_JWT_PUBLIC_KEY_FILE: join(dir, 'idp.pem'), CODEC_SERVER_JWT_AUDIENCE: 'temporal-ui' });
    assert.equal(auth.tokens, undefined, 'no shared token: JWTs only');
    await withServer(auth, async (decode) => {
      assert.equal((await decode({ authorization: `Bearer ${jwt(privateKey, 'EdDSA', { aud: 'temporal-ui', exp: nowSec() + 60 })}` })).status, 200);
      assert.equal((await decode({ authorization: `Bearer ${jwt(privateKey, 'EdDSA', { aud: 'temporal-ui', exp: nowSec() - 600 })}` })).status, 401);
      assert.equal((await decode({ authorization: `Bearer ${TOKEN}` })).status, 401);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('settings: nothing configured names the variables; short tokens, a JWT check without audience and a missing file are refused', async () => {
  assert.throws(
    () => codecAuthFromEnv({}),
    /admits nobody without a credential: set CODEC_SERVER_TOKEN or CODEC_SERVER_TOKEN_FILE .* CODEC_SERVER_JWKS_URL or CODEC_SERVER_JWT_PUBLIC_KEY_FILE with CODEC_SERVER_JWT_AUDIENCE/,
  );
  assert.throws(() => codecAuthFromEnv({ CODEC_SERVER_TOKEN: 'short' }), /at least 16 characters/);
  assert.throws(() => codecAuthFromEnv({ CODEC_SERVER_JWKS_URL: 'https://idp.example/jwks' }), /CODEC_SERVER_JWT_AUDIENCE is required/);
  assert.throws(() => codecAuthFromEnv({ CODEC_SERVER_TOKEN_FILE: '/nonexistent/token' }), /CODEC_SERVER_TOKEN_FILE \/nonexistent\/token: ENOENT/);
  const dir = await mkdtemp(join(tmpdir(), 'codec-auth-'));
  try {
    await writeFile(join(dir, 'tokens'), `${TOKEN}\nsecond-token-0123456789\n`);
    assert.deepEqual(codecAuthFromEnv({ CODEC_SERVER_TOKEN_FILE: join(dir, 'tokens') }).tokens, [TOKEN, 'second-token-0123456789']);
    const made = ensureLocalCodecToken(join(dir, 'data', 'codec-server.token'));
    assert.match(made, /^[0-9a-f]{64}$/);
    assert.equal((await stat(join(dir, 'data', 'codec-server.token'))).mode & 0o777, 0o600);
    assert.equal(ensureLocalCodecToken(join(dir, 'data', 'codec-server.token')), made, 'kept across restarts');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('deploy/codec-server.ts refuses to start with no credential configured, in one line naming the variables', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, BACKUP_CODEC_KEYS: JSON.stringify({ activeKeyId: 'k', keys: { k: randomBytes(32).toString('base64') } }), CODEC_SERVER_PORT: '0' };
  for (const name of ['CODEC_SERVER_TOKEN', 'CODEC_SERVER_TOKEN_FILE', 'CODEC_SERVER_JWKS_URL', 'CODEC_SERVER_JWT_PUBLIC_KEY_FILE']) delete env[name];
  const result = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', join(projectRoot, 'deploy/codec-server.ts')], { env, cwd: projectRoot }, (err, stdout, stderr) =>
      resolve({ code: child.exitCode ?? (err as { code?: number } | null)?.code ?? null, stdout, stderr }),
    );
  });
  assert.equal(result.code, 2, result.stdout + result.stderr);
  assert.equal(result.stdout, '');
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, /^codec server: not started: .*CODEC_SERVER_TOKEN or CODEC_SERVER_TOKEN_FILE.*CODEC_SERVER_JWKS_URL/);
});

test("npm start's demo mode: the UI's origin on loopback without a token, everyone else with it; never on another address", async () => {
  await withServer(
    { tokens: [TOKEN] },
    async (decode) => {
      assert.equal((await decode({ origin: UI })).status, 200, 'the dev UI, which cannot send a token');
      assert.equal((await decode({})).status, 401, 'a script without the token');
      assert.equal((await decode({ origin: 'http://evil.example' })).status, 401, 'another origin');
      assert.equal((await decode({ origin: UI, authorization: 'Bearer wrong-token-0123456789' })).status, 401, 'a wrong token is wrong even from the UI origin');
      assert.equal((await decode({ authorization: `Bearer ${TOKEN}` })).status, 200, 'the CLI with the token from .data/');
    },
    { demoAdmitUiOrigins: true },
  );
  const server = new CodecServer({ codec, allowedOrigins: [UI], auth: { tokens: [TOKEN] }, demoAdmitUiOrigins: true });
  await assert.rejects(server.start(0, '0.0.0.0'), /loopback only, not 0\.0\.0\.0/);
});
