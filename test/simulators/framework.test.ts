/** The simulator framework's shared clock and outcome script, seen through the vendors' own APIs. */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { SimClock } from '../../simulators/framework/clock';
import { OutcomeScript } from '../../simulators/framework/script';
import { createManageiqSimulator, MANAGEIQ_DEMO } from '../../simulators/manageiq';
import { createOnappSimulator, ONAPP_DEMO } from '../../simulators/onapp';

const clock = new SimClock({ startAt: Date.UTC(2026, 0, 1), speedup: 0 });
const miq = createManageiqSimulator({ password: 'pw', taskMs: 60_000, clock });
const onapp = createOnappSimulator({ password: 'pw', buildMs: 3_600_000, clock });
beforeAll(async () => {
  await miq.simulator.start(0);
  await onapp.simulator.start(0);
});
afterAll(async () => {
  await miq.simulator.stop();
  await onapp.simulator.stop();
});

const basic = (user: string) => ({ authorization: `Basic ${Buffer.from(`${user}:pw`).toString('base64')}`, 'content-type': 'application/json' });
async function miqCall(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${miq.simulator.apiUrl}${path}`, { method, headers: basic('admin'), body: body === undefined ? undefined : JSON.stringify(body) });
  return res.json();
}
async function onappCall(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${onapp.simulator.apiUrl}${path}`, { method, headers: basic('admin'), body: body === undefined ? undefined : JSON.stringify(body) });
  return res.json();
}
const createSnapshot = async (name: string) => (await miqCall('POST', `/vms/${MANAGEIQ_DEMO.vmId}/snapshots`, { name, description: 'd' })).results[0].task_id as string;

test('one frozen clock holds two vendors still until it is advanced, then both see the time pass', async () => {
  const taskId = await createSnapshot('clock-a');
  const backup = (await onappCall('POST', `/settings/disks/${ONAPP_DEMO.primaryDiskId}/backups.json`, { backup: { note: 'n' } })).backup;
  assert.equal(miq.simulator.clock, onapp.simulator.clock);
  assert.equal((await miqCall('GET', `/tasks/${taskId}`)).state, 'Queued');
  assert.equal((await onappCall('GET', `/backups/${backup.id}.json`)).backup.built, false);

  clock.advance(60_000);
  assert.equal((await miqCall('GET', `/tasks/${taskId}`)).state, 'Finished', 'a minute later the ManageIQ task is done');
  assert.equal((await onappCall('GET', `/backups/${backup.id}.json`)).backup.built, false, 'the hour-long OnApp build is not');
  clock.advance(3_600_000);
  const built = (await onappCall('GET', `/backups/${backup.id}.json`)).backup;
  assert.equal(built.built, true);
  assert.equal(built.built_at, '2026-01-01T01:00:00+00:00', 'the vendor reports simulated time, not wall time');
});

test('a clock with a speedup runs that many times faster than the wall clock', async () => {
  const fast = new SimClock({ speedup: 1_000 });
  const start = fast.now();
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(fast.now() - start >= 40_000, `${fast.now() - start} ms passed`);
});

test('a scripted outcome ends the next task of its kind only, then the vendor behaves as configured', async () => {
  miq.state.script.next('delete', { status: 'Error', message: 'not for creates' }).next('create', { status: 'Error', message: 'Snapshot creation failed: datastore full' });
  const failed = await createSnapshot('script-a');
  const fine = await createSnapshot('script-b');
  clock.advance(60_000);
  assert.deepEqual([(await miqCall('GET', `/tasks/${failed}`)).status, (await miqCall('GET', `/tasks/${failed}`)).message], ['Error', 'Snapshot creation failed: datastore full']);
  assert.equal((await miqCall('GET', `/tasks/${fine}`)).status, 'Ok');
  const names = (await miqCall('GET', `/vms/${MANAGEIQ_DEMO.vmId}/snapshots?expand=resources`)).resources.map((s: { name: string }) => s.name);
  assert.ok(names.includes('script-b') && !names.includes('script-a'), 'the failed create made no snapshot');
  assert.equal(miq.state.script.pending(), 1, 'the delete outcome waits for a delete');
  miq.simulator.reset();
  assert.equal(miq.state.script.pending(), 0, 'a reset drops what the script did not use');
});

test('take picks the oldest outcome of the kind that fits, and only once', () => {
  const script = new OutcomeScript<{ op: { vm: string; result: string } }>();
  script.next('op', { vm: 'a', result: 'first' }).next('op', { vm: 'b', result: 'other vm' }).next('op', { vm: 'a', result: 'second' });
  assert.equal(script.take('op', (o) => o.vm === 'a')?.result, 'first');
  assert.equal(script.take('op', (o) => o.vm === 'a')?.result, 'second');
  assert.equal(
    script.take('op', (o) => o.vm === 'a'),
    undefined,
  );
  assert.equal(script.take('op')?.result, 'other vm');
});
