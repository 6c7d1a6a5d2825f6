/**
 * The oVirt simulator spoken to as an official client would: SSO token, then Bearer calls with XML.
 * Run: node --import tsx --test test/simulators/ovirt-simulator.test.ts
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { asArray, parseXml } from '../../lib/xml';
import type { Simulator } from '../../simulators/framework/simulator';
import { createOvirtSimulator, OVIRT_DEMO, type OvirtState } from '../../simulators/ovirt';

type Doc = Record<string, any>;

const CREATE_MS = 250;
const DELETE_MS = 200;
const PASSWORD = 'test-password';

let tmp: string;
let deviceRoot: string;
let simulator: Simulator;
let state: OvirtState;
let token: string;

async function sso(username = 'admin@internal', password = PASSWORD): Promise<{ status: number; body: Doc }> {
  const res = await fetch(`${simulator.url}/ovirt-engine/sso/oauth/token`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', scope: 'ovirt-app-api', username, password }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Doc };
}

async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${simulator.apiUrl}${path}`, {
    method,
    headers: {
      accept: 'application/xml',
      version: '4',
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/xml' } : {}),
      ...headers,
    },
    body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, doc: text ? (parseXml(text) as Doc) : {} };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

function snapshotBody(description: string, diskIds: string[]): string {
  const attachments = diskIds.map((id) => `<disk_attachment><disk id="${id}"/></disk_attachment>`).join('');
  return `<snapshot><description>${description}</description><persist_memorystate>false</persist_memorystate><disk_attachments>${attachments}</disk_attachments></snapshot>`;
}

async function waitForStatus(sid: string, status: string): Promise<Doc> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const r = await call('GET', `/vms/${OVIRT_DEMO.vmId}/snapshots/${sid}`);
    assert.equal(r.status, 200);
    if (r.doc.snapshot.snapshot_status === status || Date.now() > deadline) return r.doc.snapshot;
    await sleep(50);
  }
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'ovirt-sim-test-'));
  deviceRoot = join(tmp, 'dev');
  ({ simulator, state } = await createOvirtSimulator({
    dataDir: join(tmp, 'data'),
    deviceRoot,
    password: PASSWORD,
    snapshotCreateMs: CREATE_MS,
    snapshotDeleteMs: DELETE_MS,
    diskSizes: { os: 2 * 1024 * 1024 + 777, data: 1024 * 1024 },
    extraVms: 3,
  }));
  await simulator.start(0);
});

after(async () => {
  await simulator.stop();
  await rm(tmp, { recursive: true, force: true });
});

test('401 without credentials, SSO token, then Bearer calls', async () => {
  const anonymous = await fetch(`${simulator.apiUrl}/vms`);
  assert.equal(anonymous.status, 401);
  assert.ok(anonymous.headers.get('www-authenticate'));
  assert.equal((parseXml(await anonymous.text()) as Doc).fault.reason, 'Unauthorized');

  const wrong = await sso('admin@internal', 'nope');
  assert.equal(wrong.status, 400);
  assert.equal(wrong.body.error, 'access_denied');

  const good = await sso();
  assert.equal(good.status, 200);
  assert.equal(good.body.token_type, 'bearer');
  assert.ok(Number(good.body.exp) > Date.now());
  token = good.body.access_token;

  const root = await call('GET', '');
  assert.equal(root.status, 200);
  assert.match(root.headers.get('content-type') ?? '', /^application\/xml/);
  assert.equal(root.doc.api.product_info.name, 'oVirt Engine');

  const vms = await call('GET', '/vms?search=name%3Dweb-01');
  const list = asArray(vms.doc.vms.vm) as Doc[];
  assert.equal(list.length, 1);
  assert.equal(list[0]!['@_id'], OVIRT_DEMO.vmId);
  assert.equal(list[0]!.status, 'up');
  assert.equal((asArray((await call('GET', '/vms')).doc.vms.vm) as Doc[]).length, 5);
});

test('snapshot lifecycle: create, config, attach, frozen bytes, detach, delete', async () => {
  const vm = OVIRT_DEMO.vmId;
  const proxy = OVIRT_DEMO.proxyVmId;
  const osDisk = OVIRT_DEMO.osDiskId;

  // A fault rule fires once: the first create answers 503, the retry goes through.
  simulator.faults.add({ method: 'POST', path: '/vms/:id/snapshots', action: { kind: 'status', status: 503 } });
  const injected = await call('POST', `/vms/${vm}/snapshots`, snapshotBody('backup-1', [osDisk, OVIRT_DEMO.dataDiskId]));
  assert.equal(injected.status, 503);
  assert.ok(injected.doc.fault.reason);

  const contentAtSnapshot = await state.diskContentSha256(osDisk);
  const created = await call('POST', `/vms/${vm}/snapshots?correlation_id=corr-1`, snapshotBody('backup-1', [osDisk, OVIRT_DEMO.dataDiskId]));
  assert.equal(created.status, 201, created.text);
  assert.equal(created.doc.snapshot.snapshot_status, 'locked');
  assert.equal(created.doc.snapshot.persist_memorystate, 'false');
  const sid: string = created.doc.snapshot['@_id'];

  // The VM is locked while the snapshot is made.
  const second = await call('POST', `/vms/${vm}/snapshots`, snapshotBody('backup-2', [osDisk]));
  assert.equal(second.status, 409);
  assert.match(second.doc.fault.detail, /Snapshot is currently being created for VM web-01/);

  const jobs = await call('GET', `/jobs?search=${encodeURIComponent('correlation_id=corr-1')}`);
  assert.equal((asArray(jobs.doc.jobs.job) as Doc[]).length, 1);

  assert.equal((await waitForStatus(sid, 'ok')).snapshot_status, 'ok');
  const listed = asArray((await call('GET', `/vms/${vm}/snapshots`)).doc.snapshots.snapshot) as Doc[];
  assert.ok(listed.some((s) => s.snapshot_type === 'active' && s.description === 'Active VM'));
  assert.ok(listed.some((s) => s['@_id'] === sid));

  // The live disk moves on; the snapshot does not.
  await state.writeToDisk(osDisk);
  assert.notEqual(await state.diskContentSha256(osDisk), contentAtSnapshot);
  assert.equal(await sha256(state.snapshotDiskPath(sid, osDisk)!), contentAtSnapshot);

  const plain = await call('GET', `/vms/${vm}/snapshots/${sid}`);
  assert.equal(plain.doc.snapshot.initialization, undefined);
  const full = await call('GET', `/vms/${vm}/snapshots/${sid}?all_content=true`);
  const config = full.doc.snapshot.initialization.configuration;
  assert.equal(config.type, 'ovf');
  assert.match(config.data, /ovf:Envelope/);
  assert.match(config.data, /<Name>web-01<\/Name>/);
  assert.ok(config.data.includes(osDisk));

  const snapDisks = asArray((await call('GET', `/vms/${vm}/snapshots/${sid}/disks`)).doc.disks.disk) as Doc[];
  assert.deepEqual(snapDisks.map((d) => d['@_id']).sort(), [osDisk, OVIRT_DEMO.dataDiskId].sort());
  assert.equal(snapDisks[0]!.snapshot['@_id'], sid);

  const attachBody = `<disk_attachment><disk id="${osDisk}"><snapshot id="${sid}"/></disk><active>true</active><bootable>false</bootable><interface>virtio_scsi</interface></disk_attachment>`;
  const attached = await call('POST', `/vms/${proxy}/diskattachments`, attachBody);
  assert.equal(attached.status, 201, attached.text);
  assert.equal(attached.doc.disk_attachment['@_id'], osDisk);
  const logicalName: string = attached.doc.disk_attachment.logical_name;
  assert.equal(logicalName, join(deviceRoot, 'sdb'));
  const byId = join(deviceRoot, 'by-id', `scsi-0QEMU_QEMU_HARDDISK_${osDisk.slice(0, 20)}`);
  assert.ok(lstatSync(byId).isSymbolicLink());
  assert.equal(await sha256(byId), contentAtSnapshot, 'the device shows the snapshot, not the live disk');
  assert.equal(await sha256(logicalName), contentAtSnapshot);

  const again = await call('POST', `/vms/${proxy}/diskattachments`, attachBody);
  assert.equal(again.status, 409);
  assert.match(again.doc.fault.detail, /already attached to VM backup-proxy/);

  const blocked = await call('DELETE', `/vms/${vm}/snapshots/${sid}`);
  assert.equal(blocked.status, 409);
  assert.equal(blocked.doc.fault.reason, 'Operation Failed');
  assert.match(blocked.doc.fault.detail, /Cannot remove Snapshot\. Disk web-01_Disk1 is attached to VM backup-proxy/);

  const detached = await call('DELETE', `/vms/${proxy}/diskattachments/${osDisk}?detach_only=true`);
  assert.equal(detached.status, 200);
  assert.equal(detached.text, '');
  assert.equal(existsSync(byId), false);
  assert.equal(existsSync(logicalName), false);
  assert.equal((await call('DELETE', `/vms/${proxy}/diskattachments/${osDisk}`)).status, 404);

  const deleted = await call('DELETE', `/vms/${vm}/snapshots/${sid}`);
  assert.equal(deleted.status, 200);
  assert.equal(deleted.text, '');
  assert.equal((await call('GET', `/vms/${vm}/snapshots/${sid}`)).doc.snapshot.snapshot_status, 'locked');
  await sleep(DELETE_MS + 50);
  const gone = await call('GET', `/vms/${vm}/snapshots/${sid}`);
  assert.equal(gone.status, 404);
  assert.equal(gone.doc.fault.reason, 'Not Found');
});

test('validation faults', async () => {
  const vm = OVIRT_DEMO.vmId;
  const noDescription = await call('POST', `/vms/${vm}/snapshots`, '<snapshot><persist_memorystate>false</persist_memorystate></snapshot>');
  assert.equal(noDescription.status, 400);
  assert.equal(noDescription.doc.fault.reason, 'Incomplete parameters');
  assert.equal(noDescription.doc.fault.detail, 'Snapshot [description] required for add');

  const shareable = await call('POST', `/vms/${vm}/snapshots`, snapshotBody('x', [OVIRT_DEMO.shareableDiskId, OVIRT_DEMO.lunDiskId]));
  assert.equal(shareable.status, 409);
  assert.match(shareable.doc.fault.detail, /cannot be snapshotted: web-01_shared \(shareable\), web-01_lun \(direct LUN\)/);

  const malformed = await call('POST', `/vms/${vm}/snapshots`, '<snapshot><description>x</snap');
  assert.equal(malformed.status, 400);

  const noInterface = await call('POST', `/vms/${OVIRT_DEMO.proxyVmId}/diskattachments`, `<disk_attachment><disk id="${OVIRT_DEMO.osDiskId}"/></disk_attachment>`);
  assert.equal(noInterface.status, 400);
  assert.equal(noInterface.doc.fault.detail, 'DiskAttachment [interface] required for add');

  assert.equal((await call('GET', '/vms/00000000-0000-0000-0000-00000000dead')).status, 404);
});

test('v3 shapes: type instead of snapshot_type, All-Content header, disks under the VM', async () => {
  const v3 = { version: '3' };
  const created = await call('POST', `/vms/${OVIRT_DEMO.vmId}/snapshots`, `<snapshot><description>v3</description><disks><disk id="${OVIRT_DEMO.dataDiskId}"/></disks></snapshot>`, v3);
  assert.equal(created.status, 201, created.text);
  assert.equal(created.doc.snapshot.type, 'regular');
  assert.equal(created.doc.snapshot.snapshot_type, undefined);
  const sid: string = created.doc.snapshot['@_id'];
  await waitForStatus(sid, 'ok');
  const full = await call('GET', `/vms/${OVIRT_DEMO.vmId}/snapshots/${sid}`, undefined, { ...v3, 'all-content': 'true' });
  assert.match(full.doc.snapshot.initialization.configuration.data, /ovf:Envelope/);

  const attached = await call('POST', `/vms/${OVIRT_DEMO.proxyVmId}/disks`, `<disk id="${OVIRT_DEMO.dataDiskId}"><snapshot id="${sid}"/><active>true</active></disk>`, v3);
  assert.equal(attached.status, 201, attached.text);
  const disks = asArray((await call('GET', `/v3/vms/${OVIRT_DEMO.proxyVmId}/disks`)).doc.disks.disk) as Doc[];
  assert.ok(disks.some((d) => d['@_id'] === OVIRT_DEMO.dataDiskId && d.active === 'true'));
  const detached = await call('DELETE', `/vms/${OVIRT_DEMO.proxyVmId}/disks/${OVIRT_DEMO.dataDiskId}`, '<action><detach>true</detach></action>', v3);
  assert.equal(detached.status, 200);
  assert.equal((await call('DELETE', `/vms/${OVIRT_DEMO.vmId}/snapshots/${sid}`)).status, 200);
});

test('device names: concurrent attaches get distinct ones, a detached name is handed out again, a node the simulator did not make (there at start or appearing later) is skipped and left alone', async () => {
  // A device node the simulator did not make (say, a disk hot-plugged by hand) keeps its name.
  const foreign = join(deviceRoot, 'sdc');
  await writeFile(foreign, 'not a link');
  state.reset();
  try {
    const vm = OVIRT_DEMO.vmId;
    const proxy = OVIRT_DEMO.proxyVmId;
    const disks = [OVIRT_DEMO.osDiskId, OVIRT_DEMO.dataDiskId];
    const snap = await call('POST', `/vms/${vm}/snapshots`, snapshotBody('names', disks));
    assert.equal(snap.status, 201, snap.text);
    const sid: string = snap.doc.snapshot['@_id'];
    assert.equal((await waitForStatus(sid, 'ok')).snapshot_status, 'ok');
    const attach = (diskId: string) =>
      call('POST', `/vms/${proxy}/diskattachments`, `<disk_attachment><disk id="${diskId}"><snapshot id="${sid}"/></disk><active>true</active><bootable>false</bootable><interface>virtio_scsi</interface></disk_attachment>`);

    const both = await Promise.all(disks.map(attach));
    for (const r of both) assert.equal(r.status, 201, r.text);
    const names = both.map((r) => r.doc.disk_attachment.logical_name as string);
    // sda is the proxy's boot disk, sdc the foreign node.
    assert.deepEqual([...names].sort(), [join(deviceRoot, 'sdb'), join(deviceRoot, 'sdd')]);
    for (const name of names) assert.ok(lstatSync(name).isSymbolicLink(), name);
    assert.equal(await readFile(foreign, 'utf8'), 'not a link');

    const first = disks[names.indexOf(join(deviceRoot, 'sdb'))]!;
    assert.equal((await call('DELETE', `/vms/${proxy}/diskattachments/${first}?detach_only=true`)).status, 200);
    assert.equal(existsSync(join(deviceRoot, 'sdb')), false);
    const again = await attach(first);
    assert.equal(again.status, 201, again.text);
    assert.equal(again.doc.disk_attachment.logical_name, join(deviceRoot, 'sdb'));

    // A node that appears after the simulator started is skipped too, and left as it is.
    assert.equal((await call('DELETE', `/vms/${proxy}/diskattachments/${first}?detach_only=true`)).status, 200);
    const late = join(deviceRoot, 'sdb');
    await writeFile(late, 'hot-plugged by hand');
    const third = await attach(first);
    assert.equal(third.status, 201, third.text);
    assert.equal(third.doc.disk_attachment.logical_name, join(deviceRoot, 'sde'));
    assert.equal(await readFile(late, 'utf8'), 'hot-plugged by hand');
    names.push(third.doc.disk_attachment.logical_name);

    for (const diskId of disks) assert.equal((await call('DELETE', `/vms/${proxy}/diskattachments/${diskId}?detach_only=true`)).status, 200);
    for (const name of names.filter((n) => n !== late)) assert.equal(existsSync(name), false, name);
    assert.equal(await readFile(late, 'utf8'), 'hot-plugged by hand');
    assert.equal((await call('DELETE', `/vms/${vm}/snapshots/${sid}`)).status, 200);
  } finally {
    await rm(foreign, { force: true });
    await rm(join(deviceRoot, 'sdb'), { force: true });
    state.reset();
  }
});

test('expired tokens answer 401; a new token works', async () => {
  state.expireAllTokens();
  assert.equal((await call('GET', '/vms')).status, 401);
  token = (await sso()).body.access_token;
  assert.equal((await call('GET', '/vms')).status, 200);
});
