/**
 * API v3 against a 3.6 engine: `DELETE /vms/{id}/disks/{did}` without the detach action removes the
 * disk and its data. The client refuses to send that DELETE whatever built it, the profile points
 * v3 at the plain path, and the client's own detach reaches the engine as a detach.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refuseDiskRemoval } from '../../activities/ovirt/disk-delete-guard';
import { OvirtClient } from '../../activities/ovirt/client';
import { ovirtProfile } from '../../lib/config/profiles/ovirt';
import { createOvirtSimulator, OVIRT_DEMO, type OvirtState } from '../../simulators/ovirt';
import type { Simulator } from '../../simulators/framework/simulator';

const PASSWORD = 'v3-guard-password';
let tmp: string;
let simulator: Simulator;
let state: OvirtState;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'ovirt-v3-guard-'));
  ({ simulator, state } = await createOvirtSimulator({
    engineVersion: '3.6',
    dataDir: join(tmp, 'data'),
    deviceRoot: join(tmp, 'dev'),
    password: PASSWORD,
    snapshotCreateMs: 50,
    snapshotDeleteMs: 50,
    diskSizes: { os: 256 * 1024, data: 128 * 1024 },
  }));
  await simulator.start(0);
});
afterAll(async () => {
  await simulator.stop();
  await rm(tmp, { recursive: true, force: true });
});

function v3Client(): OvirtClient {
  const profile = ovirtProfile.parse({ vendor: 'ovirt', url: simulator.apiUrl, apiVersion: 'v3', auth: { type: 'basic', username: 'admin@internal', password: { env: 'P' } } });
  return new OvirtClient(profile, { P: PASSWORD });
}

/** A snapshot of the data disk, plugged into the proxy through the client. */
async function attachSnapshotDisk(client: OvirtClient): Promise<string> {
  const snapshot = await client.createSnapshot(OVIRT_DEMO.vmId, 'guard test', [OVIRT_DEMO.dataDiskId], 'corr-guard');
  for (let i = 0; i < 100 && (await client.getSnapshot(OVIRT_DEMO.vmId, snapshot['@_id'])).snapshot_status !== 'ok'; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await client.attachSnapshotDisk(OVIRT_DEMO.proxyVmId, OVIRT_DEMO.dataDiskId, snapshot['@_id']);
  return snapshot['@_id'];
}

test('the guard lets only a DELETE of a VM disk with the detach action through', () => {
  const path = `/vms/${OVIRT_DEMO.proxyVmId}/disks/${OVIRT_DEMO.dataDiskId}`;
  const refused = [undefined, '', '  ', '<action/>', '<action><detach>false</detach></action>', '<action><detach>true</detach>', '<disk/>', Buffer.from('')];
  for (const body of refused) {
    assert.throws(() => refuseDiskRemoval({ method: 'DELETE', path, body }), /refusing to send DELETE .* without <action><detach>true<\/detach><\/action>/, String(body));
  }
  assert.throws(() => refuseDiskRemoval({ method: 'DELETE', path: `https://engine/api${path}` }), /refusing/);
  refuseDiskRemoval({ method: 'DELETE', path, body: '<action><detach>true</detach></action>' });
  refuseDiskRemoval({ method: 'DELETE', path, body: Buffer.from('<?xml version="1.0"?>\n<action>\n  <detach>true</detach>\n</action>') });
  // Other calls are none of its business.
  refuseDiskRemoval({ method: 'DELETE', path: `/vms/${OVIRT_DEMO.vmId}/snapshots/s1` });
  refuseDiskRemoval({ method: 'DELETE', path: `/vms/${OVIRT_DEMO.proxyVmId}/diskattachments/${OVIRT_DEMO.dataDiskId}` });
  refuseDiskRemoval({ method: 'GET', path });
  refuseDiskRemoval({ method: 'POST', path: `/vms/${OVIRT_DEMO.proxyVmId}/disks` });
});

test('a client whose detach body went missing refuses to send the DELETE, and the engine keeps the disk', async () => {
  state.reset();
  const client = v3Client();
  try {
    const snapshotId = await attachSnapshotDisk(client);
    // A regression that loses the body, e.g. a builder that returns nothing.
    (client as unknown as { body: () => string }).body = () => '';
    simulator.calls.clear();
    await assert.rejects(client.detachDisk(OVIRT_DEMO.proxyVmId, OVIRT_DEMO.dataDiskId), /refusing to send DELETE/);
    assert.deepEqual(simulator.calls.matching('DELETE', /./), [], 'nothing reached the engine');
    assert.deepEqual(state.removedDisks, []);
    assert.ok(state.snapshotDiskPath(snapshotId, OVIRT_DEMO.dataDiskId), 'the snapshot still holds the disk');
    assert.ok(state.attachmentsOf(OVIRT_DEMO.proxyVmId).some((a) => a.diskId === OVIRT_DEMO.dataDiskId));
  } finally {
    await client.close();
    state.reset();
  }
});

test('the client’s detach reaches a 3.6 engine as a detach: the disk and its snapshot copy stay', async () => {
  state.reset();
  const client = v3Client();
  try {
    const snapshotId = await attachSnapshotDisk(client);
    simulator.calls.clear();
    await client.detachDisk(OVIRT_DEMO.proxyVmId, OVIRT_DEMO.dataDiskId);
    const deletes = simulator.calls.matching('DELETE', /^\/vms\/[^/]+\/disks\/[^/]+$/);
    assert.deepEqual(
      deletes.map((c) => [c.status, c.note]),
      [[200, 'detached']],
    );
    assert.deepEqual(state.removedDisks, []);
    assert.ok(state.snapshotDiskPath(snapshotId, OVIRT_DEMO.dataDiskId));
    assert.equal(await client.getAttachment(OVIRT_DEMO.proxyVmId, OVIRT_DEMO.dataDiskId), undefined);
  } finally {
    await client.close();
    state.reset();
  }
});

test('a v3 profile points at the plain API path: /api or /ovirt-engine/api, never a /v3 or /v4 one', () => {
  const v3 = (url: string) => ovirtProfile.safeParse({ vendor: 'ovirt', url, apiVersion: 'v3', auth: { type: 'basic', username: 'admin@internal', password: { env: 'P' } } });
  assert.ok(v3('https://engine.example.com/api').success);
  assert.ok(v3('https://engine.example.com/ovirt-engine/api').success);
  for (const url of ['https://engine.example.com/ovirt-engine/api/v3', 'https://engine.example.com/ovirt-engine/api/v4/', 'https://engine.example.com/api/v3']) {
    const parsed = v3(url);
    assert.equal(parsed.success, false, url);
    assert.match(parsed.error!.issues[0]!.message, /apiVersion v3 needs the plain API path/);
    assert.deepEqual(parsed.error!.issues[0]!.path, ['url']);
  }
});
