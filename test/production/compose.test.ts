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
    if (name === 'temporal-setup') continue;
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
