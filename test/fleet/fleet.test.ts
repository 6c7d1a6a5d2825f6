/**
 * A fleet of 50 simulated VMs, three of which the engine refuses to snapshot: 47 succeed, the three
 * are reported with the engine's reason, and the simulator never saw more backups in flight than
 * the caps allow. A fleet terminated or cancelled while a child copies leaves the engine clean
 * without the reaper: the child undoes what it did.
 */
import { ovirtTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { BackupClient } from '../../client/backup-client';
import type { FleetCounts, FleetResult } from '../../contracts/fleet/results';
import type { Progress } from '../../contracts/progress';
import type { OvirtHarness } from '../helpers/ovirt-harness';
import { assertClean, backupSnapshots } from '../helpers/ovirt-inspect';
import { eventually } from '../helpers/eventually';

const test = ovirtTest({ sim: { extraVms: 50, snapshotCreateMs: 150, snapshotDeleteMs: 100 } });

test('50 VMs, 3 failing: 47 succeed, 3 are reported, caps are never exceeded', async ({ h }) => {
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
  const midway = await eventually(
    () => handle.query<FleetCounts>('fleetCounts'),
    (c) => c.succeeded >= 5,
    60_000,
  );
  assert.equal(midway.total, 50);
  assert.ok(midway.running <= caps.maxPerProxy);

  const result = (await handle.result()) as FleetResult;
  assert.equal(result.counts.succeeded, 47);
  assert.equal(result.counts.failed, 3);
  assert.equal(result.counts.skipped, 0);
  const failed = result.recentFailures;
  assert.deepEqual(failed.map((o) => o.vm).sort(), doomed.map((vm) => vm.id).sort());
  for (const o of failed) assert.match(o.reason!, /step "snapshot" failed: .*Storage domain of vm-\d+ is in maintenance/);

  assert.ok(h.state.peaks.snapshots <= caps.maxConcurrent, `peak snapshots in flight ${h.state.peaks.snapshots}`);
  assert.ok((h.state.peaks.snapshotAttachmentsByVm[h.demo.proxyVmId] ?? 0) <= caps.maxPerProxy, `peak attached to the proxy ${JSON.stringify(h.state.peaks.snapshotAttachmentsByVm)}`);
  assert.ok(h.state.peaks.snapshots >= 2, 'the fleet did run backups side by side');
  for (const vm of fleetVms.slice(0, 3)) assert.deepEqual(await backupSnapshots(h, vm.id), []);
  await assertClean(h);
});

test('a VM already being backed up is skipped, and a bad per-VM input is reported without stopping the rest', async ({ h }) => {
  const [busy, other] = [...h.state.vms.values()].filter((vm) => vm.name.startsWith('vm-'));
  // Hold the busy VM's backup in the snapshot step while the fleet runs.
  h.simulator.faults.clear();
  h.simulator.faults.add({ method: 'POST', path: `/vms/${busy!.id}/snapshots`, times: 1, action: { kind: 'delay', ms: 4000 } });
  const manual = await h.client.workflow.start('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: `backup-ovirt-${busy!.id}`, args: [h.input({ vmId: busy!.id })] });
  const fleet = await h.start('fleetBackup', {
    workflowType: 'ovirtSnapshotBackup',
    defaults: { endpoint: 'ovirt-sim', proxyVmId: h.demo.proxyVmId, pollIntervalMs: 100 },
    vms: [{ vmId: busy!.id }, { vmId: other!.id }, { vmId: 7 }],
  });
  const result = (await fleet.result()) as FleetResult;
  await manual.result();
  const table = await new BackupClient(h.client, h.taskQueue).fleetTable(fleet.workflowId);
  const byVm = Object.fromEntries(table.rows.map((o) => [o.vm, o]));
  assert.equal(byVm[busy!.id]!.outcome, 'skipped');
  assert.match(byVm[busy!.id]!.reason!, /already running/);
  assert.equal(byVm[other!.id]!.outcome, 'succeeded');
  assert.equal(result.counts.failed, 1);
  assert.match(result.recentFailures[0]!.reason!, /vmId: vmId must be a string/);
  await eventually(
    () => backupSnapshots(h, busy!.id),
    (s) => s.length === 0,
  );
});

test('a fleet larger than one batch continues as new and still reports every VM', async ({ h }) => {
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
  assert.equal(result.counts.runs, 3);
  const description = await handle.describe();
  assert.notEqual(description.runId, handle.firstExecutionRunId, 'the fleet continued as new');
  const table = await new BackupClient(h.client, h.taskQueue).fleetTable(handle.workflowId);
  assert.equal(table.runs, 3);
  assert.deepEqual(table.rows.map((r) => r.vm).sort(), vms.map((vm) => vm.id).sort(), 'the table has every VM of every run');
  assert.ok(table.rows.every((r) => r.outcome === 'succeeded'));
  // The README points at visibility for the children alone: the dev server fills ParentWorkflowId.
  const children = await eventually(
    async () => {
      const ids: string[] = [];
      for await (const w of h.client.workflow.list({ query: `ParentWorkflowId = "${handle.workflowId}"` })) ids.push(w.workflowId);
      return ids;
    },
    (ids) => ids.length === 5,
  );
  assert.deepEqual(children.sort(), vms.map((vm) => `backup-ovirt-${vm.id}`).sort());
});

/** Starts a fleet over the given VMs one at a time, with copies slowed down, and waits until the first VM's run is copying. */
async function fleetCopying(h: OvirtHarness, vmIds: string[]) {
  h.copySettings.maxBytesPerSecond = 512 * 1024;
  const handle = await h.start('fleetBackup', {
    workflowType: 'ovirtSnapshotBackup',
    defaults: { endpoint: 'ovirt-sim', proxyVmId: h.demo.proxyVmId, pollIntervalMs: 100 },
    vms: vmIds.map((vmId) => ({ vmId })),
    maxConcurrent: 1,
  });
  const child = h.client.workflow.getHandle(`backup-ovirt-${vmIds[0]}`);
  const step = await eventually(
    () =>
      child
        .query<Progress>('progress')
        .then((p) => p.step)
        .catch(() => ''),
    (s) => s === 'copy',
    60_000,
  );
  assert.equal(step, 'copy', 'the first VM is being copied');
  return { handle, child };
}

test('a fleet terminated while a child copies: the child is asked to cancel and leaves the engine clean without the reaper', async ({ h, onTestFinished }) => {
  onTestFinished(() => void (h.copySettings.maxBytesPerSecond = 0));
  h.simulator.faults.clear();
  const [vm] = [...h.state.vms.values()].filter((v) => v.name.startsWith('vm-')).slice(7);
  const { handle, child } = await fleetCopying(h, [vm!.id]);
  assert.equal((await backupSnapshots(h, vm!.id)).length, 1, 'the child made its snapshot');
  await handle.terminate('operator stops the fleet');

  const closed = await eventually(
    () => child.describe(),
    (d) => d.status.name !== 'RUNNING',
    60_000,
  );
  assert.equal(closed.status.name, 'CANCELLED', 'the child was cancelled, not terminated');
  assert.deepEqual(await backupSnapshots(h, vm!.id), [], 'no snapshot is left on the VM');
  await assertClean(h);
});

test('a cancelled fleet ends cancelled: the copying child undoes, the others never start, and the table says so', async ({ h, onTestFinished }) => {
  onTestFinished(() => void (h.copySettings.maxBytesPerSecond = 0));
  h.simulator.faults.clear();
  const vms = [...h.state.vms.values()]
    .filter((v) => v.name.startsWith('vm-'))
    .slice(10, 13)
    .map((v) => v.id);
  const { handle, child } = await fleetCopying(h, vms);
  await handle.cancel();

  await assert.rejects(handle.result(), (err: WorkflowFailedError) => err.cause instanceof CancelledFailure);
  assert.equal((await handle.describe()).status.name, 'CANCELLED');
  assert.equal((await child.describe()).status.name, 'CANCELLED');
  const progress = await child.query<Progress>('progress');
  assert.equal(progress.state, 'cancelled');
  assert.ok(
    progress.undone.some((u) => /delete snapshot/.test(u)),
    `the child undid its snapshot: ${JSON.stringify(progress.undone)}`,
  );
  for (const vmId of vms) assert.deepEqual(await backupSnapshots(h, vmId), []);
  await assertClean(h);

  const table = await new BackupClient(h.client, h.taskQueue).fleetTable(handle.workflowId);
  assert.deepEqual(
    table.rows.map((r) => [r.vm, r.outcome]),
    [
      [vms[0], 'cancelled'],
      [vms[1], 'not-started'],
      [vms[2], 'not-started'],
    ],
  );
  const counts = await handle.query<FleetCounts>('fleetCounts');
  assert.deepEqual([counts.cancelled, counts.notStarted, counts.succeeded, counts.failed], [1, 2, 0, 0]);
});
