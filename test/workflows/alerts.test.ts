/**
 * Alerts from workflow code, with stubbed activities on the time-skipping server: a failed run
 * alerts once (after its undos), a run waiting for an operator alerts that it needs attention, a
 * cancelled one does not alert, an alert that cannot be sent leaves the run's failure as it was,
 * and rpoWatch alerts once for a VM whose good backup is older than interval plus grace.
 */
import { activityInfo } from '@temporalio/activity';
import { expect, test } from 'vitest';
import type { RpoWatchResult } from '../../contracts/alerts/results';
import { AlertInbox, OVIRT_PROXY, OVIRT_VM, VendorJob, ovirtStubs } from '../helpers/stub-activities';
import { fails, hangsUntilCancelled, progressOf, runEnd, stubServerForFile, type Script } from './stub-worker';
import { eventually } from '../helpers/eventually';

const taskQueue = 'wf-alerts';
const inbox = new AlertInbox();
/** The stale VM's last good backup, fixed at the first look (3 h before the server's now); the fresh VM's is always 10 min old. */
const lastGood: Record<string, number | undefined> = {};

const server = stubServerForFile(taskQueue, {
  ...ovirtStubs(new VendorJob(60_000)),
  ...inbox.stubs(),
  rpoScheduleTargets: async () => [],
  lastSuccessfulBackup: async ({ vmId }: { vmId: string }) => {
    // Server time: the time-skipping server may have moved on by hours between two calls.
    const now = activityInfo().currentAttemptScheduledTimestampMs;
    if (vmId === 'stale-vm') lastGood[vmId] ??= now - 180 * 60_000;
    else if (vmId === 'fresh-vm') lastGood[vmId] = now - 10 * 60_000;
    else return {};
    return { closeTime: new Date(lastGood[vmId]).toISOString(), workflowId: `backup-ovirt-${vmId}`, runId: 'r1' };
  },
});

async function start(workflowId: string, script: Script) {
  server.world.script(workflowId, script);
  return server.env.client.workflow.start('ovirtSnapshotBackup', { taskQueue, workflowId, args: [{ endpoint: 'ovirt-sim', vmId: OVIRT_VM, proxyVmId: OVIRT_PROXY, copyTaskQueue: taskQueue }] });
}

test('a failed run alerts once, after its undos, naming the VM, the step and the reason', async () => {
  const workflowId = 'alert-failed';
  const handle = await start(workflowId, { copyDisk: fails('device vanished') });
  const end = await runEnd(server.env, workflowId);
  expect(end.failure?.message).toMatch(/^step "copy" failed: device vanished — compensation: undone: /);
  expect(inbox.of(workflowId)).toEqual([
    expect.objectContaining({ kind: 'failed', provider: 'ovirt', vmId: OVIRT_VM, workflowType: 'ovirtSnapshotBackup', runId: handle.firstExecutionRunId, step: 'copy', reason: 'device vanished' }),
  ]);
  const log = server.world.log(workflowId);
  expect(log.indexOf('sendAlert')).toBeGreaterThan(log.lastIndexOf('ovirtDeleteSnapshot'));
});

test('a run waiting for an operator alerts that it needs attention; once the operator gives up, that it failed', async () => {
  const workflowId = 'alert-attention';
  const handle = await start(workflowId, {
    copyDisk: fails('device vanished'),
    ovirtDeleteSnapshot: async () => {
      throw new Error('engine answers 503');
    },
  });
  await eventually(
    async () => (await server.env.sleep('1 hour'), progressOf(server.env, workflowId)),
    (p) => p.state === 'needs-attention',
  );
  await eventually(
    async () => inbox.of(workflowId),
    (alerts) => alerts.length === 1,
  );
  expect(inbox.of(workflowId)[0]).toMatchObject({ kind: 'needs-attention', step: 'copy', reason: expect.stringMatching(/^undo kept failing: delete snapshot of VM .* \(engine answers 503\)/) });
  await handle.signal('cleanup', { action: 'give-up' });
  expect((await runEnd(server.env, workflowId)).status).toBe('FAILED');
  expect(inbox.of(workflowId).map((a) => a.kind)).toEqual(['needs-attention', 'failed']);
  expect(inbox.of(workflowId)[1]!.reason).toMatch(/^device vanished \(left behind: delete snapshot/);
});

test('a cancelled run does not alert', async () => {
  const workflowId = 'alert-cancelled';
  const handle = await start(workflowId, { copyDisk: hangsUntilCancelled('copyDisk') });
  await server.world.reached(workflowId, 'copyDisk waiting');
  await handle.cancel();
  expect((await runEnd(server.env, workflowId)).status).toBe('CANCELLED');
  expect(inbox.of(workflowId)).toEqual([]);
  expect(server.world.log(workflowId)).not.toContain('sendAlert');
});

test('an alert that cannot be sent is logged; the run fails exactly as it would have', async () => {
  const workflowId = 'alert-unsendable';
  await start(workflowId, { ovirtPreflight: fails('VM not found'), sendAlert: fails('webhook refused (404)', 'VendorRejectedError') });
  const end = await runEnd(server.env, workflowId);
  expect(end).toMatchObject({ status: 'FAILED', failure: { type: 'BackupStepFailed', message: 'step "preflight" failed: VM not found — compensation: nothing to undo' } });
  expect(server.world.log(workflowId)).toEqual(['ovirtCheckEndpoint', 'ovirtPreflight', 'sendAlert']);
  expect(inbox.of(workflowId)).toEqual([]);
});

test('rpoWatch alerts once for a VM whose good backup is older than interval plus grace, and not for a fresh one', async () => {
  const input = {
    targets: [
      { provider: 'ovirt', vmId: 'stale-vm', expectedIntervalMinutes: 60, graceMinutes: 30 },
      { provider: 'ovirt', vmId: 'fresh-vm', expectedIntervalMinutes: 60, graceMinutes: 30 },
    ],
  };
  const run = (id: string) => server.env.client.workflow.execute('rpoWatch', { taskQueue, workflowId: id, args: [input] }) as Promise<RpoWatchResult>;
  const first = await run('rpo-1');
  expect(first.missed).toBe(1);
  expect(first.checked.map((c) => [c.vmId, c.missed])).toEqual([
    ['stale-vm', true],
    ['fresh-vm', false],
  ]);
  // The next watch sees the same miss: the same event (VM and due time), not a second alert.
  const second = await run('rpo-2');
  expect(second.checked[0]!.alert).toMatchObject({ sent: true, reason: 'delivered before' });
  const rpo = inbox.received.filter((a) => a.kind === 'rpo-missed');
  expect(rpo).toHaveLength(1);
  expect(rpo[0]).toMatchObject({ vmId: 'stale-vm', dueAt: new Date(lastGood['stale-vm']! + 90 * 60_000).toISOString() });
  expect(rpo[0]!.reason).toBe(`last good backup at ${new Date(lastGood['stale-vm']!).toISOString()}, expected every 1h (grace 30m)`);
});
