/**
 * ovirtSnapshotBackup with stubbed activities on the time-skipping server: a failure at each step
 * undoes exactly what was done, newest first; an undo that keeps failing waits for an operator;
 * a cancel (during a step or the day-long snapshot wait) undoes and ends CANCELLED.
 */
import { Context } from '@temporalio/activity';
import { describe, expect, test } from 'vitest';
import { OVIRT_PROXY, OVIRT_VM, VendorJob, ovirtStubs } from '../helpers/stub-activities';
import {
  expectStepFailure,
  fails,
  failsFirst,
  hangsUntilCancelled,
  needsAttention,
  outcomeAttribute,
  progressOf,
  runEnd,
  stepAttribute,
  slowly,
  stubServerForFile,
  type Script,
  type StepFailureCase,
} from './stub-worker';
import { eventually } from '../helpers/eventually';
import { BackupStep } from '../../contracts/search-attributes';

const taskQueue = 'wf-ovirt';
const DISKS = [
  { id: 'd1', name: 'disk1', format: 'raw', provisionedSize: 1 << 20 },
  { id: 'd2', name: 'disk2', format: 'cow', provisionedSize: 1 << 20 },
];
const VM_NAME = `vm-${OVIRT_VM.slice(-4)}`;
const SNAPSHOT = `delete snapshot of VM ${VM_NAME}`;
const detachLabel = (disk: string) => `detach disk ${disk} from proxy`;

const base = ovirtStubs(new VendorJob(60_000));
const server = stubServerForFile(
  taskQueue,
  {
    ...base,
    ovirtPreflight: async (input) => ({ ...((await base.ovirtPreflight!(input)) as object), eligibleDiskIds: DISKS.map((d) => d.id) }),
    ovirtListSnapshotDisks: async () => DISKS,
  },
  { detail: (name, input) => (name === 'ovirtAttachSnapshotDisk' || name === 'ovirtDetachDisk' || name === 'copyDisk' ? input.diskId : undefined) },
);

async function start(workflowId: string, script: Script, extra: Record<string, unknown> = {}) {
  server.world.script(workflowId, script);
  return server.env.client.workflow.start('ovirtSnapshotBackup', {
    taskQueue,
    workflowId,
    args: [{ endpoint: 'ovirt-sim', vmId: OVIRT_VM, proxyVmId: OVIRT_PROXY, copyTaskQueue: taskQueue, ...extra }],
  });
}

test('an ordinary run sets no BackupStep (its step is the progress query), only its outcome; one compensating is listable by step while it undoes', async () => {
  const done = await start('ovirt-ordinary', {});
  await done.result();
  expect(await stepAttribute(server.env, 'ovirt-ordinary')).toBeUndefined();
  expect(await outcomeAttribute(server.env, 'ovirt-ordinary')).toBe('completed');

  const workflowId = 'ovirt-compensating';
  const undoing = slowly('delete', 1500);
  await start(workflowId, {
    copyDisk: fails('device vanished'),
    ovirtDeleteSnapshot: async (input, tools) => (tools.note('delete started'), undoing(input, tools)),
  });
  await server.world.reached(workflowId, 'delete started');
  expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'compensating', step: 'copy' });
  // ExecutionStatus="Running" AND BackupOutcome="compensating" AND BackupStep="copy".
  expect(await outcomeAttribute(server.env, workflowId)).toBe('compensating');
  expect(await stepAttribute(server.env, workflowId)).toBe('copy');
  expect((await runEnd(server.env, workflowId)).status).toBe('FAILED');
});

