/**
 * A fault at each step: the run fails with a message that names the step and the engine's
 * reason, and the engine is left clean (no snapshot, nothing attached to the proxy VM).
 */
import { describe } from 'vitest';
import { ovirtTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { readdir, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { FaultRuleInput } from '../../simulators/framework/faults';
import type { OvirtBackupManifest } from '../../contracts/ovirt/results';
import type { OvirtHarness } from '../helpers/ovirt-harness';
import { assertClean, backupSnapshots } from '../helpers/ovirt-inspect';
import { eventually } from '../helpers/eventually';

const test = ovirtTest({ copy: { maxBytesPerSecond: 2 * 1024 * 1024 } });
test.afterEach(({ h }) => h.simulator.faults.clear());

async function runExpectingFailure(h: OvirtHarness, name: string, input = h.input()): Promise<{ message: string; details: unknown }> {
  const handle = await h.client.workflow.start('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: `${name}-${Date.now()}`, args: [input] });
  try {
    await handle.result();
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, `expected a failed run, got ${err}`);
    const cause = err.cause as { message: string; details?: unknown[] };
    return { message: cause.message, details: cause.details?.[0] };
  }
  assert.fail('the run should have failed');
}

const fault = (rule: Omit<FaultRuleInput, 'action'>, detail: string, status = 400): FaultRuleInput => ({
  ...rule,
  action: { kind: 'status', status, message: 'Operation Failed', detail },
});

const cases: Array<{ step: string; rule: FaultRuleInput; reason: RegExp }> = [
  {
    step: 'preflight',
    rule: fault({ method: 'GET', path: '/vms/:id/diskattachments', times: 1 }, '[Cannot list disks. Injected at preflight.]'),
    reason: /Injected at preflight/,
  },
  {
    step: 'snapshot',
    rule: fault({ method: 'POST', path: '/vms/:id/snapshots' }, '[Cannot create Snapshot. Storage Domain is out of space.]'),
    reason: /Storage Domain is out of space/,
  },
  {
    step: 'snapshot',
    // The wait for "ok" is part of the snapshot step: its GET fails while the snapshot is locked.
    rule: fault({ method: 'GET', path: '/vms/:id/snapshots/:sid' }, '[Injected while waiting for the snapshot.]'),
    reason: /Injected while waiting/,
  },
  {
    step: 'config',
    rule: fault({ method: 'GET', path: '/vms/:id/snapshots/:sid', query: 'all_content=true' }, '[Cannot read the OVF.]'),
    reason: /Cannot read the OVF/,
  },
  {
    step: 'disks',
    rule: fault({ method: 'GET', path: '/vms/:id/snapshots/:sid/disks' }, '[Cannot list snapshot disks.]'),
    reason: /Cannot list snapshot disks/,
  },
  {
    step: 'attach',
    // The second disk fails: the first one, already attached, must be detached again.
    rule: fault({ method: 'POST', path: '/vms/:id/diskattachments', nth: 2 }, '[Cannot attach Virtual Disk. Injected.]'),
    reason: /Cannot attach Virtual Disk/,
  },
  {
    step: 'detach',
    rule: fault({ method: 'DELETE', path: '/vms/:id/diskattachments/:aid' }, '[Cannot detach Virtual Disk. Injected.]'),
    reason: /Cannot detach Virtual Disk/,
  },
  {
    step: 'delete',
    rule: fault({ method: 'DELETE', path: '/vms/:id/snapshots/:sid' }, '[Cannot remove Snapshot. Injected.]'),
    reason: /Cannot remove Snapshot/,
  },
];

describe('a fault at each step leaves the engine clean', () => {
  for (const c of cases) {
    test(`${c.step}: ${c.reason.source}`, async ({ h }) => {
      h.simulator.faults.add(c.rule);
      const { message, details } = await runExpectingFailure(h, `fault-${c.step}`);
      assert.match(message, new RegExp(`step "${c.step}" failed`));
      assert.match(message, c.reason);
      assert.match(message, /HTTP 400/);
      assert.equal((details as { step: string }).step, c.step);
      h.simulator.faults.clear();
      await eventually(
        () => backupSnapshots(h),
        (s) => s.length === 0,
      );
      await assertClean(h);
    });
  }

  test('copy: the device returns fewer bytes than the disk has, and the run undoes everything', async ({ h }) => {
    const handle = await h.client.workflow.start('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: `fault-copy-${Date.now()}`, args: [h.input()] });
    // Wait until the first disk is attached, then shorten its device as a failing read would.
    await eventually(
      async () => (await handle.query<{ step: string }>('progress')).step,
      (s) => s === 'copy',
      20_000,
    );
    const byId = join(h.dirs.devices, 'by-id');
    for (const name of await readdir(byId)) await truncate(join(byId, name), 1000);
    await assert.rejects(handle.result(), (err: WorkflowFailedError) => {
      const message = (err.cause as Error).message;
      assert.match(message, /step "copy" failed/);
      assert.match(message, /gave \d+ bytes but disk .* is \d+ bytes/);
      assert.match(message, /undone: detach disk/);
      return true;
    });
    await eventually(
      () => backupSnapshots(h),
      (s) => s.length === 0,
    );
    await assertClean(h);
  });

  test('transient trouble (503, 429 with Retry-After, a dropped connection) is retried and the run completes', async ({ h }) => {
    h.simulator.faults.add({ method: 'POST', path: '/vms/:id/diskattachments', times: 2, action: { kind: 'status', status: 503, message: 'Service Unavailable' } });
    h.simulator.faults.add({ method: 'GET', path: '/vms/:id/snapshots/:sid/disks', times: 1, action: { kind: 'status', status: 429, message: 'Too Many Requests', retryAfterSeconds: 1 } });
    h.simulator.faults.add({ method: 'GET', path: '/vms/:id', times: 1, action: { kind: 'drop', afterHandling: false } });
    const manifest = (await h.client.workflow.execute('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: `transient-${Date.now()}`, args: [h.input()] })) as OvirtBackupManifest;
    assert.equal(manifest.disks.length, 2);
    await assertClean(h);
  });

  test('a create whose reply is lost is adopted on retry, not made twice', async ({ h }) => {
    h.simulator.faults.add({ method: 'POST', path: '/vms/:id/snapshots', times: 1, action: { kind: 'drop', afterHandling: true } });
    h.simulator.calls.clear();
    const manifest = (await h.client.workflow.execute('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: `lost-reply-${Date.now()}`, args: [h.input()] })) as OvirtBackupManifest;
    assert.equal(manifest.disks.length, 2);
    const creates = h.simulator.calls.matching('POST', /^\/vms\/[^/]+\/snapshots$/);
    assert.equal(creates.length, 1, 'the retry found the snapshot instead of creating a second one');
    await assertClean(h);
  });

  test('a malformed engine answer fails with a message naming the field', async ({ h }) => {
    h.simulator.faults.add({ method: 'GET', path: '/vms/:id/snapshots/:sid/disks', times: 0, action: { kind: 'malformed' } });
    const { message } = await runExpectingFailure(h, 'malformed');
    assert.match(message, /step "disks" failed/);
    assert.match(message, /unexpected response body/);
    h.simulator.faults.clear();
    await eventually(
      () => backupSnapshots(h),
      (s) => s.length === 0,
    );
    await assertClean(h);
  });
});
