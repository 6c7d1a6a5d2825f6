/**
 * What the oVirt simulator offers a restore, spoken to as a plain client would (XML over HTTP), on
 * a 4.5 engine (v4) and a 3.6 one (v3): storage domains and clusters, floating disks (locked → ok,
 * low space, remove refused while attached), VMs from an OVF (image_locked → down, no disks), boot,
 * and VM removal with or without its disks.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, test } from 'vitest';
import { asArray, buildXml, parseXml } from '../../lib/xml';
import type { Simulator } from '../../simulators/framework/simulator';
import { createOvirtSimulator, OVIRT_DEMO, type OvirtState } from '../../simulators/ovirt';
import { ovfFor } from '../../simulators/ovirt/xml-views';

type Doc = Record<string, any>;
const PASSWORD = 'restore-routes-password';
const MiB = 1024 * 1024;

describe.each([
  { engine: '4.5' as const, v3: false },
  { engine: '3.6' as const, v3: true },
])('oVirt $engine restore routes', ({ engine, v3 }) => {
  let tmp: string;
  let simulator: Simulator;
  let state: OvirtState;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), `ovirt-restore-routes-${engine}-`));
    ({ simulator, state } = await createOvirtSimulator({
      engineVersion: engine,
      dataDir: join(tmp, 'data'),
      deviceRoot: join(tmp, 'dev'),
      password: PASSWORD,
      diskCreateMs: 60_000,
      vmCreateMs: 60_000,
      vmBootMs: 60_000,
      storageDomainFreeBytes: 10 * MiB,
      diskSizes: { os: 256 * 1024, data: 128 * 1024 },
    }));
    await simulator.start(0);
  });
  afterAll(async () => {
    await simulator.stop();
    await rm(tmp, { recursive: true, force: true });
  });
  beforeEach(() => simulator.reset());

  const basic = `Basic ${Buffer.from(`admin@internal:${PASSWORD}`).toString('base64')}`;
  async function call(method: string, path: string, body?: string) {
    const res = await fetch(`${simulator.apiUrl}${path}`, {
      method,
      headers: { accept: 'application/xml', authorization: basic, ...(v3 ? {} : { version: '4' }), ...(body !== undefined ? { 'content-type': 'application/xml' } : {}) },
      body,
    });
    const text = await res.text();
    return { status: res.status, text, doc: text ? (parseXml(text) as Doc) : {} };
  }
  /** Moves simulated time past every configured delay. */
  const later = () => simulator.clock.advance(61_000);
  const diskXml = (size: number, domain = `<storage_domain id="${OVIRT_DEMO.storageDomainId}"/>`) =>
    `<disk><name>r1</name><description>[tag] restored</description><provisioned_size>${size}</provisioned_size><format>raw</format><sparse>false</sparse><storage_domains>${domain}</storage_domains></disk>`;
  const vmXml = (name: string | undefined, cluster: string) =>
    buildXml({
      vm: {
        ...(name ? { name } : {}),
        description: '[tag] restored VM',
        cluster: { name: cluster },
        initialization: { configuration: { type: 'ovf', data: ovfFor(state.getVm(OVIRT_DEMO.vmId), state.snapshotsOf(OVIRT_DEMO.vmId)[0]!) } },
      },
    });
  const attach = (vmId: string, diskId: string) =>
    v3
      ? call('POST', `/vms/${vmId}/disks`, `<disk id="${diskId}"><active>true</active><bootable>true</bootable><interface>virtio_scsi</interface></disk>`)
      : call('POST', `/vms/${vmId}/diskattachments`, `<disk_attachment><disk id="${diskId}"/><active>true</active><bootable>true</bootable><interface>virtio_scsi</interface></disk_attachment>`);

  test('storage domains and clusters: listed, searched by name, read by id', async () => {
    const found = asArray((await call('GET', `/storagedomains?search=name%3D${OVIRT_DEMO.storageDomainName}`)).doc.storage_domains.storage_domain) as Doc[];
    assert.deepEqual(
      found.map((sd) => [sd['@_id'], sd.name, sd.type, sd.available]),
      [[OVIRT_DEMO.storageDomainId, 'data1', 'data', String(10 * MiB)]],
    );
    assert.equal((await call('GET', '/storagedomains?search=name%3Dnope')).doc.storage_domains, '');
    assert.match((await call('GET', `/storagedomains/${OVIRT_DEMO.storageDomainId}`)).doc.storage_domain.used, /^\d+$/);
    assert.equal((await call('GET', '/storagedomains/00000000-0000-0000-0000-00000000beef')).status, 404);
    const clusters = asArray((await call('GET', '/clusters?search=name%3DDefault')).doc.clusters.cluster) as Doc[];
    assert.deepEqual(
      clusters.map((c) => c['@_id']),
      [OVIRT_DEMO.clusterId],
    );
    assert.equal((await call('GET', `/clusters/${OVIRT_DEMO.clusterId}`)).doc.cluster.name, OVIRT_DEMO.clusterName);
    // An existing disk names its domain, so a restore can default to it.
    assert.equal((await call('GET', `/disks/${OVIRT_DEMO.osDiskId}`)).doc.disk.storage_domains.storage_domain['@_id'], OVIRT_DEMO.storageDomainId);
  });

  test('POST /disks: 201 locked, then ok; its space is taken; low space, an unknown domain and missing fields are faults; search by description', async () => {
    const made = await call('POST', '/disks', diskXml(MiB));
    assert.equal(made.status, 201, made.text);
    const id: string = made.doc.disk['@_id'];
    assert.equal(made.doc.disk.status, 'locked');
    assert.equal(state.getStorageDomain(OVIRT_DEMO.storageDomainId).available, 9 * MiB);
    assert.equal((await attach(OVIRT_DEMO.proxyVmId, id)).status, 409, 'a locked disk cannot be attached');
    assert.equal((await call('DELETE', `/disks/${id}`)).status, 409, 'nor removed');
    later();
    assert.equal((await call('GET', `/disks/${id}`)).doc.disk.status, 'ok');
    const listed = asArray((await call('GET', '/disks?search=description%3D%5Btag%5D*')).doc.disks.disk) as Doc[];
    assert.deepEqual(
      listed.map((d) => d['@_id']),
      [id],
    );

    const low = await call('POST', '/disks', diskXml(10 * MiB));
    assert.equal(low.status, 409);
    assert.equal(low.doc.fault.detail, '[Cannot add Virtual Disk. Low disk space on Storage Domain data1.]');
    assert.equal((await call('POST', '/disks', diskXml(MiB, '<storage_domain><name>nope</name></storage_domain>'))).status, 404);
    const incomplete = await call('POST', '/disks', '<disk><name>x</name></disk>');
    assert.equal(incomplete.status, 400);
    assert.match(incomplete.doc.fault.detail, /provisionedSize\|size, format, storageDomains/);
  });

  test('a floating disk attached to the proxy shows as a device; DELETE /disks is refused while attached, done once detached, and gives the space back', async () => {
    const id: string = (await call('POST', '/disks', diskXml(MiB))).doc.disk['@_id'];
    later();
    const plugged = await attach(OVIRT_DEMO.proxyVmId, id);
    assert.equal(plugged.status, 201, plugged.text);
    assert.equal((v3 ? plugged.doc.disk : plugged.doc.disk_attachment).logical_name, '/dev/sdb', 'sda is the proxy’s own boot disk');
    assert.equal(state.attachmentsOf(OVIRT_DEMO.proxyVmId).find((a) => a.diskId === id)!.devicePaths.length, 2);
    const refused = await call('DELETE', `/disks/${id}`);
    assert.equal(refused.status, 409);
    assert.match(refused.doc.fault.detail, /attached to VM backup-proxy/);
    const detached = v3
      ? await call('DELETE', `/vms/${OVIRT_DEMO.proxyVmId}/disks/${id}`, '<action><detach>true</detach></action>')
      : await call('DELETE', `/vms/${OVIRT_DEMO.proxyVmId}/diskattachments/${id}`);
    assert.equal(detached.status, 200);
    assert.equal((await call('DELETE', `/disks/${id}`)).status, 200);
    assert.equal((await call('GET', `/disks/${id}`)).status, 404);
    assert.equal(state.getStorageDomain(OVIRT_DEMO.storageDomainId).available, 10 * MiB);
  });

  test('POST /vms from an OVF: the OVF’s hardware, no disks, image_locked then down; a name in use or an unknown cluster is a fault; the name may come from the OVF', async () => {
    const made = await call('POST', '/vms', vmXml('web-01-restored', OVIRT_DEMO.clusterName));
    assert.equal(made.status, 201, made.text);
    const vm = made.doc.vm;
    assert.deepEqual([vm.name, vm.status, vm.memory, vm.cluster['@_id'], vm.os.type], ['web-01-restored', 'image_locked', String(4 * 1024 * MiB), OVIRT_DEMO.clusterId, 'rhel_8x64']);
    assert.deepEqual(state.attachmentsOf(vm['@_id']), []);
    assert.equal((await call('POST', `/vms/${vm['@_id']}/start`, '<action/>')).status, 409, 'a locked VM does not start');
    later();
    assert.equal((await call('GET', `/vms/${vm['@_id']}`)).doc.vm.status, 'down');

    const clash = await call('POST', '/vms', vmXml('web-01-restored', OVIRT_DEMO.clusterName));
    assert.equal(clash.status, 409);
    assert.match(clash.doc.fault.detail, /^\[Cannot add VM\. The VM name is already in use/);
    assert.equal((await call('POST', '/vms', vmXml(undefined, OVIRT_DEMO.clusterName))).status, 409, 'the OVF’s own name, web-01, is taken');
    const unknown = await call('POST', '/vms', vmXml('other', 'nope'));
    assert.equal(unknown.status, 404);
    assert.match(unknown.doc.fault.detail, /Cluster: name=nope/);
  });

  test('start, stop, and DELETE /vms: refused while up, then removes the VM with its disks, or keeps them with detach_only', async () => {
    for (const detachOnly of [false, true]) {
      simulator.reset();
      const vmId: string = (await call('POST', '/vms', vmXml('restored', OVIRT_DEMO.clusterName))).doc.vm['@_id'];
      const diskId: string = (await call('POST', '/disks', diskXml(MiB))).doc.disk['@_id'];
      later();
      assert.equal((await attach(vmId, diskId)).status, 201);
      const started = await call('POST', `/vms/${vmId}/start`, '<action/>');
      assert.equal(started.status, 200);
      assert.equal(started.doc.action.status, 'complete');
      assert.equal((await call('GET', `/vms/${vmId}`)).doc.vm.status, 'wait_for_launch');
      later();
      assert.equal((await call('GET', `/vms/${vmId}`)).doc.vm.status, 'up');
      const running = await call('DELETE', `/vms/${vmId}`);
      assert.equal(running.status, 409);
      assert.match(running.doc.fault.detail, /VM is running/);
      assert.equal((await call('POST', `/vms/${vmId}/stop`, '<action/>')).status, 200);
      const removed = detachOnly
        ? v3
          ? await call('DELETE', `/vms/${vmId}`, '<action><vm><disks><detach_only>true</detach_only></disks></vm></action>')
          : await call('DELETE', `/vms/${vmId}?detach_only=true`)
        : await call('DELETE', `/vms/${vmId}`);
      assert.equal(removed.status, 200, removed.text);
      assert.equal((await call('GET', `/vms/${vmId}`)).status, 404);
      const disk = await call('GET', `/disks/${diskId}`);
      assert.equal(disk.status, detachOnly ? 200 : 404, detachOnly ? 'detach_only keeps the disk, floating' : 'the disk went with the VM');
      assert.equal(state.removedDisks.map((d) => d.viaVmId).join(), detachOnly ? '' : vmId);
    }
  });
});
