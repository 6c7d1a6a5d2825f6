/**
 * Looks at the oVirt simulator through the vendor API itself, as an admin with the engine's API
 * would: which snapshots a VM has, which disks the proxy VM has attached.
 */
import assert from 'node:assert/strict';
import { asArray, parseXml } from '../../lib/xml';
import type { OvirtHarness } from './ovirt-harness';
import { SIM_PASSWORD } from './ovirt-harness';

async function getXml(h: OvirtHarness, path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${h.simulator.apiUrl}${path}`, {
    headers: { accept: 'application/xml', authorization: `Basic ${Buffer.from(`admin@internal:${SIM_PASSWORD}`).toString('base64')}` },
  });
  if (res.status !== 200) throw new Error(`GET ${path} → ${res.status}: ${await res.text()}`);
  return parseXml(await res.text());
}

/** Snapshots other than the engine's own "Active VM" one. */
export async function backupSnapshots(h: OvirtHarness, vmId: string = h.demo.vmId): Promise<Array<{ id: string; description: string; status: string }>> {
  const doc = (await getXml(h, `/vms/${vmId}/snapshots`)) as { snapshots: '' | { snapshot?: unknown } };
  const list = doc.snapshots === '' ? [] : asArray(doc.snapshots.snapshot as Record<string, string>[]);
  return list
    .filter((s) => s.snapshot_type !== 'active')
    .map((s) => ({ id: (s as Record<string, string>)['@_id']!, description: s.description ?? '', status: s.snapshot_status ?? '' }));
}

/** Disk ids attached to the proxy VM, without its own boot disk. */
export async function proxyAttachments(h: OvirtHarness): Promise<string[]> {
  const doc = (await getXml(h, `/vms/${h.demo.proxyVmId}/diskattachments`)) as { disk_attachments: '' | { disk_attachment?: unknown } };
  const list = doc.disk_attachments === '' ? [] : asArray(doc.disk_attachments.disk_attachment as Array<Record<string, unknown>>);
  return list.map((a) => (a.disk as Record<string, string>)['@_id']!).filter((id) => id !== h.demo.proxyBootDiskId);
}

/** Waits for a condition that the simulator reaches on its own clock (snapshot removal). */
export async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function assertClean(h: OvirtHarness): Promise<void> {
  assert.deepEqual(await proxyAttachments(h), [], 'no disk is left attached to the proxy VM');
  assert.deepEqual(await backupSnapshots(h), [], 'no snapshot is left on the VM');
}
