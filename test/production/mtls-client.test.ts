/**
 * Our callers against a frontend that requires client certificates. The dev server speaks no TLS,
 * so a TLS-terminating proxy in front of its plain port plays the mTLS frontend: it asks every
 * caller for a certificate signed by the test CA (scripts/make-certs.sh) and refuses the rest.
 * backupctl, the client library and a worker's NativeConnection go through it with client.pem; a
 * caller without a certificate, with one from another CA, or not trusting the frontend's CA is
 * refused, and says which credential it used.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { BackupClient } from '../../client/backup-client';
import { ServerUnreachableError } from '../../client/errors';
import { connectionOptions, loadWorkerSettings } from '../../lib/config/worker-settings';
import { projectRoot } from '../../lib/temporal/cli-path';
import { runBackupctl } from '../helpers/backupctl';
import { startTemporal } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let certs: string;
let proxy: TlsServer;
let proxyAddress: string;
/** The subject CN of every caller the proxy let through. */
const admitted: string[] = [];
/** Why the proxy refused a caller (its TLS error), in order. */
const refused: string[] = [];

beforeAll(async () => {
  certs = await mkdtemp(join(tmpdir(), 'mtls-'));
  execFileSync('bash', [join(projectRoot, 'scripts/make-certs.sh'), certs], { stdio: 'ignore' });
  env = await startTemporal();
  const [host, port] = env.address.split(':');
  proxy = createTlsServer(
    {
      key: await readFile(join(certs, 'server-key.pem')),
      cert: await readFile(join(certs, 'server.pem')),
      ca: await readFile(join(certs, 'ca.pem')),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket: TLSSocket) => {
      admitted.push(String(socket.getPeerCertificate().subject?.CN));
      const upstream = netConnect(Number(port), host!);
      socket.pipe(upstream).pipe(socket);
      const close = () => {
        socket.destroy();
        upstream.destroy();
      };
      socket.on('error', close);
      upstream.on('error', close);
    },
  );
  proxy.on('tlsClientError', (err) => refused.push(err.message));
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  proxyAddress = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  proxy?.close();
  await env?.teardown();
  if (certs) await rm(certs, { recursive: true, force: true });
});

const withClientCert = () => ({
  TEMPORAL_ADDRESS: proxyAddress,
  TEMPORAL_TLS_CA_FILE: join(certs, 'ca.pem'),
  TEMPORAL_TLS_CERT_FILE: join(certs, 'client.pem'),
  TEMPORAL_TLS_KEY_FILE: join(certs, 'client-key.pem'),
});

test('the client library connects with client.pem and verifies the frontend against ca.pem', async () => {
  const before = admitted.length;
  const client = await BackupClient.connect({ ...process.env, ...withClientCert(), BACKUP_DATA_DIR: certs });
  try {
    assert.deepEqual(await client.list({ limit: 1 }), []);
  } finally {
    await client.close();
  }
  assert.ok(admitted.slice(before).includes('backup-orchestrator-worker'), `the frontend saw the client certificate (admitted: ${admitted.join(', ')})`);
});

test('backupctl goes through mTLS, and --help names the credential in use', async () => {
  const cli = withClientCert();
  const listed = await runBackupctl({ ...cli, BACKUP_DATA_DIR: certs }, 'list', '--json');
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout), []);
  const help = await runBackupctl({ ...cli, BACKUP_DATA_DIR: certs }, '--help');
  assert.match(help.stdout, new RegExp(`Temporal server: ${proxyAddress} .*mTLS, client certificate ${cli.TEMPORAL_TLS_CERT_FILE}, server checked against ${cli.TEMPORAL_TLS_CA_FILE}`));
  assert.match(help.stdout, /TEMPORAL_TLS_CERT_FILE \+ TEMPORAL_TLS_KEY_FILE/);
});

test('a worker (NativeConnection) connects with the same settings', async () => {
  const settings = loadWorkerSettings({ ...withClientCert() });
  const connection = await NativeConnection.connect(connectionOptions(settings));
  try {
    const info = await connection.workflowService.getSystemInfo({});
    assert.ok(info.capabilities, 'the frontend answered through mTLS');
  } finally {
    await connection.close();
  }
});

test('refused: no client certificate, a stranger signed by another CA, plaintext, and a frontend not trusted', async () => {
  const base = { TEMPORAL_ADDRESS: proxyAddress, BACKUP_DATA_DIR: certs, TEMPORAL_TLS_CA_FILE: join(certs, 'ca.pem') };
  const cases: Array<{ name: string; env: Record<string, string>; says: RegExp }> = [
    { name: 'no certificate', env: base, says: /with TLS without a client certificate, server checked against .*ca\.pem:[\s\S]*set TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE/ },
    {
      name: 'stranger',
      env: { ...base, TEMPORAL_TLS_CERT_FILE: join(certs, 'stranger.pem'), TEMPORAL_TLS_KEY_FILE: join(certs, 'stranger-key.pem') },
      says: /with mTLS, client certificate .*stranger\.pem[\s\S]*may not accept .*stranger\.pem/,
    },
    { name: 'plaintext', env: { TEMPORAL_ADDRESS: proxyAddress, BACKUP_DATA_DIR: certs }, says: /with plaintext, no client certificate:/ },
    {
      name: 'frontend not trusted',
      env: { ...base, TEMPORAL_TLS_CA_FILE: join(certs, 'stranger-ca.pem'), TEMPORAL_TLS_CERT_FILE: join(certs, 'client.pem'), TEMPORAL_TLS_KEY_FILE: join(certs, 'client-key.pem') },
      says: /with mTLS, client certificate .*client\.pem, server checked against .*stranger-ca\.pem/,
    },
  ];
  for (const c of cases) {
    const run = await runBackupctl(c.env, 'list');
    assert.equal(run.code, 1, `${c.name}: refused (${run.stdout}${run.stderr})`);
    assert.match(run.stderr, /backupctl: cannot reach the Temporal server at /, c.name);
    assert.match(run.stderr, c.says, c.name);
  }
  const before = admitted.length;
  await assert.rejects(
    BackupClient.connect({ ...process.env, ...base, TEMPORAL_TLS_CERT_FILE: join(certs, 'stranger.pem'), TEMPORAL_TLS_KEY_FILE: join(certs, 'stranger-key.pem') }),
    ServerUnreachableError,
  );
  await assert.rejects(NativeConnection.connect(connectionOptions(loadWorkerSettings(base))));
  assert.equal(admitted.length, before, 'nobody without a certificate from the CA got through');
  assert.ok(
    refused.some((r) => /certificate/i.test(r)),
    `the frontend refused at the handshake: ${refused.join(' | ')}`,
  );
});

test('a certificate without its key, or a file that is not there, is refused before any connection', async () => {
  const half = await runBackupctl({ TEMPORAL_ADDRESS: proxyAddress, TEMPORAL_TLS_CERT_FILE: join(certs, 'client.pem'), BACKUP_DATA_DIR: certs }, 'list');
  assert.equal(half.code, 2);
  assert.match(half.stderr, /tlsCertFile and tlsKeyFile go together \(TEMPORAL_TLS_CERT_FILE, TEMPORAL_TLS_KEY_FILE\)/);
  const missing = await runBackupctl({ ...withClientCert(), TEMPORAL_TLS_CA_FILE: join(certs, 'nope.pem'), BACKUP_DATA_DIR: certs }, 'list');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /TEMPORAL_TLS_CA_FILE .*nope\.pem: cannot read the CA certificate \(ENOENT\)/);
});
