/**
 * Nobody in who does not belong: the engine's frontend requires a client certificate its CA signed.
 * A caller without one, or with one from another CA, is refused in the TLS handshake; the lane's
 * client certificate works for the SDK client, a worker process (workers/main-worker.ts with
 * TEMPORAL_TLS_*) and the Temporal CLI (--tls-cert-path …).
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { projectRoot, resolveTemporalCli } from '../../lib/temporal/cli-path';
import { engineSkipReason, startTestEngine, type TestEngine } from '../helpers/engine';
import { runCommand } from '../helpers/npm-start-stack';

const skip = engineSkipReason();
/**
 * How a refusal reads: the TLS alert the frontend sent (CertificateRequired, UnknownCA) as a
 * transport error. With TLS 1.3 the client finishes its side of the handshake before the server
 * checks the certificate, so the alert can lose the race with the closed socket and read as a
 * broken pipe or a closed connection: still a transport error, never an answer.
 */
const REFUSED = /transport.*(CertificateRequired|UnknownCA|broken pipe|connection closed|reset)/i;
let e: TestEngine;

beforeAll(async () => {
  if (!skip) e = await startTestEngine('mtls');
});
afterAll(async () => e?.stop());

/**
 * Connects as a worker does (the SDK's native connection, which names the TLS failure) and asks the
 * frontend something; resolves to the error, or undefined when it answered.
 */
async function refusal(options: Parameters<typeof NativeConnection.connect>[0]): Promise<Error | undefined> {
  try {
    const connection = await NativeConnection.connect(options);
    try {
      await connection.workflowService.getSystemInfo({});
    } finally {
      await connection.close();
    }
  } catch (err) {
    return err as Error;
  }
  return clientRefusal(options!);
}

/** The same through the client library's connection (backupctl's): it must be refused too. */
async function clientRefusal(options: Parameters<typeof Connection.connect>[0]): Promise<Error | undefined> {
  try {
    const connection = await Connection.connect({ ...options, connectTimeout: 5_000 });
    try {
      await connection.workflowService.getSystemInfo({});
      await connection.workflowService.listWorkflowExecutions({ namespace: 'default' });
    } finally {
      await connection.close();
    }
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

describe.skipIf(skip)(`mTLS on the engine's frontend${skip ? ` (skipped: ${skip})` : ''}`, () => {
  test('a client without a certificate is refused', async () => {
    const err = await refusal(e.engine.connectionOptions('none'));
    assert.ok(err, 'the frontend answered a caller without a certificate');
    console.log(`without a certificate: ${err.message}`);
    assert.match(err.message, REFUSED);
    assert.ok(await clientRefusal(e.engine.connectionOptions('none')), 'the client library is refused too');
  });

  test('a client with a certificate from another CA is refused', async () => {
    const err = await refusal(e.engine.connectionOptions('stranger'));
    assert.ok(err, 'the frontend answered a caller whose certificate its CA did not sign');
    console.log(`with the stranger's certificate: ${err.message}`);
    assert.match(err.message, REFUSED);
    assert.ok(await clientRefusal(e.engine.connectionOptions('stranger')), 'the client library is refused too');
  });

  test('plaintext is refused too', async () => {
    const err = await refusal({ address: e.engine.address });
    assert.ok(err, 'the frontend answered plaintext');
  });

  test('the lane’s client certificate works: SDK client and the CLI (the search attributes are registered)', async () => {
    assert.equal(await refusal(e.engine.connectionOptions('client')), undefined);
    const listed = await runCommand(resolveTemporalCli(), ['operator', 'search-attribute', 'list', '--namespace', 'default', ...e.engine.cliArgs(), '-o', 'json']);
    assert.equal(listed.code, 0, listed.stderr);
    for (const name of ['BackupProvider', 'BackupVmId', 'BackupStep', 'BackupOutcome']) assert.ok(listed.stdout.includes(name), `${name} is registered`);
    const refused = await runCommand(resolveTemporalCli(), [
      'operator',
      'search-attribute',
      'list',
      '--namespace',
      'default',
      '--address',
      e.engine.address,
      '--tls-ca-path',
      join(e.engine.certsDir, 'ca.pem'),
      '--tls-server-name',
      'localhost',
    ]);
    assert.notEqual(refused.code, 0, 'the CLI without a certificate was let in');
  });

  test('a worker process connects with TEMPORAL_TLS_* and exits with a clear error without them', async () => {
    const endpoints = join(e.dir, 'endpoints.json');
    await writeFile(endpoints, JSON.stringify({ endpoints: {} }));
    const start = (env: Record<string, string>) =>
      new Promise<{ ready: boolean; output: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'workers/main-worker.ts')], {
          cwd: projectRoot,
          env: { ...process.env, BACKUP_ENDPOINTS_FILE: endpoints, TEMPORAL_TASK_QUEUE: 'mtls-check', ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
        const seen = (d: Buffer) => {
          output += d;
          if (/main worker polling/.test(output)) child.kill('SIGTERM');
        };
        child.stdout.on('data', seen);
        child.stderr.on('data', seen);
        child.on('exit', () => {
          clearTimeout(timer);
          resolve({ ready: /main worker polling/.test(output), output });
        });
      });
    const withCert = await start(e.engine.clientEnv());
    assert.ok(withCert.ready, withCert.output);
    assert.match(withCert.output, /mTLS/);
    const without = await start({ TEMPORAL_ADDRESS: e.engine.address, TEMPORAL_TLS: 'true', TEMPORAL_TLS_CA_FILE: join(e.engine.certsDir, 'ca.pem'), TEMPORAL_TLS_SERVER_NAME: 'localhost' });
    assert.ok(!without.ready, 'a worker without a client certificate was let in');
    // The worker exits with the transport error (the TLS alert, when it wins the race).
    assert.match(without.output, /TransportError: Failed to call GetSystemInfo/, without.output);
    assert.match(without.output, REFUSED, without.output);
  });
});