describe('a failure at each step runs exactly the undos registered so far, newest first', () => {
  const cases: Array<StepFailureCase & { script: Script }> = [
    { step: 'preflight', failing: 'ovirtPreflight', script: { ovirtPreflight: fails('VM not found') }, undos: [], labels: [] },
    { step: 'snapshot', failing: 'ovirtCreateSnapshot', script: { ovirtCreateSnapshot: fails('storage domain full') }, undos: ['ovirtDeleteSnapshot'], labels: [SNAPSHOT] },
    { step: 'snapshot', failing: 'ovirtWaitSnapshotReady', script: { ovirtWaitSnapshotReady: fails('snapshot ended in status error') }, undos: ['ovirtDeleteSnapshot'], labels: [SNAPSHOT] },
    { step: 'config', failing: 'ovirtGetSnapshotConfig', script: { ovirtGetSnapshotConfig: fails('no OVF') }, undos: ['ovirtDeleteSnapshot'], labels: [SNAPSHOT] },
    { step: 'disks', failing: 'ovirtListSnapshotDisks', script: { ovirtListSnapshotDisks: fails('disk list refused') }, undos: ['ovirtDeleteSnapshot'], labels: [SNAPSHOT] },
    {
      step: 'attach',
      failing: 'ovirtAttachSnapshotDisk d2',
      script: { ovirtAttachSnapshotDisk: async (input, { base }) => (input.diskId === 'd2' ? fails('proxy has no free slot')(input, { base, note: () => undefined }) : base(input)) },
      undos: ['ovirtDetachDisk d2', 'ovirtDetachDisk d1', 'ovirtDeleteSnapshot'],
      labels: [detachLabel('disk2'), detachLabel('disk1'), SNAPSHOT],
    },
    {
      step: 'copy',
      failing: 'copyDisk d1',
      script: { copyDisk: fails('device vanished') },
      undos: ['ovirtDetachDisk d2', 'ovirtDetachDisk d1', 'ovirtDeleteSnapshot'],
      labels: [detachLabel('disk2'), detachLabel('disk1'), SNAPSHOT],
    },
    {
      step: 'detach',
      failing: 'ovirtDetachDisk d1',
      script: { ovirtDetachDisk: failsFirst('disk busy') },
      undos: ['ovirtDetachDisk d2', 'ovirtDetachDisk d1', 'ovirtDeleteSnapshot'],
      labels: [detachLabel('disk2'), detachLabel('disk1'), SNAPSHOT],
    },
    { step: 'delete', failing: 'ovirtDeleteSnapshot', script: { ovirtDeleteSnapshot: failsFirst('snapshot locked') }, undos: ['ovirtDeleteSnapshot'], labels: [SNAPSHOT] },
  ];

  test.each(cases)('$failing fails at step "$step"', async (expected) => {
    const workflowId = `ovirt-saga-${expected.failing.replace(/ /g, '-')}`;
    await start(workflowId, expected.script);
    await expectStepFailure(server, workflowId, expected);
  });
});

test('an undo that keeps failing: the run needs attention, names the snapshot left behind, and ends when an operator gives up', async () => {
  const workflowId = 'ovirt-needs-attention';
  const handle = await start(workflowId, {
    copyDisk: fails('device vanished'),
    // Transient as far as the workflow can tell: the undo's retries run out (in skipped time).
    ovirtDeleteSnapshot: async () => {
      throw new Error('engine answers 503');
    },
  });
  // The undo's retries back off for minutes: the server skips them an hour at a time (awaiting the
  // result here would skip to the run's timeout, as nothing is scheduled while it waits for a person).
  const waiting = await eventually(
    async () => (await server.env.sleep('1 hour'), progressOf(server.env, workflowId)),
    (p) => p.state === 'needs-attention',
  );
  expect(waiting.leftovers).toEqual([{ label: SNAPSHOT, error: 'engine answers 503' }]);
  // Listable while it waits: BackupOutcome="needs-attention" AND BackupStep="copy".
  expect(await outcomeAttribute(server.env, workflowId)).toBe('needs-attention');
  expect(await stepAttribute(server.env, workflowId)).toBe('copy');
  expect(waiting.message).toContain(`needs attention: ${SNAPSHOT} (engine answers 503)`);
  expect((await needsAttention(server.env, workflowId)).leftovers).toEqual([{ label: SNAPSHOT, error: 'engine answers 503' }]);
  const log = server.world.log(workflowId);
  expect(log.filter((e) => e === 'ovirtDeleteSnapshot').length).toBeGreaterThan(1);
  expect(log.filter((e) => e.startsWith('ovirtDetachDisk'))).toEqual(['ovirtDetachDisk d2', 'ovirtDetachDisk d1']);

  await handle.signal('cleanup', { action: 'give-up', note: 'removed by hand' });
  const end = await runEnd(server.env, workflowId);
  expect(end.status).toBe('FAILED');
  expect(end.failure?.message).toMatch(/^step "copy" failed: device vanished/);
  expect(end.failure?.message).toContain(`undone: ${detachLabel('disk2')}, ${detachLabel('disk1')}; NOT undone, an operator gave up: ${SNAPSHOT} (LEFT BEHIND: engine answers 503)`);
  expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'failed', leftovers: [{ label: SNAPSHOT, error: 'engine answers 503' }] });
  expect(await outcomeAttribute(server.env, workflowId)).toBe('failed');
});

