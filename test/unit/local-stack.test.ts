/**
 * The CLI finds the local stack (`npm start`) the way it finds its codec key: from what npm start
 * writes under the data dir. TEMPORAL_ADDRESS overrides it; `backupctl endpoints` reads the profiles
 * the stack's worker reads; a port clash names the port and the variable that moves it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'vitest';
import { EndpointRegistry } from '../../lib/config/endpoints';
import { writeLocalStack } from '../../lib/config/local-stack';
import { assertPortsFree, PortInUseError } from '../../lib/config/ports';
import { temporalSettings } from '../../lib/temporal/settings';
import { runBackupctl } from '../helpers/backupctl';

function stackDir(pid = process.pid): { env: Record<string, string>; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'stack-'));
  const endpointsFile = join(dir, 'endpoints.simulators.json');
  writeFileSync(
    endpointsFile,
    JSON.stringify({ endpoints: { 'ovirt-sim': { vendor: 'ovirt', url: 'http://127.0.0.1:28001/ovirt-engine/api', auth: { username: 'admin@internal', password: { env: 'X' } } } } }),
  );
  const env = { BACKUP_DATA_DIR: dir };
  writeLocalStack({ pid, temporalAddress: '127.0.0.1:17233', uiUrl: 'http://127.0.0.1:18233', codecUrl: 'http://127.0.0.1:18234', endpointsFile }, env);
  return { env, dir };
}

test('the running stack gives the address; TEMPORAL_ADDRESS overrides it; a stack whose process is gone is ignored', () => {
  const { env, dir } = stackDir();
  assert.deepEqual(
    [temporalSettings(env).address, temporalSettings(env).addressSource],
    ['127.0.0.1:17233', `the local stack's, from ${join(dir, 'stack.json')} (npm start); TEMPORAL_ADDRESS overrides it`],
  );
  assert.equal(temporalSettings({ ...env, TEMPORAL_ADDRESS: '10.0.0.1:7233' }).address, '10.0.0.1:7233');
  const gone = spawnSync(process.execPath, ['-e', '']).pid;
  assert.equal(temporalSettings(stackDir(gone).env).address, '127.0.0.1:7233');
});

test('endpoints: the profiles the stack’s worker reads, ahead of config/', () => {
  const { env } = stackDir();
  assert.equal(EndpointRegistry.load(env).get('ovirt-sim')?.url, 'http://127.0.0.1:28001/ovirt-engine/api');
});

test('backupctl --help names the server it talks to, and endpoints lists the stack’s simulators where they listen', async () => {
  const { env } = stackDir();
  const help = await runBackupctl({ ...env, TEMPORAL_ADDRESS: '' }, '--help');
  assert.match(help.stdout, /Temporal server: 127\.0\.0\.1:17233 \(the local stack's, from \S+stack\.json \(npm start\); TEMPORAL_ADDRESS overrides it\)/);
  const endpoints = await runBackupctl(env, 'endpoints', '--json');
  assert.equal(endpoints.code, 0, endpoints.stderr);
  assert.deepEqual(
    JSON.parse(endpoints.stdout).map((e: { url: string }) => e.url),
    ['http://127.0.0.1:28001/ovirt-engine/api'],
  );
});

test('a port already taken names the port, what wanted it and the variable that moves it', async () => {
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  const port = (holder.address() as AddressInfo).port;
  try {
    await assert.rejects(assertPortsFree([{ port, what: 'the codec server', variable: 'CODEC_SERVER_PORT' }]), (err: PortInUseError) => {
      assert.ok(err instanceof PortInUseError);
      assert.equal(err.message, `port ${port} (the codec server) is already in use: stop what listens there, or move it with CODEC_SERVER_PORT=<port>`);
      return true;
    });
  } finally {
    holder.close();
  }
  await assertPortsFree([{ port, what: 'the codec server', variable: 'CODEC_SERVER_PORT' }]);
});
