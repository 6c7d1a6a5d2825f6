/**
 * fleetBackup and scheduledBackup over real oVirt children with stubbed activities: a parent
 * cancelled or terminated while its children copy asks them to cancel (REQUEST_CANCEL), and each
 * child undoes what it did (disk detached, snapshot deleted) and ends CANCELLED, instead of being
 * terminated with its snapshot left for the reaper. On the dev server, not the time-skipping one:
 * that one leaves the children of a terminated parent running (no parent-close policy), and
 * nothing here waits on a timer.
 */
import { describe, expect, test } from 'vitest';
import { OVIRT_PROXY, VendorJob, ovirtStubs } from '../helpers/stub-activities';
import { startTemporal } from '../helpers/temporal';
import { expectStepFailure, fails, hangsUntilCancelled, progressOf, runEnd, stubServerForFile } from './stub-worker';

const taskQueue = 'wf-parents';
const vmId = (n: number) => `6f2a0d3e-5b1c-4c8e-9a10-0000000c${String(n).padStart(4, '0')}`;
const childId = (vm: string) => `backup-ovirt-${vm}`;
const UNDO = ['ovirtDetachDisk', 'ovirtDeleteSnapshot'];
const ovirtDefaults = { endpoint: 'ovirt-sim', proxyVmId: OVIRT_PROXY, copyTaskQueue: taskQueue };

const server = stubServerForFile(taskQueue, { ...ovirtStubs(new VendorJob(60_000)), fleetRecordOutcomes: async ({ rows }) => ({ recorded: rows.length }) }, { server: startTemporal });

/** Each child copies until cancelled; its undo log is what the vendor would see after. */
function copyHangs(vms: string[]): void {
  for (const vm of vms) server.world.script(childId(vm), { copyDisk: hangsUntilCancelled('copy') });
}

async function expectChildUndone(vm: string): Promise<void> {
  const id = childId(vm);
  expect((await runEnd(server.env, id)).status).toBe('CANCELLED');
  const log = server.world.log(id);
  expect(log.slice(log.indexOf('copy cancelled') + 1)).toEqual(UNDO);
  expect(await progressOf(server.env, id)).toMatchObject({ state: 'cancelled', step: 'copy' });
}

describe('fleetBackup', () => {
  const startFleet = (workflowId: string, vms: string[]) =>
    server.env.client.workflow.start('fleetBackup', { taskQueue, workflowId, args: [{ workflowType: 'ovirtSnapshotBackup', defaults: ovirtDefaults, vms: vms.map((v) => ({ vmId: v })) }] });

  test('cancelled while its children copy: each child undoes and ends CANCELLED, and so does the fleet', async () => {
    const vms = [vmId(1), vmId(2)];
    copyHangs(vms);
    const fleet = await startFleet('fleet-cancelled', vms);
    for (const vm of vms) await server.world.reached(childId(vm), 'copy waiting');
    await fleet.cancel();

    expect((await runEnd(server.env, 'fleet-cancelled')).status).toBe('CANCELLED');
    for (const vm of vms) await expectChildUndone(vm);
    expect(await fleet.query('fleetCounts')).toMatchObject({ cancelled: 2, succeeded: 0, failed: 0, running: 0 });
  });

  test('terminated while its children copy: the children are asked to cancel and undo', async () => {
    const vms = [vmId(3), vmId(4)];
    copyHangs(vms);
    const fleet = await startFleet('fleet-terminated', vms);
    for (const vm of vms) await server.world.reached(childId(vm), 'copy waiting');
    await fleet.terminate('operator stopped the fleet');

    expect((await runEnd(server.env, 'fleet-terminated')).status).toBe('TERMINATED');
    for (const vm of vms) await expectChildUndone(vm);
  });

  test('a child that fails is one failed row; the others go on and the fleet completes', async () => {
    const vms = [vmId(5), vmId(6)];
    server.world.script(childId(vms[0]!), { ovirtGetSnapshotConfig: fails('no OVF') });
    const end = await (async () => (await startFleet('fleet-one-fails', vms), runEnd(server.env, 'fleet-one-fails')))();

    expect(end.status).toBe('COMPLETED');
    expect(end.result.counts).toMatchObject({ total: 2, succeeded: 1, failed: 1 });
    expect(end.result.recentFailures).toEqual([expect.objectContaining({ vm: vms[0], reason: expect.stringMatching(/^step "config" failed: no OVF — compensation: undone: delete snapshot/) })]);
    await expectStepFailure(server, childId(vms[0]!), { step: 'config', failing: 'ovirtGetSnapshotConfig', undos: ['ovirtDeleteSnapshot'], labels: [/^delete snapshot of VM/] });
  });
});

describe('scheduledBackup', () => {
  const startScheduled = (workflowId: string, vm: string, retention?: { keep: number }) =>
    server.env.client.workflow.start('scheduledBackup', {
      taskQueue,
      workflowId,
      args: [{ scheduleId: 'nightly', workflowType: 'ovirtSnapshotBackup', input: { ...ovirtDefaults, vmId: vm }, ...(retention ? { retention } : {}) }],
    });

  test('cancelled while its backup copies: the backup undoes and ends CANCELLED, and so does the scheduled run', async () => {
    const vm = vmId(7);
    copyHangs([vm]);
    const run = await startScheduled('scheduled-cancelled', vm);
    await server.world.reached(childId(vm), 'copy waiting');
    await run.cancel();

    expect((await runEnd(server.env, 'scheduled-cancelled')).status).toBe('CANCELLED');
    await expectChildUndone(vm);
  });

  test("terminated (an operator, or the schedule's overlap policy) while its backup copies: the backup is asked to cancel and undoes", async () => {
    const vm = vmId(8);
    copyHangs([vm]);
    const run = await startScheduled('scheduled-terminated', vm);
    await server.world.reached(childId(vm), 'copy waiting');
    await run.terminate('overlap policy: terminate other');

    expect((await runEnd(server.env, 'scheduled-terminated')).status).toBe('TERMINATED');
    await expectChildUndone(vm);
  });

  test('a backup that fails fails the scheduled run with its reason, and retention does not run', async () => {
    const vm = vmId(9);
    server.world.script(childId(vm), { ovirtCreateSnapshot: fails('storage domain full') });
    await startScheduled('scheduled-child-fails', vm, { keep: 3 });
    const end = await runEnd(server.env, 'scheduled-child-fails');

    expect(end.status).toBe('FAILED');
    expect(server.world.log('scheduled-child-fails')).not.toContain('ovirtPruneSnapshots');
    expect((await runEnd(server.env, childId(vm))).failure?.message).toMatch(/^step "snapshot" failed: storage domain full — compensation: undone: delete snapshot/);
  });
});
