/** The ManageIQ simulator spoken to as a generic REST client would: documented shapes, absolute hrefs, error bodies, faults. */
import { manageiqSimTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { MANAGEIQ_TEST_PASSWORD, type ManageiqSim } from '../helpers/manageiq-harness';

const test = manageiqSimTest({ taskMs: 200 });
test.beforeEach(({ sim }) => {
  sim.state.options.taskMs = 200;
  sim.state.reset();
});

async function until(probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    assert.ok(Date.now() < deadline, 'timed out waiting for the simulator');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const basic = `Basic ${Buffer.from(`admin:${MANAGEIQ_TEST_PASSWORD}`).toString('base64')}`;
type Json = Record<string, any>;

async function call(
  sim: ManageiqSim,
  method: string,
  path: string,
  options: { body?: unknown; host?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Json | undefined }> {
  const base = options.host ? sim.simulator.url.replace('127.0.0.1', options.host) : sim.simulator.url;
  const res = await fetch(`${base}/api${path}`, {
    method,
    headers: { authorization: basic, accept: 'application/json', ...(options.body ? { 'content-type': 'application/json' } : {}), ...options.headers },
    body: options.body ? JSON.stringify(options.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : undefined };
}

test('every href is absolute and uses the origin the client called', async ({ sim }) => {
  const { body } = await call(sim, 'GET', '/vms/10/snapshots?expand=resources', { host: 'localhost' });
  const origin = sim.simulator.url.replace('127.0.0.1', 'localhost');
  assert.equal(body!.name, 'snapshots');
  assert.equal(body!.subcount, 2);
  for (const r of body!.resources) assert.ok(r.href.startsWith(`${origin}/api/vms/10/snapshots/`), r.href);
  assert.deepEqual(
    body!.actions.map((a: Json) => [a.name, a.method, a.href]),
    [
      ['create', 'post', `${origin}/api/vms/10/snapshots`],
      ['delete', 'post', `${origin}/api/vms/10/snapshots`],
    ],
  );
  const one = await call(sim, 'GET', `/vms/10/snapshots/${body!.resources[0].id}`, { host: 'localhost' });
  assert.deepEqual(
    one.body!.actions.map((a: Json) => `${a.name}:${a.method}`),
    ['revert:post', 'delete:post', 'delete:delete'],
  );
  const onInstance = await call(sim, 'GET', '/instances/20/snapshots?expand=resources');
  assert.equal(onInstance.body!.resources.length, 0);
});

test('errors carry kind, message and klass with the matching HTTP status', async ({ sim }) => {
  const missing = await call(sim, 'GET', '/vms/999');
  assert.equal(missing.status, 404);
  assert.deepEqual(Object.keys(missing.body!.error).sort(), ['kind', 'klass', 'message']);
  assert.equal(missing.body!.error.kind, 'not_found');
  const unauth = await call(sim, 'GET', '/vms/10', { headers: { authorization: 'Basic eDp5' } });
  assert.equal(unauth.status, 401);
  assert.equal(unauth.body!.error.kind, 'unauthorized');
  const badToken = await call(sim, 'GET', '/vms/10', { headers: { authorization: '', 'x-auth-token': 'nope' } });
  assert.equal(badToken.status, 401);
  const revertInstance = await call(sim, 'POST', `/instances/20/snapshots/${sim.state.seed('20', 'x', Date.now()).id}`, { body: { action: 'revert' } });
  assert.equal(revertInstance.status, 400);
  assert.equal(revertInstance.body!.error.kind, 'bad_request');
  const noName = await call(sim, 'POST', '/vms/10/snapshots', { body: { description: 'no name' } });
  assert.equal(noName.status, 400);
  assert.deepEqual(noName.body, { results: [{ success: false, message: 'Must specify a name for the snapshot' }] });
});

test('auth: GET /api/auth gives a token that works as X-Auth-Token until DELETE /api/auth', async ({ sim }) => {
  const auth = await call(sim, 'GET', '/auth');
  assert.equal(typeof auth.body!.auth_token, 'string');
  assert.equal(typeof auth.body!.token_ttl, 'number');
  assert.ok(!Number.isNaN(Date.parse(auth.body!.expires_on)));
  const headers = { authorization: '', 'x-auth-token': auth.body!.auth_token };
  assert.equal((await call(sim, 'GET', '', { headers })).body!.collections.length, 3);
  assert.equal((await call(sim, 'DELETE', '/auth', { headers })).status, 204);
  assert.equal((await call(sim, 'GET', '/vms/10', { headers })).status, 401);
});

test('create → task goes Queued/Active → Finished Ok, then the snapshot is listed; DELETE answers 204 and queues the removal', async ({ sim }) => {
  sim.state.options.taskMs = 1500;
  const created = await call(sim, 'POST', '/vms/10/snapshots', { body: { name: 'snap-a', description: 'd', memory: false } });
  assert.equal(created.status, 200);
  const [result] = created.body!.results;
  assert.equal(result.success, true);
  assert.ok(result.task_href.endsWith(`/api/tasks/${result.task_id}`));
  const early = await call(sim, 'GET', `/tasks/${result.task_id}`);
  assert.ok(['Queued', 'Active'].includes(early.body!.state), early.body!.state);
  await until(async () => (await call(sim, 'GET', `/tasks/${result.task_id}`)).body!.state === 'Finished');
  const done = await call(sim, 'GET', `/tasks/${result.task_id}`);
  assert.deepEqual([done.body!.state, done.body!.status, done.body!.pct_complete], ['Finished', 'Ok', 100]);
  const listed = await call(sim, 'GET', "/vms/10/snapshots?expand=resources&filter[]=name='snap-a'");
  assert.equal(listed.body!.subquery_count, 1);
  const id = listed.body!.resources[0].id;
  assert.equal((await call(sim, 'DELETE', `/vms/10/snapshots/${id}`)).status, 204);
  assert.equal((await call(sim, 'GET', `/vms/10/snapshots/${id}`)).status, 200, 'still there while the removal is queued');
  await until(async () => (await call(sim, 'GET', `/vms/10/snapshots/${id}`)).status === 404);
});

test('paging: pages and links (self, next, previous, first, last) are absolute and keep the query', async ({ sim }) => {
  for (let i = 0; i < 5; i++) sim.state.seed('11', `p-${i}`, Date.now() - i * 1000);
  const { body } = await call(sim, 'GET', '/vms/11/snapshots?expand=resources&sort_by=name&sort_order=asc&offset=2&limit=3');
  assert.equal(body!.pages, 3);
  assert.deepEqual(
    body!.resources.map((r: Json) => r.name),
    ['p-0', 'p-1', 'p-2'],
  );
  for (const key of ['self', 'next', 'previous', 'first', 'last']) assert.ok(body!.links[key].startsWith(`${sim.simulator.url}/api/vms/11/snapshots?`), key);
  assert.match(body!.links.next, /offset=5/);
  assert.match(body!.links.next, /sort_by=name/);
});

test('fault injection through /__sim answers with the ManageIQ error body', async ({ sim }) => {
  const added = await fetch(`${sim.simulator.url}/__sim/faults`, {
    method: 'POST',
    body: JSON.stringify({ method: 'GET', path: '/tasks/:id', action: { kind: 'status', status: 503, message: 'Service Unavailable' } }),
  });
  assert.equal(added.status, 201);
  const res = await call(sim, 'GET', '/tasks/1');
  assert.equal(res.status, 503);
  assert.deepEqual(res.body!.error.message, 'Service Unavailable');
  await fetch(`${sim.simulator.url}/__sim/faults`, { method: 'DELETE' });
});

test('bulk delete naming a snapshot that is gone answers 404 for the whole request; the deletes of those listed before it are queued, those after are not', async ({ sim }) => {
  const [a, b] = (await call(sim, 'GET', '/vms/11/snapshots?expand=resources&sort_by=id')).body!.resources as Json[];
  const res = await call(sim, 'POST', '/vms/11/snapshots', {
    body: { action: 'delete', resources: [{ href: a!.href }, { href: `${sim.simulator.apiUrl}/vms/11/snapshots/424242` }, { href: b!.href }] },
  });
  assert.equal(res.status, 404);
  assert.equal(res.body!.error.kind, 'not_found');
  assert.match(res.body!.error.message, /Couldn't find Snapshot with 'id'=424242/);
  assert.equal(res.body!.results, undefined, 'no per-resource results');
  const tasks = (await call(sim, 'GET', '/tasks?expand=resources')).body!.resources as Json[];
  assert.deepEqual(
    tasks.map((t) => t.name),
    [`Deleting snapshot ${a!.name} for Virtual Machine id:11 name:'db-01'`],
  );
  await until(async () => (await call(sim, 'GET', `/tasks/${tasks[0]!.id}`)).body!.state === 'Finished');
  assert.deepEqual(
    ((await call(sim, 'GET', '/vms/11/snapshots?expand=resources')).body!.resources as Json[]).map((s) => s.id),
    [b!.id],
  );
});

test('action results carry exactly success, message, task_id and task_href; messages name the model as ManageIQ does', async ({ sim }) => {
  const created = await call(sim, 'POST', '/vms/10/snapshots', { body: { name: 'snap-m', description: 'd' } });
  assert.deepEqual(Object.keys(created.body!.results[0]).sort(), ['message', 'success', 'task_href', 'task_id']);
  assert.equal(created.body!.results[0].message, "Creating snapshot snap-m for Virtual Machine id:10 name:'web-01'");
  const [first] = (await call(sim, 'GET', '/vms/10/snapshots?expand=resources&sort_by=id')).body!.resources as Json[];
  const reverted = await call(sim, 'POST', `/vms/10/snapshots/${first!.id}`, { body: { action: 'revert' } });
  assert.deepEqual(Object.keys(reverted.body!).sort(), ['message', 'success', 'task_href', 'task_id']);
  assert.equal(reverted.body!.message, `Reverting to snapshot ${first!.name} for Virtual Machine id:10 name:'web-01'`);
  const deleted = await call(sim, 'POST', `/vms/10/snapshots/${first!.id}`, { body: { action: 'delete' } });
  assert.deepEqual(Object.keys(deleted.body!).sort(), ['message', 'success', 'task_href', 'task_id']);
  const bulk = await call(sim, 'POST', '/vms/11/snapshots', { body: { action: 'delete', resources: [{ href: `${sim.simulator.apiUrl}/vms/11/snapshots/1002` }] } });
  assert.deepEqual(Object.keys(bulk.body!.results[0]).sort(), ['message', 'success', 'task_href', 'task_id']);
  assert.equal(bulk.body!.results[0].message, "Deleting snapshot bo-20240101T000000-aaaaaaaa for Virtual Machine id:11 name:'db-01'");
  const onInstance = await call(sim, 'POST', '/instances/20/snapshots', { body: { name: 'snap-i' } });
  assert.equal(onInstance.body!.results[0].message, "Creating snapshot snap-i for Instance id:20 name:'cloud-app-01'");
  // The task is named after the action, as ManageIQ's queued tasks are.
  assert.equal((await call(sim, 'GET', `/tasks/${created.body!.results[0].task_id}`)).body!.name, "Creating snapshot snap-m for Virtual Machine id:10 name:'web-01'");
});

test('GET /api/vms: filter[], expand=resources, attributes, offset/limit paging with links, counts and the collection actions', async ({ sim }) => {
  const all = await call(sim, 'GET', '/vms');
  assert.equal(all.status, 200);
  assert.equal(all.body!.name, 'vms');
  assert.deepEqual([all.body!.count, all.body!.subcount], [2, 2]);
  assert.deepEqual(all.body!.resources, [{ href: `${sim.simulator.apiUrl}/vms/10` }, { href: `${sim.simulator.apiUrl}/vms/11` }]);
  assert.ok(all.body!.actions.length > 0);
  for (const a of all.body!.actions) {
    assert.deepEqual(Object.keys(a).sort(), ['href', 'method', 'name']);
    assert.equal(a.method, a.method.toLowerCase());
    assert.equal(a.href, `${sim.simulator.apiUrl}/vms`);
  }

  const found = await call(sim, 'GET', "/vms?expand=resources&filter[]=name='web-*'");
  assert.deepEqual([found.body!.count, found.body!.subcount, found.body!.subquery_count], [2, 1, 1]);
  assert.equal(found.body!.resources[0].name, 'web-01');
  assert.equal(found.body!.resources[0].id, '10');
  assert.equal(found.body!.resources[0].vendor, 'vmware');

  const some = await call(sim, 'GET', '/vms?expand=resources&attributes=name');
  assert.deepEqual(some.body!.resources, [
    { href: `${sim.simulator.apiUrl}/vms/10`, id: '10', name: 'web-01' },
    { href: `${sim.simulator.apiUrl}/vms/11`, id: '11', name: 'db-01' },
  ]);

  const paged = await call(sim, 'GET', '/vms?expand=resources&sort_by=name&sort_order=asc&offset=0&limit=1');
  assert.deepEqual([paged.body!.subcount, paged.body!.pages], [1, 2]);
  assert.equal(paged.body!.resources[0].name, 'db-01');
  for (const key of ['self', 'next', 'first', 'last']) assert.ok(paged.body!.links[key].startsWith(`${sim.simulator.apiUrl}/vms?`), key);
  assert.equal(paged.body!.links.previous, undefined);
  const next = await fetch(paged.body!.links.next, { headers: { authorization: basic } }).then((r) => r.json() as Promise<Json>);
  assert.equal(next.resources[0].name, 'web-01');
  assert.equal(next.links.next, undefined);
  assert.match(next.links.previous, /offset=0/);

  const instances = await call(sim, 'GET', '/instances?expand=resources');
  assert.deepEqual(
    instances.body!.resources.map((r: Json) => r.name),
    ['cloud-app-01'],
  );
  assert.equal((await call(sim, 'GET', "/vms?filter[]=nope='x'")).status, 400);
});

test('a VM lists its actions; ?expand=snapshots returns its snapshots inline', async ({ sim }) => {
  const vm = await call(sim, 'GET', '/vms/10');
  assert.ok(vm.body!.actions.length > 0);
  for (const a of vm.body!.actions) {
    assert.deepEqual(Object.keys(a).sort(), ['href', 'method', 'name']);
    assert.equal(a.method, a.method.toLowerCase());
    assert.equal(a.href, `${sim.simulator.apiUrl}/vms/10`);
  }
  assert.equal(vm.body!.snapshots, undefined, 'not inlined unless asked');
  const expanded = await call(sim, 'GET', '/vms/10?expand=snapshots');
  assert.deepEqual(
    expanded.body!.snapshots.map((s: Json) => [s.name, s.vm_or_template_id, s.href.startsWith(`${sim.simulator.apiUrl}/vms/10/snapshots/`)]),
    [
      ['before-upgrade', '10', true],
      ['manual-2024', '10', true],
    ],
  );
  const named = await call(sim, 'GET', '/vms/10?attributes=name');
  assert.deepEqual([named.body!.id, named.body!.name, named.body!.vendor], ['10', 'web-01', undefined]);
});

test('OPTIONS answers JSON (no credentials needed): a collection its attributes, relationships and subcollections; the snapshots subcollection its form', async ({ sim }) => {
  const options = async (path: string) => {
    const res = await fetch(`${sim.simulator.apiUrl}${path}`, { method: 'OPTIONS' });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : undefined };
  };
  const vms = await options('/vms');
  assert.equal(vms.status, 200);
  assert.deepEqual(Object.keys(vms.body!).sort(), ['attributes', 'data', 'relationships', 'subcollections', 'virtual_attributes']);
  assert.ok(vms.body!.attributes.includes('name'));
  assert.ok(vms.body!.subcollections.includes('snapshots'));
  assert.deepEqual(vms.body!.data, {});
  assert.deepEqual((await options('/vms/10')).body, vms.body);
  assert.ok((await options('/instances')).body!.subcollections.includes('snapshots'));
  const form = await options('/vms/10/snapshots');
  assert.equal(form.status, 200);
  assert.ok(form.body!.data.snapshot_form_schema.fields.some((f: Json) => f.name === 'name'));
  assert.equal((await options('/vms/999/snapshots')).status, 404);
  assert.equal((await options('')).status, 200);
});
