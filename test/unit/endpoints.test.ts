import { test } from 'vitest';
import assert from 'node:assert/strict';
import { EndpointRegistry, resolveSecret } from '../../lib/config/endpoints';
import { EndpointClients } from '../../activities/endpoint-clients';

const config = {
  endpoints: {
    prod: {
      vendor: 'ovirt',
      url: 'https://engine.example.com/ovirt-engine/api',
      auth: { type: 'sso', username: 'backup@internal', password: { value: 'hunter2-inline' } },
    },
    lab: { vendor: 'ovirt', url: 'http://lab/ovirt-engine/api', apiVersion: 'v3', auth: { type: 'basic', username: 'a', password: { env: 'LAB_PW' } } },
  },
};

test('the public list names, vendors, URLs and versions, and never a secret', () => {
  const registry = EndpointRegistry.fromObject(config);
  const list = registry.publicList();
  assert.deepEqual(
    list.map((e) => [e.name, e.vendor, e.apiVersion]),
    [
      ['lab', 'ovirt', 'v3'],
      ['prod', 'ovirt', 'v4'],
    ],
  );
  assert.ok(!JSON.stringify(list).includes('hunter2'));
  assert.ok(!JSON.stringify(list).includes('LAB_PW'));
});

test('secrets come from the profile or the named environment variable', () => {
  assert.equal(resolveSecret({ value: 'x' }), 'x');
  assert.equal(resolveSecret({ env: 'LAB_PW' }, { LAB_PW: 'from-env' }), 'from-env');
  assert.throws(() => resolveSecret({ env: 'LAB_PW' }, {}), /LAB_PW/);
});

test('a broken config names the field', () => {
  assert.throws(() => EndpointRegistry.fromObject({ endpoints: { x: { vendor: 'ovirt', url: 'not a url', auth: { username: 'a', password: {} } } } }), /endpoints config is invalid: .*url/);
});

test('a profile of another vendor is refused in plain English: "an altaro endpoint, not an ovirt one"', () => {
  const clients = new EndpointClients(EndpointRegistry.fromObject(config));
  assert.throws(() => clients.profile('prod', 'altaro'), /endpoint profile "prod" is an ovirt endpoint, not an altaro one$/);
  assert.throws(() => clients.profile('prod', 'manageiq'), /is an ovirt endpoint, not a manageiq one$/);
});
