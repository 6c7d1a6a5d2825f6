/**
 * The oVirt simulator spoken to as an official client would: SSO token, then Bearer calls with XML.
 * Run: node --import tsx --test test/simulators/ovirt-simulator.test.ts
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, test } from 'vitest';
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
const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

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

beforeAll(async () => {
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

afterAll(async () => {
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
  // The guest's own name for the disk, as the guest agent reports it; the simulator's folder plays the guest's /dev.
  const logicalName: string = attached.doc.disk_attachment.logical_name;
  assert.equal(logicalName, '/dev/sdb');
  const guestNode = join(deviceRoot, 'sdb');
  const byId = join(deviceRoot, 'by-id', `scsi-0QEMU_QEMU_HARDDISK_${osDisk.slice(0, 20)}`);
  assert.ok(lstatSync(byId).isSymbolicLink());
  assert.equal(await sha256(byId), contentAtSnapshot, 'the device shows the snapshot, not the live disk');
  assert.equal(await sha256(guestNode), contentAtSnapshot);

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
  assert.equal(existsSync(guestNode), false);
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
      call(
        'POST',
        `/vms/${proxy}/diskattachments`,
        `<disk_attachment><disk id="${diskId}"><snapshot id="${sid}"/></disk><active>true</active><bootable>false</bootable><interface>virtio_scsi</interface></disk_attachment>`,
      );

    const both = await Promise.all(disks.map(attach));
    for (const r of both) assert.equal(r.status, 201, r.text);
    const names = both.map((r) => r.doc.disk_attachment.logical_name as string);
    const node = (logicalName: string) => join(deviceRoot, basename(logicalName));
    // sda is the proxy's boot disk, sdc the foreign node.
    assert.deepEqual([...names].sort(), ['/dev/sdb', '/dev/sdd']);
    for (const name of names) assert.ok(lstatSync(node(name)).isSymbolicLink(), name);
    assert.equal(await readFile(foreign, 'utf8'), 'not a link');

    const first = disks[names.indexOf('/dev/sdb')]!;
    assert.equal((await call('DELETE', `/vms/${proxy}/diskattachments/${first}?detach_only=true`)).status, 200);
    assert.equal(existsSync(join(deviceRoot, 'sdb')), false);
    const again = await attach(first);
    assert.equal(again.status, 201, again.text);
    assert.equal(again.doc.disk_attachment.logical_name, '/dev/sdb');

    // A node that appears after the simulator started is skipped too, and left as it is.
    assert.equal((await call('DELETE', `/vms/${proxy}/diskattachments/${first}?detach_only=true`)).status, 200);
    const late = join(deviceRoot, 'sdb');
    await writeFile(late, 'hot-plugged by hand');
    const third = await attach(first);
    assert.equal(third.status, 201, third.text);
    assert.equal(third.doc.disk_attachment.logical_name, '/dev/sde');
    assert.equal(await readFile(late, 'utf8'), 'hot-plugged by hand');
    names.push(third.doc.disk_attachment.logical_name);

    for (const diskId of disks) assert.equal((await call('DELETE', `/vms/${proxy}/diskattachments/${diskId}?detach_only=true`)).status, 200);
    for (const name of names.map(node).filter((n) => n !== late)) assert.equal(existsSync(name), false, name);
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

test('a 4.5 engine serves no v3: Version: 3 or /v3 gets the VersionFilter’s bare 400, whatever the path', async () => {
  const root = await call('GET', '');
  assert.equal(root.doc.api.product_info.version.major, '4');
  for (const [path, headers] of [
    ['', { version: '3' }],
    [`/vms/${OVIRT_DEMO.proxyVmId}/disks`, { version: '3' }],
    [`/vms/${OVIRT_DEMO.vmId}/snapshots`, { version: '3' }],
    ['/v3/vms', {}],
    [`/v3/vms/${OVIRT_DEMO.proxyVmId}/disks`, {}],
    ['/vms', { version: '5' }],
  ] as const) {
    const r = await call('GET', path, undefined, headers);
    assert.equal(r.status, 400, `${path} ${JSON.stringify(headers)}`);
    assert.doesNotMatch(r.headers.get('content-type') ?? '', /xml/, 'no <fault>: the request never reaches the API');
  }
  // A v3 detach is refused before it can do anything; the v4 paths answer as ever.
  assert.equal((await call('DELETE', `/vms/${OVIRT_DEMO.proxyVmId}/disks/${OVIRT_DEMO.proxyBootDiskId}`, '<action><detach>true</detach></action>', { version: '3' })).status, 400);
  assert.equal((await call('DELETE', `/vms/${OVIRT_DEMO.proxyVmId}/disks/${OVIRT_DEMO.proxyBootDiskId}`)).status, 404, 'no /disks below a VM in v4');
  assert.equal((await call('GET', '/v4/vms')).status, 200);
  assert.equal((await call('GET', `/vms/${OVIRT_DEMO.proxyVmId}/diskattachments`)).status, 200);
  assert.equal((await fetch(`${simulator.url}/api/vms`, { headers: { authorization: `Bearer ${token}` } })).status, 404, '4.0 removed the old /api path');
});

test('a 3.6 engine: v3 on /api and /ovirt-engine/api, no SSO, no /v3 paths; a DELETE of a VM disk without the detach action removes the disk and its data', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ovirt-sim-36-'));
  const old = await createOvirtSimulator({
    engineVersion: '3.6',
    dataDir: join(dir, 'data'),
    deviceRoot: join(dir, 'dev'),
    password: PASSWORD,
    snapshotCreateMs: 50,
    snapshotDeleteMs: 50,
    diskSizes: { os: 256 * 1024, data: 128 * 1024 },
  });
  await old.simulator.start(0);
  const basic = `Basic ${Buffer.from(`admin@internal:${PASSWORD}`).toString('base64')}`;
  const call36 = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${old.simulator.url}${path}`, {
      method,
      headers: { accept: 'application/xml', authorization: basic, ...(body !== undefined ? { 'content-type': 'application/xml' } : {}), ...headers },
      body,
    });
    const text = await res.text();
    return { status: res.status, text, doc: text && /xml/.test(res.headers.get('content-type') ?? '') ? (parseXml(text) as Doc) : {} };
  };
  try {
    assert.equal(old.simulator.apiUrl, `${old.simulator.url}/api`);
    for (const base of ['/api', '/ovirt-engine/api']) {
      const root = await call36('GET', base);
      assert.equal(root.status, 200, base);
      assert.deepEqual(root.doc.api.product_info.version, { '@_build': '7', '@_major': '3', '@_minor': '6', '@_revision': '5' });
      assert.match(root.doc.api.product_info.full_version, /^3\.6\./);
      // The Version header a 4.x engine honours is unknown here, and ignored.
      assert.equal((await call36('GET', `${base}/vms/${OVIRT_DEMO.proxyVmId}/disks`, undefined, { version: '4' })).status, 200);
    }
    assert.equal((await call36('GET', `/api/v3/vms`)).status, 404);
    assert.equal((await call36('GET', `/api/vms/${OVIRT_DEMO.proxyVmId}/diskattachments`)).status, 404, 'no v4 paths');
    const ssoLogin = await fetch(`${old.simulator.url}/ovirt-engine/sso/oauth/token`, { method: 'POST', body: 'grant_type=password&scope=ovirt-app-api&username=admin%40internal&password=x' });
    assert.equal(ssoLogin.status, 404, 'SSO came with 4.0');

    // A snapshot of the data disk plugged into the proxy, as a backup does it (the seed's v3 calls).
    const vm = OVIRT_DEMO.vmId;
    const proxy = OVIRT_DEMO.proxyVmId;
    const disk = OVIRT_DEMO.dataDiskId;
    const created = await call36(
      'POST',
      `/api/vms/${vm}/snapshots`,
      `<snapshot><description>v3</description><persist_memorystate>false</persist_memorystate><disks><disk id="${disk}"/></disks></snapshot>`,
    );
    assert.equal(created.status, 201, created.text);
    assert.equal(created.doc.snapshot.type, 'regular');
    assert.equal(created.doc.snapshot.snapshot_type, undefined);
    const sid: string = created.doc.snapshot['@_id'];
    for (let i = 0; i < 100 && (await call36('GET', `/api/vms/${vm}/snapshots/${sid}`)).doc.snapshot.snapshot_status !== 'ok'; i++) await sleep(20);
    const full = await call36('GET', `/api/vms/${vm}/snapshots/${sid}`, undefined, { 'all-content': 'true' });
    assert.match(full.doc.snapshot.initialization.configuration.data, /ovf:Envelope/);
    const plug = () => call36('POST', `/api/vms/${proxy}/disks`, `<disk id="${disk}"><snapshot id="${sid}"/><active>true</active></disk>`);
    const attached = await plug();
    assert.equal(attached.status, 201, attached.text);
    assert.equal(attached.doc.disk.logical_name, '/dev/sdb');
    const listed = asArray((await call36('GET', `/api/vms/${proxy}/disks`)).doc.disks.disk) as Doc[];
    assert.ok(listed.some((d) => d['@_id'] === disk && d.active === 'true'));

    // With the detach action: detached, the snapshot keeps its copy.
    old.simulator.calls.clear();
    const detached = await call36('DELETE', `/api/vms/${proxy}/disks/${disk}`, '<action><detach>true</detach></action>');
    assert.equal(detached.status, 200);
    assert.ok(old.state.snapshotDiskPath(sid, disk));
    assert.equal(old.state.removedDisks.length, 0);

    // Without it (no body, or detach false): the disk is removed, with the snapshot's copy and the live disk.
    for (const body of [undefined, '<action><detach>false</detach></action>']) {
      if (body !== undefined) {
        old.state.reset();
        const again = await call36('POST', `/api/vms/${vm}/snapshots`, `<snapshot><description>v3</description><disks><disk id="${disk}"/></disks></snapshot>`);
        assert.equal(again.status, 201, again.text);
        const sid2: string = again.doc.snapshot['@_id'];
        for (let i = 0; i < 100 && (await call36('GET', `/api/vms/${vm}/snapshots/${sid2}`)).doc.snapshot.snapshot_status !== 'ok'; i++) await sleep(20);
        assert.equal((await call36('POST', `/api/vms/${proxy}/disks`, `<disk id="${disk}"><snapshot id="${sid2}"/><active>true</active></disk>`)).status, 201);
      } else {
        assert.equal((await plug()).status, 201);
      }
      const snapshotId = old.state.attachmentsOf(proxy).find((a) => a.diskId === disk)!.snapshotId!;
      const snapshotCopy = old.state.snapshotDiskPath(snapshotId, disk)!;
      const removed = await call36('DELETE', `/api/vms/${proxy}/disks/${disk}`, body);
      assert.equal(removed.status, 200, removed.text);
      assert.deepEqual(
        old.state.removedDisks.map((d) => [d.id, d.viaVmId, d.wasSnapshotCopy]),
        [[disk, proxy, true]],
      );
      assert.equal((await call36('GET', `/api/disks/${disk}`)).status, 404, 'the disk is gone from the engine');
      assert.equal((await call36('GET', `/api/vms/${proxy}/disks/${disk}`)).status, 404);
      const snapshotDisks = (await call36('GET', `/api/vms/${vm}/snapshots/${snapshotId}/disks`)).doc.disks;
      assert.ok(snapshotDisks === '' || !asArray(snapshotDisks.disk as Doc[]).some((d) => d['@_id'] === disk), 'the snapshot lost its copy');
      assert.equal(existsSync(snapshotCopy), false, 'the frozen bytes are deleted');
      assert.equal(existsSync(join(dir, 'dev', 'sdb')), false);
      const vmDisks = asArray((await call36('GET', `/api/vms/${vm}/disks`)).doc.disks.disk) as Doc[];
      assert.ok(!vmDisks.some((d) => d['@_id'] === disk), 'and the VM lost the disk');
    }
    const notes = old.simulator.calls.matching('DELETE', /^\/vms\/[^/]+\/disks\/[^/]+$/).map((c) => c.note);
    assert.deepEqual(notes, ['detached', 'disk removed', 'disk removed'], 'the call log says what each DELETE did');
  } finally {
    await old.simulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
