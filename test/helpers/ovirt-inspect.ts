/**
 * Looks at the oVirt simulator through the vendor API itself, as an admin with the engine's API
 * would: which snapshots a VM has, which disks the proxy VM has attached (through v3 on a 3.6
 * engine, which serves nothing else; through v4 on a 4.5 one, which serves no v3).
 */
import assert from 'node:assert/strict';
import { asArray, parseXml } from '../../lib/xml';
import type { EngineVersion } from '../../simulators/ovirt';
import type { OvirtHarness } from './ovirt-harness';
import { SIM_PASSWORD } from './ovirt-harness';

async function getXml(h: Pick<OvirtHarness, 'simulator'>, path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${h.simulator.apiUrl}${path}`, {
    headers: { accept: 'application/xml', authorization: `Basic ${Buffer.from(`admin@internal:${SIM_PASSWORD}`).toString('base64')}` },
  });
  if (res.status !== 200) throw new Error(`GET ${path} → ${res.status}: ${await res.text()}`);
  return parseXml(await res.text());
}

/** What the helpers need; `engine` says which API the engine speaks (a 4.5 engine when absent). */
type Inspected = Pick<OvirtHarness, 'simulator' | 'demo'> & { engine?: EngineVersion };

/** Snapshots other than the engine's own "Active VM" one. */
export async function backupSnapshots(h: Inspected, vmId: string = h.demo.vmId): Promise<Array<{ id: string; description: string; status: string }>> {
  const doc = (await getXml(h, `/vms/${vmId}/snapshots`)) as { snapshots: '' | { snapshot?: unknown } };
  const list = doc.snapshots === '' ? [] : asArray(doc.snapshots.snapshot as Record<string, string>[]);
  return (
    list
      // v3 called snapshot_type "type".
      .filter((s) => (s.snapshot_type ?? s.type) !== 'active')
      .map((s) => ({ id: (s as Record<string, string>)['@_id']!, description: s.description ?? '', status: s.snapshot_status ?? '' }))
  );
}

/** Disk ids attached to the proxy VM, without its own boot disk. */
export async function proxyAttachments(h: Inspected): Promise<string[]> {
  let ids: string[];
  if (h.engine === '3.6') {
    // v3 has no attachment objects: a VM's disks are its attachments.
    const doc = (await getXml(h, `/vms/${h.demo.proxyVmId}/disks`)) as { disks: '' | { disk?: unknown } };
    ids = (doc.disks === '' ? [] : asArray(doc.disks.disk as Array<Record<string, string>>)).map((d) => d['@_id']!);
  } else {
    const doc = (await getXml(h, `/vms/${h.demo.proxyVmId}/diskattachments`)) as { disk_attachments: '' | { disk_attachment?: unknown } };
    const list = doc.disk_attachments === '' ? [] : asArray(doc.disk_attachments.disk_attachment as Array<Record<string, unknown>>);
    ids = list.map((a) => (a.disk as Record<string, string>)['@_id']!);
  }
  return ids.filter((id) => id !== h.demo.proxyBootDiskId);
}

export async function assertClean(h: Inspected): Promise<void> {
  assert.deepEqual(await proxyAttachments(h), [], 'no disk is left attached to the proxy VM');
  assert.deepEqual(await backupSnapshots(h), [], 'no snapshot is left on the VM');
}
