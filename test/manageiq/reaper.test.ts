/**
 * The reaper's ManageIQ activities against the simulator (in a mock activity context): what they
 * find, and that a snapshot someone else deleted between the reaper's look and its delete is no
 * error (ManageIQ then answers the bulk delete with a 404 for the whole request).
 */
import { afterAll, beforeAll, beforeEach, test } from 'vitest';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createManageiqReaperActivities } from '../../activities/manageiq/reaper';
import { EndpointClients } from '../../activities/endpoint-clients';
import { EndpointRegistry } from '../../lib/config/endpoints';
import { startManageiqSimulator } from '../helpers/manageiq-harness';

let sim: Awaited<ReturnType<typeof startManageiqSimulator>>;
let clients: EndpointClients;
beforeAll(async () => {
  sim = await startManageiqSimulator({ taskMs: 200 });
  clients = new EndpointClients(EndpointRegistry.fromObject({ endpoints: { 'manageiq-sim': sim.profile('token') } }), sim.env);
});
afterAll(async () => {
  await clients?.close();
  await sim?.simulator.stop();
});
beforeEach(() => {
  sim.state.reset();
  sim.simulator.calls.clear();
});

const RUN_ID = '01a23d07-bad4-7657-aa38-0123456789ab';
const NAME = 'bo-20260101T000000-0123456789ab';

function inActivity<T>(fn: () => Promise<T>): Promise<T> {
  return new MockActivityEnvironment({ startToCloseTimeoutMs: 60_000 }).run(fn);
}

test('a run snapshot deleted by someone else after the reaper listed it is no error; its twin of the same run is still deleted', async () => {
  // A create retried after a lost reply can leave two snapshots with the run's name.
  const first = sim.state.seed(sim.demo.vmId, NAME, Date.now() - 60_000, `[backup-orchestrator ${RUN_ID}] nightly`);
  const second = sim.state.seed(sim.demo.vmId, NAME, Date.now() - 50_000, `[backup-orchestrator ${RUN_ID}] nightly`);
  const reaper = createManageiqReaperActivities(clients);
  const found = await inActivity(() => reaper.manageiqReaperFind({ endpoint: 'manageiq-sim', vmIds: [sim.demo.vmId] }));
  assert.deepEqual(
    found.map((o) => [o.id, o.runId]),
    [
      [first.id, RUN_ID],
      [second.id, RUN_ID],
    ],
  );

  // An admin deletes the first one right after the reaper's remove has listed it.
  sim.state.vanishAfterListing(first.id);
  for (const object of found) await inActivity(() => reaper.manageiqReaperRemove({ object, pollMs: 50, sharedWithKept: false }));
  assert.deepEqual(
    (await sim.snapshotsOf()).map((s) => s.name),
    [...sim.demo.foreignSnapshotNames],
  );
  const bulk = sim.simulator.calls.matching('POST', /^\/vms\/10\/snapshots$/).map((c) => c.status);
  assert.deepEqual(bulk, [404, 200], 'the first bulk delete named the vanished snapshot; the second carried the twin alone');
});
