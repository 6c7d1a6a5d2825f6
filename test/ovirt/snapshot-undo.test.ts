/**
 * The backup's snapshot undo against the oVirt simulator (in a mock activity context): an unreadable
 * engine answer while it looks for the run's snapshot is retried, so one garbled reply does not leave
 * the snapshot in place with the run waiting for an operator.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { EndpointClients } from '../../activities/endpoint-clients';
import { createOvirtActivities, snapshotTag, type OvirtActivities } from '../../activities/ovirt/activities';
import { OvirtClient } from '../../activities/ovirt/client';
import { EndpointRegistry } from '../../lib/config/endpoints';
import { createOvirtSimulator, OVIRT_DEMO } from '../../simulators/ovirt';
import type { Simulator } from '../../simulators/framework/simulator';

const PASSWORD = 'snapshot-undo-password';
const RUN = '5c1d2e3f-4a5b-4c6d-8e7f-901234567890';
const MiB = 1024 * 1024;

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  assert.fail('expected a rejection');
}

describe.each([
  { api: 'v4' as const, engine: '4.5' as const, auth: 'sso' as const },
  { api: 'v3' as const, engine: '3.6' as const, auth: 'basic' as const },
])('snapshot undo, API $api', ({ api, engine, auth }) => {
  let tmp: string;
  let simulator: Simulator;
  let clients: EndpointClients;
  let act: OvirtActivities;
  const endpoint = 'ovirt-sim';
  const run = <T>(fn: (a: OvirtActivities) => Promise<T>) => new MockActivityEnvironment({ startToCloseTimeoutMs: 30_000 }).run(() => fn(act)) as Promise<T>;
  const runSnapshots = async () => {
    const client = clients.client(endpoint, 'ovirt', (profile, env) => new OvirtClient(profile, env));
    return (await client.listSnapshots(OVIRT_DEMO.vmId)).filter((s) => s.description?.startsWith(snapshotTag(RUN)));
  };

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), `ovirt-snapshot-undo-${api}-`));
    ({ simulator } = await createOvirtSimulator({
      engineVersion: engine,
      dataDir: join(tmp, 'data'),
      deviceRoot: join(tmp, 'dev'),
      password: PASSWORD,
      snapshotCreateMs: 50,
      snapshotDeleteMs: 50,
      diskSizes: { os: 2 * MiB, data: MiB },
    }));
    await simulator.start(0);
    const profile = { vendor: 'ovirt', url: simulator.apiUrl, apiVersion: api, auth: { type: auth, username: 'admin@internal', password: { env: 'P' } } };
    clients = new EndpointClients(EndpointRegistry.fromObject({ endpoints: { [endpoint]: profile } }), { P: PASSWORD });
    act = createOvirtActivities(clients);
  });

  afterAll(async () => {
    await clients?.close();
    await simulator?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  test('a garbled answer while the undo looks for the run’s snapshot is retried, and the next attempt removes it', async () => {
    const vmRef = { endpoint, vmId: OVIRT_DEMO.vmId };
    const { snapshotId } = await run((a) => a.ovirtCreateSnapshot({ ...vmRef, runId: RUN, description: 'undo test', diskIds: [OVIRT_DEMO.osDiskId] }));
    // As in the run: the engine refuses to remove a snapshot it is still creating.
    await run((a) => a.ovirtWaitSnapshotReady({ ...vmRef, snapshotId, deadline: Date.now() + 10_000, pollMs: 20 }));
    assert.equal((await runSnapshots()).length, 1);
    // The create's reply was lost, so the undo finds the snapshot by the run's tag: its list is garbled once.
    simulator.faults.add({ method: 'GET', path: `/vms/${OVIRT_DEMO.vmId}/snapshots`, times: 1, action: { kind: 'malformed' } });
    const err = await rejection(run((a) => a.ovirtDeleteSnapshot({ ...vmRef, runId: RUN, pollMs: 30 })));
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.nonRetryable, false, `retried by the undo's policy: ${err.message}`);
    assert.match(err.message, /unexpected response body/);
    const second = await run((a) => a.ovirtDeleteSnapshot({ ...vmRef, runId: RUN, pollMs: 30 }));
    assert.equal(second.deleted.length, 1);
    assert.deepEqual(await runSnapshots(), []);
  });
});
