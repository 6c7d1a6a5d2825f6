/**
 * docker-compose.yml (there is no Docker engine here to run it): it parses, names what
 * docs/production.md says, pins every image, checks every long-running service's health, keeps
 * the database and the backup repository on volumes, and its workers run files that exist with
 * variables the worker settings know.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { WORKER_ENV_VARS } from '../../lib/config/worker-settings';

const root = fileURLToPath(new URL('../..', import.meta.url));
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    {
      image?: string;
      build?: unknown;
      healthcheck?: { test: unknown };
      volumes?: string[];
      command?: string[];
      entrypoint?: string[];
      environment?: Record<string, string>;
      profiles?: string[];
      depends_on?: Record<string, { condition: string }>;
    }
  >;
  volumes: Record<string, unknown>;
};
const docs = readFileSync(join(root, 'docs/production.md'), 'utf8');
const services = compose.services;

test('the services docs/production.md lists are the ones the file defines', () => {
  const documented = [...docs.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]!).filter((name) => !name.startsWith('backup_'));
  assert.deepEqual(documented.sort(), Object.keys(services).sort());
  for (const required of ['postgresql', 'temporal', 'temporal-ui', 'worker', 'copy-worker', 'simulators']) assert.ok(services[required], required);
  assert.deepEqual(services.simulators!.profiles, ['demo']);
  // Encryption on: the UI is given the codec server's endpoint.
  assert.ok(services['codec-server']);
  assert.ok('TEMPORAL_CODEC_ENDPOINT' in (services['temporal-ui']!.environment ?? {}));
});

test('every image is pinned to a version, never latest, and the same tag as documented', () => {
  for (const [name, service] of Object.entries(services)) {
    if (service.build) {
      assert.ok(existsSync(join(root, 'Dockerfile')), 'Dockerfile');
      continue;
    }
    const image = service.image;
    assert.ok(image, `${name} has an image`);
    const tag = image.split(':')[1];
    assert.ok(tag && /\d/.test(tag) && !/latest/.test(tag), `${name}: ${image} is pinned`);
    assert.ok(docs.includes(image), `docs/production.md names ${image}`);
  }
  assert.match(services.postgresql!.image!, /^postgres:16/);
  assert.match(services.temporal!.image!, /^temporalio\/(auto-setup|server):/);
  assert.match(services['temporal-ui']!.image!, /^temporalio\/ui:/);
  const from = /^FROM\s+(\S+)/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1];
  assert.match(from ?? '', /^node:20\.\d+\.\d+/);
  assert.ok(docs.includes(from!));
});

test('every long-running service has a health check; the one-shot setup is waited for', () => {
  for (const [name, service] of Object.entries(services)) {
    if (name === 'temporal-setup' || name === 'temporal-schema') continue; // one-shot jobs
    assert.ok(service.healthcheck?.test, `${name} has a healthcheck`);
  }
  assert.equal(services.worker!.depends_on?.['temporal-setup']?.condition, 'service_completed_successfully');
  assert.equal(services.temporal!.depends_on?.postgresql?.condition, 'service_healthy');
  // The search attributes every run sets are registered.
  const setup = JSON.stringify(services['temporal-setup']);
  for (const attribute of ['BackupProvider', 'BackupVmId', 'BackupStep', 'BackupOutcome']) assert.ok(setup.includes(attribute), attribute);
});

test('the database and the backup repository live on named volumes the docs name', () => {
  const mounts = (name: string) => (services[name]!.volumes ?? []).map((v) => v.split(':')[0]);
  assert.ok(mounts('postgresql').includes('temporal-db'));
  assert.ok(mounts('copy-worker').includes('backup-repository'));
  assert.ok(mounts('demo-copy-worker').includes('backup-repository'));
  for (const volume of Object.keys(compose.volumes)) assert.ok(docs.includes(`\`${volume}\``), `docs name volume ${volume}`);
});

test('workers run files that exist, with settings the worker reads and the docs describe', () => {
  const known = new Set([
    ...Object.keys(WORKER_ENV_VARS),
    'BACKUP_ENDPOINTS_FILE',
    'BACKUP_DATA_DIR',
    'BACKUP_REPOSITORY_DIR',
    'COPY_DEVICE_BY_ID_DIR',
    'COPY_DEVICE_DIR',
    // Read by glibc as the copy worker starts (huge pages for the copy buffers); the worker says whether it took.
    'GLIBC_TUNABLES',
    'SIM_DATA_DIR',
    'SIM_PUBLIC_HOST',
    'CODEC_SERVER_PORT',
    'CODEC_ALLOWED_ORIGINS',
    'CODEC_SERVER_JWKS_URL',
    'CODEC_SERVER_JWT_AUDIENCE',
    'CODEC_SERVER_JWT_ISSUER',
  ]);
  for (const [name, service] of Object.entries(services)) {
    if (!service.build) continue;
    const argv = [...(service.entrypoint ?? []), ...(service.command ?? [])].join(' ');
    const script = /([\w/-]+\.ts)/.exec(argv)?.[1];
    assert.ok(script && existsSync(join(root, script)), `${name} runs ${script}`);
    for (const variable of Object.keys(service.environment ?? {})) {
      assert.ok(known.has(variable), `${name}: ${variable} is a setting the worker reads`);
      if (!variable.startsWith('SIM_')) assert.ok(docs.includes(`\`${variable}\``), `docs/production.md documents ${variable}`);
    }
  }
  for (const variable of Object.keys(WORKER_ENV_VARS)) assert.ok(docs.includes(`\`${variable}\``), `docs/production.md documents ${variable}`);
});

test('compose runs the local engine’s server: the same version as scripts/install-temporal-server.sh, the same config files', async () => {
  const { TEMPORAL_SERVER_VERSION } = await import('../../lib/temporal/server-path');
  const { ENGINE_CONFIG_FILE, ENGINE_DYNAMIC_CONFIG_FILE, NAMESPACE_RETENTION_DAYS } = await import('../../lib/temporal/postgres-engine');
  const script = readFileSync(join(root, 'scripts/install-temporal-server.sh'), 'utf8');
  assert.equal(/^TEMPORAL_SERVER_VERSION="([^"]+)"/m.exec(script)?.[1], TEMPORAL_SERVER_VERSION, 'the install script pins lib/temporal/server-path.ts’s version');
  assert.equal(services.temporal!.image, `temporalio/server:${TEMPORAL_SERVER_VERSION}`);
  assert.equal(services['temporal-schema']!.image, `temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
  assert.equal(services['temporal-setup']!.image, `temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
  const mounts = Object.fromEntries((services.temporal!.volumes ?? []).map((v) => v.split(':') as [string, string]));
  const env = services.temporal!.environment ?? {};
  assert.equal(join(root, Object.keys(mounts).find((m) => mounts[m] === env.TEMPORAL_SERVER_CONFIG_FILE_PATH) ?? '(not mounted)'), ENGINE_CONFIG_FILE);
  assert.equal(join(root, Object.keys(mounts).find((m) => mounts[m] === env.DYNAMIC_CONFIG_FILE_PATH) ?? '(not mounted)'), ENGINE_DYNAMIC_CONFIG_FILE);
  // mTLS on in compose as on the lane: the certificate folder is mounted where the config looks.
  assert.ok(env.TEMPORAL_TLS_DIR && Object.values(mounts).includes(env.TEMPORAL_TLS_DIR), 'TEMPORAL_TLS_DIR is mounted');
  assert.equal(services.temporal!.depends_on?.['temporal-schema']?.condition, 'service_completed_successfully');
  assert.ok(JSON.stringify(services['temporal-setup']).includes(`--retention ${NAMESPACE_RETENTION_DAYS * 24}h`), 'the same namespace retention');
  for (const worker of ['worker', 'copy-worker', 'demo-worker', 'demo-copy-worker']) assert.ok(services[worker]!.environment?.TEMPORAL_TLS_CERT_FILE, `${worker} connects with a client certificate`);
});

test('the server config: templated from the environment, 4 history shards, PostgreSQL, mTLS on the frontend', () => {
  const text = readFileSync(join(root, 'deploy/temporal/config-postgres.yaml'), 'utf8');
  assert.match(text.split('\n')[0]!, /^# enable-template/, 'the server renders it as a template only with this first line');
  assert.match(text, /^ {2}numHistoryShards: 4$/m);
  assert.match(text, /pluginName: postgres12/);
  assert.match(text, /requireClientAuth: true/);
});
