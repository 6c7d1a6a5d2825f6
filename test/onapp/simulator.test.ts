/** The OnApp simulator spoken to directly: documented JSON and XML shapes, 401/404/422 bodies, faults. */
import { onappSimTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { parseXml } from '../../lib/xml';
import { ONAPP_TEST_PASSWORD, type OnappSim } from '../helpers/onapp-harness';

const test = onappSimTest({ buildMs: 200 });
test.beforeEach(({ sim }) => {
  sim.state.options.restoreMs = 300;
  sim.state.reset();
  sim.simulator.faults.clear();
});

const auth = `Basic ${Buffer.from(`admin:${ONAPP_TEST_PASSWORD}`).toString('base64')}`;

async function call(sim: OnappSim, method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const xml = path.endsWith('.xml');
  const res = await fetch(`${sim.simulator.url}${path}`, {
    method,
    headers: { authorization: auth, accept: xml ? 'application/xml' : 'application/json', ...(body ? { 'content-type': xml ? 'application/xml' : 'application/json' } : {}), ...headers },
    body,
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

test('JSON lists wrap each backup Rails-style; an empty list is []', async ({ sim }) => {
  const list = await call(sim, 'GET', '/virtual_machines/102/backups.json');
  assert.equal(list.status, 200);
  assert.match(list.type, /application\/json/);
  const body = JSON.parse(list.text) as Array<{ backup: Record<string, unknown> }>;
  assert.equal(body.length, 2);
  assert.deepEqual(Object.keys(body[0]!), ['backup']);
  assert.equal(typeof body[0]!.backup.backup_size, 'number');
  assert.equal(body[1]!.backup.note, null);
  assert.equal((await call(sim, 'GET', '/virtual_machines/101/backups.json')).text, '[]');
});

test('XML carries typed attributes and nil="true"; an empty list is <backups type="array"/>', async ({ sim }) => {
  const list = await call(sim, 'GET', '/virtual_machines/102/backups.xml');
  assert.match(list.type, /application\/xml/);
  assert.match(list.text, /<id type="integer">9001<\/id>/);
  assert.match(list.text, /<built type="boolean">true<\/built>/);
  assert.match(list.text, /<built_at type="datetime">\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00<\/built_at>/);
  assert.match(list.text, /<note nil="true"\/>/);
  const taken = await call(sim, 'POST', '/virtual_machines/101/backups.xml', '<backup><note>x</note></backup>');
  assert.equal(taken.status, 201);
  assert.match(taken.text, /<built_at type="datetime" nil="true"\/>/);
  const doc = parseXml((await call(sim, 'GET', '/virtual_machines/101/backups/images.xml')).text) as Record<string, unknown>;
  assert.deepEqual(doc.backups, { '@_type': 'array' });
});

test('errors: 422 {"errors":{…}} (and <errors><error> in XML), 404 and 401', async ({ sim }) => {
  const swap = await call(sim, 'POST', '/settings/disks/502/backups.json', '{"backup":{}}');
  assert.equal(swap.status, 422);
  assert.deepEqual(JSON.parse(swap.text), { errors: { base: ['Backups of swap disks are not allowed'] } });
  const swapXml = await call(sim, 'POST', '/settings/disks/502/backups.xml', '<backup/>');
  assert.equal(swapXml.status, 422);
  assert.match(swapXml.text, /<errors>\s*<error>Backups of swap disks are not allowed<\/error>\s*<\/errors>/);
  const missing = await call(sim, 'GET', '/backups/1.json');
  assert.equal(missing.status, 404);
  assert.deepEqual(JSON.parse(missing.text), { errors: ['Backup not found'] });
  const unauth = await call(sim, 'GET', '/virtual_machines/101.json', undefined, { authorization: 'Basic eDp5' });
  assert.equal(unauth.status, 401);
  assert.ok(JSON.parse(unauth.text).errors.length);
});

test('a backup is built over time: built false and locked, then built with size and built_at', async ({ sim }) => {
  const taken = JSON.parse((await call(sim, 'POST', '/virtual_machines/101/backups.json', '{"backup":{"note":"n"}}')).text).backup;
  assert.deepEqual([taken.built, taken.locked, taken.built_at, taken.backup_type, taken.target_type], [false, true, null, 'incremental', 'VirtualMachine']);
  await new Promise((r) => setTimeout(r, 250));
  const built = JSON.parse((await call(sim, 'GET', `/backups/${taken.id}.json`)).text).backup;
  assert.deepEqual([built.built, built.locked], [true, false]);
  assert.ok(built.backup_size > 0 && built.built_at);
  assert.equal((await call(sim, 'DELETE', `/backups/${taken.id}.json`)).status, 204);
});

test('fault injection through /__sim answers with the OnApp errors body', async ({ sim }) => {
  await fetch(`${sim.simulator.url}/__sim/faults`, {
    method: 'POST',
    body: JSON.stringify({ method: 'POST', path: '/virtual_machines/:id/backups.json', action: { kind: 'status', status: 422, message: 'Hypervisor is offline' } }),
  });
  const res = await call(sim, 'POST', '/virtual_machines/101/backups.json', '{}');
  assert.equal(res.status, 422);
  assert.deepEqual(JSON.parse(res.text), { errors: { base: ['Hypervisor is offline'] } });
});

test("a restore locks the server and the backup until it is done, then unlocks both (the backup's updated_at moves); the server takes no second restore or backup meanwhile", async ({ sim }) => {
  sim.state.options.restoreMs = 60_000;
  const json = async (method: string, path: string, body?: string) => {
    const res = await call(sim, method, path, body);
    return { status: res.status, body: res.text ? JSON.parse(res.text) : undefined };
  };
  const take = async () => (await json('POST', '/virtual_machines/101/backups.json', '{"backup":{}}')).body.backup.id as number;
  const first = await take();
  sim.state.clock.advance(1_000);
  const second = await take();
  sim.state.clock.advance(1_000);
  const before = (await json('GET', `/backups/${first}.json`)).body.backup;
  assert.equal(before.locked, false);

  assert.equal((await json('POST', `/backups/${first}/restore.json`, '{}')).status, 201);
  assert.equal((await json('GET', '/virtual_machines/101.json')).body.virtual_machine.locked, true);
  assert.equal((await json('GET', `/backups/${first}.json`)).body.backup.locked, true);
  assert.deepEqual(await json('POST', `/backups/${second}/restore.json`, '{}'), { status: 422, body: { errors: { base: ['Virtual server is locked by a running restore'] } } });
  assert.equal((await json('POST', '/virtual_machines/101/backups.json', '{"backup":{}}')).status, 422);

  sim.state.clock.advance(60_000);
  assert.equal((await json('GET', '/virtual_machines/101.json')).body.virtual_machine.locked, false);
  const after = (await json('GET', `/backups/${first}.json`)).body.backup;
  assert.equal(after.locked, false);
  assert.ok(after.updated_at > before.updated_at, `updated_at ${after.updated_at} after the restore, ${before.updated_at} before`);

  const building = await take();
  assert.deepEqual(await json('POST', `/backups/${second}/restore.json`, '{}'), { status: 422, body: { errors: { base: [`A backup of this virtual server is being taken (backup ${building})`] } } });
});