describe('a cancelled run undoes what it did and ends CANCELLED', () => {
  test('cancelled during the copy: the copy stops first, then the disks are detached and the snapshot deleted, the slow delete not cut short', async () => {
    const workflowId = 'ovirt-cancel-copy';
    const handle = await start(workflowId, { copyDisk: hangsUntilCancelled('copy'), ovirtDeleteSnapshot: slowly('delete', 1500) });
    await server.world.reached(workflowId, 'copy waiting');
    await handle.cancel();

    expect((await runEnd(server.env, workflowId)).status).toBe('CANCELLED');
    const log = server.world.log(workflowId);
    expect(log.slice(log.indexOf('copy cancelled'))).toEqual(['copy cancelled', 'ovirtDetachDisk d2', 'ovirtDetachDisk d1', 'ovirtDeleteSnapshot', 'delete finished']);
    expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'cancelled', step: 'copy', undone: [detachLabel('disk2'), detachLabel('disk1'), SNAPSHOT] });
    expect(await outcomeAttribute(server.env, workflowId)).toBe('cancelled');
    expect(await stepAttribute(server.env, workflowId)).toBe('copy');
  });

  test('a cancel that waits for a slow create reads "cancelling" until the create answers, then the undo runs', async () => {
    const workflowId = 'ovirt-cancel-slow-create';
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const handle = await start(workflowId, {
      // A create the engine is still answering: it keeps heartbeating and does not stop for the cancel.
      ovirtCreateSnapshot: async (input, { base, note }) => {
        note('create waiting');
        const ticker = setInterval(() => Context.current().heartbeat(), 100);
        try {
          await released;
        } finally {
          clearInterval(ticker);
        }
        note('create answered');
        return base(input);
      },
    });
    try {
      await server.world.reached(workflowId, 'create waiting');
      await handle.cancel();
      await eventually(
        () => progressOf(server.env, workflowId),
        (p) => p.state === 'cancelling',
      );
      expect(server.world.log(workflowId)).not.toContain('create answered');
    } finally {
      release();
    }

    expect((await runEnd(server.env, workflowId)).status).toBe('CANCELLED');
    expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'cancelled', step: 'snapshot', undone: [SNAPSHOT] });
  });

  test('cancelled while the last attach is still answering: the run reports "attach" (progress and BackupStep), not the copy it never began', async () => {
    const workflowId = 'ovirt-cancel-during-attach';
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const handle = await start(workflowId, {
      ovirtAttachSnapshotDisk: async (input, { base, note }) => {
        if (input.diskId !== 'd2') return base(input);
        note('attach waiting');
        const ticker = setInterval(() => Context.current().heartbeat(), 100);
        try {
          await released;
        } finally {
          clearInterval(ticker);
        }
        return base(input);
      },
    });
    try {
      await server.world.reached(workflowId, 'attach waiting');
      await handle.cancel();
      await eventually(
        () => progressOf(server.env, workflowId),
        (p) => p.state === 'cancelling',
      );
    } finally {
      release();
    }

    expect((await runEnd(server.env, workflowId)).status).toBe('CANCELLED');
    expect(server.world.log(workflowId)).not.toContain('copyDisk d1');
    const progress = await progressOf(server.env, workflowId);
    expect(progress).toMatchObject({ state: 'cancelled', step: 'attach', undone: [detachLabel('disk2'), detachLabel('disk1'), SNAPSHOT] });
    expect(progress.message).toMatch(/^cancelled during "attach"/);
    expect((await handle.describe()).typedSearchAttributes.get(BackupStep)).toBe('attach');
  });

  test('cancelled in the day-long wait for the snapshot: the wait stops and the snapshot is deleted', async () => {
    const workflowId = 'ovirt-cancel-snapshot-wait';
    const handle = await start(workflowId, { ovirtWaitSnapshotReady: hangsUntilCancelled('snapshot wait') }, { snapshotReadyTimeoutSeconds: 86_400 });
    await server.world.reached(workflowId, 'snapshot wait waiting');
    await handle.cancel();

    expect((await runEnd(server.env, workflowId)).status).toBe('CANCELLED');
    const log = server.world.log(workflowId);
    expect(log.slice(log.indexOf('snapshot wait cancelled'))).toEqual(['snapshot wait cancelled', 'ovirtDeleteSnapshot']);
    expect(log).not.toContain('ovirtGetSnapshotConfig');
    expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'cancelled', step: 'snapshot', undone: [SNAPSHOT] });
  });
});
