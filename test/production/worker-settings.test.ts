/** Worker settings from a file and the environment: defaults, overrides, TLS / API key, every problem listed, no secret in the log line. */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionOptions, describeWorkerSettings, loadWorkerSettings, WorkerSettingsError } from '../../lib/config/worker-settings';
import { alertConfig } from '../../activities/alerts/settings';

test('defaults: local server, default namespace and queue, no metrics endpoint, plaintext', () => {
  const s = loadWorkerSettings({});
  assert.equal(s.temporal.address, '127.0.0.1:7233');
  assert.equal(s.temporal.namespace, 'default');
  assert.equal(s.main.taskQueue, 'backup-orchestrator');
  assert.equal(s.main.maxConcurrentActivities, 100);
  assert.equal(s.copy.maxConcurrentCopies, 4);
  assert.equal(s.metrics.bindAddress, undefined);
  assert.deepEqual(connectionOptions(s), { address: '127.0.0.1:7233' });
});

test('a settings file, with env variables on top', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'worker-settings-'));
  try {
    const file = join(dir, 'worker.json');
    await writeFile(
      file,
      JSON.stringify({ temporal: { address: 'temporal:7233', namespace: 'backups' }, main: { maxConcurrentActivities: 20 }, metrics: { bindAddress: '0.0.0.0:9000', globalTags: { site: 'paris' } } }),
    );
    const s = loadWorkerSettings({ WORKER_SETTINGS_FILE: file, TEMPORAL_NAMESPACE: 'backups-prod', COPY_CONCURRENCY: '2', PROXY_VM_ID: 'p-1', METRICS_PORT: '9100' });
    assert.equal(s.temporal.address, 'temporal:7233');
    assert.equal(s.temporal.namespace, 'backups-prod');
    assert.equal(s.main.maxConcurrentActivities, 20);
    assert.equal(s.copy.maxConcurrentCopies, 2);
    assert.equal(s.copy.proxyVmId, 'p-1');
    assert.equal(s.metrics.bindAddress, '0.0.0.0:9100');
    assert.deepEqual(s.metrics.globalTags, { site: 'paris' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('Temporal Cloud: an API key turns TLS on, and is never in the log line', () => {
  const s = loadWorkerSettings({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: 'very-secret-key' });
  assert.deepEqual(connectionOptions(s), { address: 'ns.acct.tmprl.cloud:7233', tls: {}, apiKey: 'very-secret-key' });
  const line = describeWorkerSettings(s);
  assert.ok(!line.includes('very-secret-key'));
  assert.match(line, /API key/);
});

test('mTLS: certificate and key files are read into the connection options', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'worker-tls-'));
  try {
    await writeFile(join(dir, 'c.pem'), 'CERT');
    await writeFile(join(dir, 'c.key'), 'KEY');
    const s = loadWorkerSettings({ TEMPORAL_TLS_CERT_FILE: join(dir, 'c.pem'), TEMPORAL_TLS_KEY_FILE: join(dir, 'c.key'), TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' });
    const options = connectionOptions(s) as { tls: { clientCertPair: { crt: Buffer; key: Buffer }; serverNameOverride: string } };
    assert.equal(options.tls.clientCertPair.crt.toString(), 'CERT');
    assert.equal(options.tls.clientCertPair.key.toString(), 'KEY');
    assert.equal(options.tls.serverNameOverride, 'temporal.internal');
    assert.ok(!describeWorkerSettings(s).includes('KEY'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad settings: every problem listed with the variable that set it', () => {
  assert.throws(
    () => loadWorkerSettings({ WORKER_MAX_CONCURRENT_ACTIVITIES: 'lots', COPY_CONCURRENCY: '0', METRICS_BIND_ADDRESS: 'nowhere', TEMPORAL_TLS_CERT_FILE: '/c.pem', LOG_LEVEL: 'LOUD' }),
    (err: unknown) => {
      assert.ok(err instanceof WorkerSettingsError);
      for (const part of ['WORKER_MAX_CONCURRENT_ACTIVITIES', 'COPY_CONCURRENCY', 'METRICS_BIND_ADDRESS', 'tlsKeyFile', 'LOG_LEVEL']) assert.match(err.message, new RegExp(part));
      return true;
    },
  );
  assert.throws(() => loadWorkerSettings({ WORKER_SETTINGS_FILE: '/nonexistent/worker.json' }), /does not exist/);
});

test('alerts: the webhook URL from the environment or a file, never in the log line; JSON and the local Web UI by default', async () => {
  const none = loadWorkerSettings({});
  assert.deepEqual(none.alerts, { format: 'json', uiBaseUrl: 'http://localhost:8233' });
  const s = loadWorkerSettings({ ALERT_WEBHOOK_URL: 'https://hooks.example/services/T0SECRET/B0SECRET', ALERT_WEBHOOK_FORMAT: 'slack', TEMPORAL_UI_URL: 'https://temporal.example' });
  assert.equal(alertConfig(s, 'backups').webhookUrl, 'https://hooks.example/services/T0SECRET/B0SECRET');
  assert.equal(s.alerts.format, 'slack');
  assert.ok(!describeWorkerSettings(s).includes('SECRET'));
  assert.match(describeWorkerSettings(s), /alerts to a webhook \(slack\)/);
  assert.throws(() => loadWorkerSettings({ ALERT_WEBHOOK_FORMAT: 'teams' }), /alerts\.format \(ALERT_WEBHOOK_FORMAT\)/);
  assert.throws(
    () => loadWorkerSettings({ ALERT_WEBHOOK_URL: 'not a url T0SECRET' }),
    (err: Error) => /alerts\.webhookUrl \(ALERT_WEBHOOK_URL\): an http\(s\) URL/.test(err.message) && !err.message.includes('T0SECRET'),
  );
  const dir = await mkdtemp(join(tmpdir(), 'alert-url-'));
  try {
    await writeFile(join(dir, 'url'), 'https://hooks.example/services/T0FILE\n');
    const fromFile = loadWorkerSettings({ ALERT_WEBHOOK_URL_FILE: join(dir, 'url'), BACKUP_DATA_DIR: dir });
    const config = alertConfig(fromFile, 'default', { BACKUP_DATA_DIR: dir });
    assert.equal(config.webhookUrl, 'https://hooks.example/services/T0FILE');
    assert.equal(config.ledgerPath, join(dir, 'alerts-delivered.log'));
    await writeFile(join(dir, 'bad'), 'T0FILE-not-a-url');
    assert.throws(
      () => alertConfig(loadWorkerSettings({ ALERT_WEBHOOK_URL_FILE: join(dir, 'bad') }), 'default'),
      (err: Error) => /does not hold an http\(s\) URL/.test(err.message) && !err.message.includes('T0FILE'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
