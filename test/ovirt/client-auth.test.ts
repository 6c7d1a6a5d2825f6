/**
 * The oVirt client's credentials against the simulator, without Temporal: an SSO token the engine
 * stopped accepting (it expired, or the engine restarted) is fetched again once and the call goes
 * through; credentials the engine refuses are reported, not retried.
 */
import { afterAll, beforeAll, beforeEach, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OvirtClient } from '../../activities/ovirt/client';
import { ovirtProfile } from '../../lib/config/profiles/ovirt';
import { VendorError } from '../../lib/errors';
import { createOvirtSimulator, OVIRT_DEMO, SSO_TOKEN_PATH } from '../../simulators/ovirt';

const PASSWORD = 'client-auth-Pa55word';
let tmp: string;
let sim: Awaited<ReturnType<typeof createOvirtSimulator>>;
const clients: OvirtClient[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'ovirt-client-auth-'));
  sim = await createOvirtSimulator({ dataDir: join(tmp, 'data'), deviceRoot: join(tmp, 'devices'), password: PASSWORD });
  await sim.simulator.start(0);
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await sim?.simulator.stop();
  await rm(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  sim.simulator.faults.clear();
  sim.simulator.calls.clear();
});

function client(auth: 'sso' | 'basic', password = PASSWORD): OvirtClient {
  const profile = ovirtProfile.parse({ vendor: 'ovirt', url: sim.simulator.apiUrl, apiVersion: 'v4', auth: { type: auth, username: 'admin@internal', password: { env: 'P' } } });
  const c = new OvirtClient(profile, { P: password });
  clients.push(c);
  return c;
}

const vmPath = new RegExp(`/vms/${OVIRT_DEMO.vmId}$`);
const tokenPath = new RegExp(`${SSO_TOKEN_PATH.replace(/[/.]/g, '\\$&')}$`);

async function rejection(promise: Promise<unknown>): Promise<VendorError> {
  const err = await promise.then(
    () => assert.fail('expected the call to fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof VendorError, `expected a VendorError, got ${String(err)}`);
  return err;
}

test('an SSO token the engine no longer accepts is fetched again, once, and the call goes through', async () => {
  const c = client('sso');
  await c.getVm(OVIRT_DEMO.vmId);
  sim.state.expireAllTokens();
  sim.simulator.calls.clear();
  const vm = await c.getVm(OVIRT_DEMO.vmId);
  assert.equal(vm.id, OVIRT_DEMO.vmId);
  assert.deepEqual(
    sim.simulator.calls.matching('GET', vmPath).map((call) => call.status),
    [401, 200],
  );
  assert.equal(sim.simulator.calls.matching('POST', tokenPath).length, 1);
});

test('a fresh SSO token refused as well is reported as a 401, after one renewal', async () => {
  const c = client('sso');
  await c.getVm(OVIRT_DEMO.vmId);
  sim.simulator.calls.clear();
  sim.simulator.faults.add({ method: 'GET', path: `*/vms/${OVIRT_DEMO.vmId}`, times: 0, action: { kind: 'status', status: 401, message: 'Unauthorized' } });
  const err = await rejection(c.getVm(OVIRT_DEMO.vmId));
  assert.equal(err.status, 401);
  assert.equal(err.retryable, false);
  assert.equal(sim.simulator.calls.matching('GET', vmPath).length, 2);
  assert.equal(sim.simulator.calls.matching('POST', tokenPath).length, 1);
});

test('Basic credentials the engine refuses are reported at once: nothing cached to renew', async () => {
  const err = await rejection(client('basic', 'not-the-password').getVm(OVIRT_DEMO.vmId));
  assert.equal(err.status, 401);
  assert.equal(err.retryable, false);
  assert.equal(sim.simulator.calls.matching('GET', vmPath).length, 1);
  assert.equal(sim.simulator.calls.matching('POST', tokenPath).length, 0);
});
