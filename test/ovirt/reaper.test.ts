/**
 * Terminate skips compensation; the reaper removes what such a run left (its snapshot and the
 * snapshot disks still attached to the proxy) and nothing else: not a snapshot an admin made, not
 * a kept backup snapshot, not the objects of a run that is still going.
 */
import { ovirtTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import type { Progress } from '../../contracts/progress';
import type { ReaperResult } from '../../contracts/reaper/results';
import { SIM_PASSWORD, startOvirtHarness, type OvirtHarness } from '../helpers/ovirt-harness';
import { backupSnapshots, proxyAttachments } from '../helpers/ovirt-inspect';
import { eventually } from '../helpers/eventually';

const test = ovirtTest({ sim: { extraVms: 1 }, copy: { maxBytesPerSecond: 256 * 1024 } });

async function adminSnapshot(h: OvirtHarness, vmId: string, description: string): Promise<void> {
  const res = await fetch(`${h.simulator.apiUrl}/vms/${vmId}/snapshots`, {
    method: 'POST',
    headers: { 'content-type': 'application/xml', authorization: `Basic ${Buffer.from(`admin@internal:${SIM_PASSWORD}`).toString('base64')}` },
    body: `<snapshot><description>${description}</description><persist_memorystate>false</persist_memorystate><disk_attachments/></snapshot>`,
  });
  assert.equal(res.status, 201, await res.text());
}

test('the reaper removes a terminated run’s snapshot and attachments, and only those', async ({ h }) => {
  const other = [...h.state.vms.values()].find((vm) => vm.name === 'vm-001')!;
  // A kept snapshot from a finished backup, and one an admin made by hand.
  await h.execute('ovirtSnapshotBackup', h.input({ keepSnapshot: true, diskIds: [h.demo.dataDiskId] }), 'kept');
  await adminSnapshot(h, h.demo.vmId, 'before upgrade (admin)');
  await eventually(
    () => backupSnapshots(h),
    (s) => s.every((x) => x.status === 'ok'),
  );

  // A backup of another VM still running, slowed down in its copy.
  const live = await h.start('ovirtSnapshotBackup', h.input({ vmId: other.id }), 'live');
  await eventually(
    async () => (await live.query<Progress>('progress')).step,
    (s) => s === 'copy',
    30_000,
  );
  // A backup of web-01 terminated mid-copy: no compensation runs.
  const doomed = await h.start('ovirtSnapshotBackup', h.input(), 'doomed');
  await eventually(
    async () => (await doomed.query<Progress>('progress')).step,
    (s) => s === 'copy',
    30_000,
  );
  await doomed.terminate('simulating an operator terminating the run');
  const doomedRunId = (await doomed.describe()).runId;
  assert.equal((await backupSnapshots(h)).filter((s) => s.description.includes(doomedRunId)).length, 1, 'terminate left the snapshot behind');
  assert.ok((await proxyAttachments(h)).length >= 2, 'and its disks attached to the proxy');

  const dry = (await h.execute('reaper', { endpoints: ['ovirt-sim'], dryRun: true, pollIntervalMs: 100 })) as ReaperResult;
  assert.ok(dry.removed.length >= 3 && dry.removed.every((o) => o.runId === doomedRunId), JSON.stringify(dry.removed));
  assert.equal((await backupSnapshots(h)).filter((s) => s.description.includes(doomedRunId)).length, 1, 'a dry run removes nothing');

  const result = (await h.execute('reaper', { endpoints: ['ovirt-sim'], pollIntervalMs: 100 })) as ReaperResult;
  assert.deepEqual([...new Set(result.removed.map((o) => o.runId))], [doomedRunId]);
  assert.deepEqual(result.removed.map((o) => o.kind).sort(), ['attachment', 'attachment', 'snapshot']);
  assert.deepEqual(result.failed, []);
  assert.ok(
    result.keptForOpenRuns.some((o) => o.vmId === other.id && o.runStatus === 'RUNNING'),
    'the live run’s snapshot was left alone',
  );

  const web01 = await backupSnapshots(h);
  assert.ok(!web01.some((s) => s.description.includes(doomedRunId)), 'the orphan snapshot is gone');
  assert.ok(
    web01.some((s) => s.description.includes('[kept]')),
    'the kept backup snapshot stays',
  );
  assert.ok(
    web01.some((s) => s.description === 'before upgrade (admin)'),
    'the admin’s snapshot stays',
  );
  await live.result();
  await eventually(
    () => proxyAttachments(h),
    (a) => a.length === 0,
  );
  assert.deepEqual(await backupSnapshots(h, other.id), [], 'the live run finished and cleaned up itself');
});
