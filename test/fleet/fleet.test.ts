/**
 * A fleet of 50 simulated VMs, three of which the engine refuses to snapshot: 47 succeed, the three
 * are reported with the engine's reason, and the simulator never saw more backups in flight than
 * the caps allow.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FleetCounts, FleetResult } from '../../workflows/fleet-backup';
import { startOvirtHarness, type OvirtHarness } from '../helpers/ovirt-harness';
import { assertClean, backupSnapshots, eventually } from '../helpers/ovirt-inspect';

let h: OvirtHarness;
before(async () => {
  h = await startOvirtHarness({ sim: { extraVms: 50, snapshotCreateMs: 150, snapshotDeleteMs: 100 } });
});
after(async () => h?.stop());

test('50 VMs, 3 failing: 47 succeed, 3 are reported, caps are never exceeded', async () => {
  const fleetVms = [...h.state.vms.values()].filter((vm) => vm.name.startsWith('vm-'));
  assert.equal(fleetVms.length, 50);
  const doomed = [fleetVms[4]!, fleetVms[20]!, fleetVms[41]!];
  for (const vm of doomed) {
    h.simulator.faults.add({
      method: 'POST',
      path: `/vms/${vm.id}/snapshots`,
      times: 0,
      action: { kind: 'status', status: 409, message: 'Operation Failed', detail: `[Cannot create Snapshot. Storage domain of ${vm.name} is in maintenance.]` },
    });
  }
  const caps = { maxConcurrent: 4, maxPerProxy: 3 };
  const handle = await h.start('fleetBackup', {
    workflowType: 'ovirtSnapshotBackup',
    defaults: { endpoint: 'ovirt-sim', proxyVmId: h.demo.proxyVmId, pollIntervalMs: 100 },
    query: { filter: 'name=vm-*' },
    ...caps,
  });
  const midway = await eventually(() => handle.query<FleetCounts>('fleetCounts'), (c) => c.succeeded >= 5, 60_000);
  assert.equal(midway.total, 50);
  assert.ok(midway.running <= caps.maxPerProxy);

  const result = (await handle.result()) as FleetResult;
  assert.equal(result.counts.succeeded, 47);
  assert.equal(result.counts.failed, 3);
  assert.equal(result.counts.skipped, 0);
  const failed = result.outcomes.filter((o) => o.outcome === 'failed');
  assert.deepEqual(failed.map((o) => o.vm).sort(), doomed.map((vm) => vm.id).sort());
  for (const o of failed) assert.match(o.reason!, /step "snapshot" failed: .*Storage domain of vm-\d+ is in maintenance/);

  assert.ok(h.state.peaks.snapshots <= caps.maxConcurrent, `peak snapshots in flight ${h.state.peaks.snapshots}`);
  assert.ok((h.state.peaks.snapshotAttachmentsByVm[h.demo.proxyVmId] ?? 0) <= caps.maxPerProxy, `peak attached to the proxy ${JSON.stringify(h.state.peaks.snapshotAttachmentsByVm)}`);
  assert.ok(h.state.peaks.snapshots >= 2, 'the fleet did run backups side by side');
  for (const vm of fleetVms.slice(0, 3)) assert.deepEqual(await backupSnapshots(h, vm.id), []);
  await assertClean(h);
});

test('a VM already being backed up is skipped, and a bad per-VM input is reported without stopping the rest', async () => {
  const [busy, other] = [...h.state.vms.values()].filter((vm) => vm.name.startsWith('vm-'));
  // Hold the busy VM's backup in the snapshot step while the fleet runs.
  h.simulator.faults.clear();
  h.simulator.faults.add({ method: 'POST', path: `/vms/${busy!.id}/snapshots`, times: 1, action: { kind: 'delay', ms: 4000 } });
  const manual = await h.client.workflow.start('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: `backup-ovirt-${busy!.id}`, args: [h.input({ vmId: busy!.id })] });
  const result = (await h.execute('fleetBackup', {
    workflowType: 'ovirtSnapshotBackup',
    defaults: { endpoint: 'ovirt-sim', proxyVmId: h.demo.proxyVmId, pollIntervalMs: 100 },
    vms: [{ vmId: busy!.id }, { vmId: other!.id }, { vmId: 7 }],
  })) as FleetResult;
  await manual.result();
  const byVm = Object.fromEntries(result.outcomes.map((o) => [o.vm, o]));
  assert.equal(byVm[busy!.id]!.outcome, 'skipped');
  assert.match(byVm[busy!.id]!.reason!, /already running/);
  assert.equal(byVm[other!.id]!.outcome, 'succeeded');
  assert.equal(result.counts.failed, 1);
  assert.match(result.outcomes.find((o) => o.outcome === 'failed')!.reason!, /vmId: vmId must be a string/);
  await eventually(() => backupSnapshots(h, busy!.id), (s) => s.length === 0);
});

test('a fleet larger than one batch continues as new and still reports every VM', async () => {
  const vms = [...h.state.vms.values()].filter((vm) => vm.name.startsWith('vm-')).slice(0, 5);
  const handle = await h.start('fleetBackup', {
    workflowType: 'ovirtSnapshotBackup',
    defaults: { endpoint: 'ovirt-sim', proxyVmId: h.demo.proxyVmId, pollIntervalMs: 100 },
    vms: vms.map((vm) => ({ vmId: vm.id })),
    maxConcurrent: 2,
    batchSize: 2,
  });
  const result = (await handle.result()) as FleetResult;
  assert.equal(result.counts.succeeded, 5);
  assert.equal(result.outcomes.length, 5);
  const description = await handle.describe();
  assert.notEqual(description.runId, handle.firstExecutionRunId, 'the fleet continued as new');
});
