/**
 * ovirtRestore and ovirtRestoreDrill with stubbed activities on the time-skipping server: a restore
 * keeps what it made; a failure at any step, or a cancel, removes every object the run created,
 * newest first; a drill always removes its sandbox and records its verdict on the backup.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, test } from 'vitest';
import { OVIRT_PROXY, OVIRT_VM, RESTORE_BACKUP_DIR, RESTORE_SHA, ovirtRestoreStubs } from '../helpers/stub-activities';
import { eventually } from '../helpers/eventually';
import { expectStepFailure, fails, progressOf, runEnd, stubServerForFile, type Script, type Scripted, type StepFailureCase } from './stub-worker';

const taskQueue = 'wf-ovirt-restore';
const { stubs, worldOf } = ovirtRestoreStubs();
const server = stubServerForFile(taskQueue, stubs, {
  detail: (name, input) => {
    if (name === 'ovirtCreateRestoreDisk') return input.sourceDiskId;
    if (name === 'ovirtAttachDisk') return `${input.diskId} to ${input.vmId === OVIRT_PROXY ? 'proxy' : input.vmId}`;
    if (['ovirtDetachDisk', 'ovirtWaitDiskReady', 'writeImageToDevice', 'hashDevice'].includes(name)) return input.diskId;
    if (name === 'ovirtDeleteRestoredDisks') return (input.diskIds ?? ['(all of the run)']).join(',');
    return undefined;
  },
});

const RESTORED = /^web-01-restored-\d{8}-\d{4}$/;
const SANDBOX = /^web-01-drill-\d{8}-\d{4}$/;
const deleteDisk = (what: 'restored' | 'drill', disk: 'Disk1' | 'Disk2') => new RegExp(`^delete restored disk web-01-${what}-\\d{8}-\\d{4}_${disk}$`);
const detachDisk = (what: 'restored' | 'drill', disk: 'Disk1' | 'Disk2') => new RegExp(`^detach restored disk web-01-${what}-\\d{8}-\\d{4}_${disk} from proxy$`);
const deleteVm = (what: 'restored' | 'drill') => new RegExp(`^delete restored VM web-01-${what}-\\d{8}-\\d{4}$`);
const UNDO_DISKS = ['ovirtDeleteRestoredDisks r-d2', 'ovirtDeleteRestoredDisks r-d1'];

const only =
  (diskId: string, scripted: Scripted): Scripted =>
  (input, context) =>
    input.diskId === diskId ? scripted(input, context) : context.base(input);

async function start(workflowType: 'ovirtRestore' | 'ovirtRestoreDrill', workflowId: string, script: Script = {}, extra: Record<string, unknown> = {}) {
  server.world.script(workflowId, script);
  return server.env.client.workflow.start(workflowType, {
    taskQueue,
    workflowId,
    args: [{ endpoint: 'ovirt-sim', backup: 'latest', vmId: OVIRT_VM, proxyVmId: OVIRT_PROXY, copyTaskQueue: taskQueue, cluster: 'Default', ...extra }],
  });
}

function expectNothingLeft(workflowId: string) {
  const world = worldOf(workflowId);
  expect([...world.vms.keys()]).toEqual([]);
  expect([...world.disks.keys()]).toEqual([]);
}

describe('ovirtRestore', () => {
  test('restores the latest backup as a new VM: disks made as backed up, written and matched, the boot disk attached first, nothing undone', async () => {
    const workflowId = 'restore-happy';
    await start('ovirtRestore', workflowId);
    const end = await runEnd(server.env, workflowId);
    expect(end.status).toBe('COMPLETED');
    const { result } = end;
    expect(result.vm).toEqual({ id: 'vm-new', name: expect.stringMatching(RESTORED), cluster: { id: 'cluster-1', name: 'Default' } });
    expect(result.backup).toMatchObject({ dir: RESTORE_BACKUP_DIR, vm: { id: OVIRT_VM, name: 'web-01' } });
    expect(result.disks).toEqual([
      {
        sourceDiskId: 'd1',
        diskId: 'r-d1',
        name: `${result.vm.name}_Disk1`,
        storageDomainId: 'sd-1',
        bytes: 1 << 20,
        sha256: RESTORE_SHA.d1,
        manifestSha256: RESTORE_SHA.d1,
        matched: true,
        bootable: false,
      },
      {
        sourceDiskId: 'd2',
        diskId: 'r-d2',
        name: `${result.vm.name}_Disk2`,
        storageDomainId: 'sd-1',
        bytes: 2 << 20,
        sha256: RESTORE_SHA.d2,
        manifestSha256: RESTORE_SHA.d2,
        matched: true,
        bootable: true,
      },
    ]);

    const world = worldOf(workflowId);
    expect(world.vms.get('vm-new')).toEqual({ name: result.vm.name, cluster: 'cluster-1', status: 'down' });
    // Format and allocation as backed up (qcow2 thin, raw preallocated as the OVF says), on the new VM, boot disk first.
    expect(world.disks.get('r-d1')).toMatchObject({ format: 'cow', sparse: true, attachedTo: 'vm-new', bootable: false, sha256: RESTORE_SHA.d1 });
    expect(world.disks.get('r-d2')).toMatchObject({ format: 'raw', sparse: false, attachedTo: 'vm-new', bootable: true, sha256: RESTORE_SHA.d2 });
    expect(world.vmAttachments).toEqual([
      { vmId: 'vm-new', diskId: 'r-d2', bootable: true },
      { vmId: 'vm-new', diskId: 'r-d1', bootable: false },
    ]);

    const log = server.world.log(workflowId);
    expect(log.filter((e) => /Delete|Detach/.test(e))).toEqual(['ovirtDetachDisk r-d1', 'ovirtDetachDisk r-d2']);
    expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'completed', step: 'attach-vm', undone: [], disksDone: 2, bytesCopied: 3 << 20 });
  });

  test('disksOnly: floating disks, no VM', async () => {
    const workflowId = 'restore-disks-only';
    await start('ovirtRestore', workflowId, {}, { disksOnly: true, cluster: undefined, vmName: 'web-01-files' });
    const { status, result } = await runEnd(server.env, workflowId);
    expect(status).toBe('COMPLETED');
    expect(result.vm).toBeUndefined();
    expect(result.disks.map((d: { name: string; bootable: boolean }) => [d.name, d.bootable])).toEqual([
      ['web-01-files_Disk1', false],
      ['web-01-files_Disk2', false],
    ]);
    const world = worldOf(workflowId);
    expect(world.vms.size).toBe(0);
    expect([...world.disks.values()].map((d) => d.attachedTo)).toEqual([undefined, undefined]);
    expect(server.world.log(workflowId)).not.toContain('ovirtCreateVmFromOvf');
  });

  test('diskIds: only those disks are restored', async () => {
    const workflowId = 'restore-subset';
    await start('ovirtRestore', workflowId, {}, { diskIds: ['d2'] });
    const { status, result } = await runEnd(server.env, workflowId);
    expect(status).toBe('COMPLETED');
    expect(result.disks.map((d: { sourceDiskId: string }) => d.sourceDiskId)).toEqual(['d2']);
    expect([...worldOf(workflowId).disks.keys()]).toEqual(['r-d2']);
  });

  test('a disk id not in the backup: one-line InvalidInput before any vendor change', async () => {
    const workflowId = 'restore-unknown-disk';
    await start('ovirtRestore', workflowId, {}, { diskIds: ['d2', 'd9'] });
    const end = await runEnd(server.env, workflowId);
    expect(end.status).toBe('FAILED');
    expect(end.failure).toEqual({ type: 'InvalidInput', message: `invalid input for ovirtRestore: diskIds: d9 not in backup ${RESTORE_BACKUP_DIR} (it holds d1, d2)` });
    expect(server.world.log(workflowId)).toEqual(['ovirtCheckEndpoint', 'findBackup']);
    expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'failed', step: 'preflight', undone: [] });
  });

  test('a cluster is required for a new VM; latest needs the VM', async () => {
    const workflowId = 'restore-bad-input';
    await start('ovirtRestore', workflowId, {}, { cluster: undefined, vmId: undefined });
    const end = await runEnd(server.env, workflowId);
    expect(end.failure?.type).toBe('InvalidInput');
    expect(end.failure?.message).toContain('vmId: vmId is required when backup is "latest"');
    expect(end.failure?.message).toContain('cluster: cluster is required for the new VM (or set disksOnly)');
    expect(server.world.log(workflowId)).toEqual([]);
  });

  describe('a failure at each step removes every object the run made, newest first', () => {
    const mismatch = async () => {
      throw ApplicationFailure.nonRetryable(`${RESTORE_BACKUP_DIR}/d1.qcow2 written to disk r-d1: SHA-256 ${'f'.repeat(64)} does not match the manifest's ${RESTORE_SHA.d1}`, 'BackupHashMismatch');
    };
    const cases: Array<StepFailureCase & { script: Script }> = [
      {
        step: 'disks',
        failing: 'ovirtCreateRestoreDisk d2',
        script: { ovirtCreateRestoreDisk: async (input, context) => (input.sourceDiskId === 'd2' ? fails('storage domain full')(input, context) : context.base(input)) },
        // The second create did not answer: its undo removes whatever disk of the run exists.
        undos: ['ovirtDeleteRestoredDisks (all of the run)', 'ovirtDeleteRestoredDisks r-d1'],
        labels: [deleteDisk('restored', 'Disk2'), deleteDisk('restored', 'Disk1')],
      },
      {
        step: 'attach',
        failing: 'ovirtAttachDisk r-d2 to proxy',
        script: { ovirtAttachDisk: only('r-d2', fails('proxy has no free slot')) },
        undos: ['ovirtDetachDisk r-d2', 'ovirtDetachDisk r-d1', ...UNDO_DISKS],
        labels: [detachDisk('restored', 'Disk2'), detachDisk('restored', 'Disk1'), deleteDisk('restored', 'Disk2'), deleteDisk('restored', 'Disk1')],
      },
      {
        step: 'write',
        failing: 'writeImageToDevice r-d1',
        script: { writeImageToDevice: mismatch },
        undos: ['ovirtDetachDisk r-d2', 'ovirtDetachDisk r-d1', ...UNDO_DISKS],
        labels: [detachDisk('restored', 'Disk2'), detachDisk('restored', 'Disk1'), deleteDisk('restored', 'Disk2'), deleteDisk('restored', 'Disk1')],
      },
      {
        step: 'vm',
        failing: 'ovirtCreateVmFromOvf',
        script: { ovirtCreateVmFromOvf: fails('name already in use') },
        undos: ['ovirtDeleteRestoredVm', ...UNDO_DISKS],
        labels: [deleteVm('restored'), deleteDisk('restored', 'Disk2'), deleteDisk('restored', 'Disk1')],
      },
      {
        step: 'attach-vm',
        failing: 'ovirtAttachDisk r-d2 to vm-new',
        script: { ovirtAttachDisk: async (input, context) => (input.vmId === 'vm-new' ? fails('VM locked')(input, context) : context.base(input)) },
        undos: ['ovirtDeleteRestoredVm', ...UNDO_DISKS],
        labels: [deleteVm('restored'), deleteDisk('restored', 'Disk2'), deleteDisk('restored', 'Disk1')],
      },
    ];

    test.each(cases)('$failing fails at step "$step"', async (expected) => {
      const workflowId = `restore-saga-${expected.failing.replace(/ /g, '-')}`;
      await start('ovirtRestore', workflowId, expected.script);
      await expectStepFailure(server, workflowId, expected);
      expectNothingLeft(workflowId);
    });

    test('a hash mismatch names the file and both hashes', async () => {
      const workflowId = 'restore-mismatch-message';
      await start('ovirtRestore', workflowId, { writeImageToDevice: mismatch });
      const end = await runEnd(server.env, workflowId);
      expect(end.failure?.message).toContain(`step "write" failed: ${RESTORE_BACKUP_DIR}/d1.qcow2 written to disk r-d1: SHA-256 ${'f'.repeat(64)} does not match the manifest's ${RESTORE_SHA.d1}`);
    });
  });

  test('cancelled during the write: "cancelling" until the write stops, then everything undone, CANCELLED', async () => {
    const workflowId = 'restore-cancel-write';
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const handle = await start('ovirtRestore', workflowId, {
      // A write that takes a moment to stop after the cancel reaches it (it closes the device first).
      writeImageToDevice: async (_input, { note }) => {
        note('write waiting');
        const ctx = Context.current();
        try {
          for (;;) {
            ctx.heartbeat();
            await ctx.sleep(200);
          }
        } catch (err) {
          note('write cancelled');
          await released;
          throw err;
        }
      },
    });
    try {
      await server.world.reached(workflowId, 'write waiting');
      await handle.cancel();
      await server.world.reached(workflowId, 'write cancelled');
      await eventually(
        () => progressOf(server.env, workflowId),
        (p) => p.state === 'cancelling',
      );
      expect(server.world.log(workflowId)).not.toContain('ovirtDeleteRestoredDisks r-d1');
    } finally {
      release();
    }

    expect((await runEnd(server.env, workflowId)).status).toBe('CANCELLED');
    const log = server.world.log(workflowId);
    expect(log.slice(log.indexOf('write cancelled') + 1)).toEqual(['ovirtDetachDisk r-d2', 'ovirtDetachDisk r-d1', ...UNDO_DISKS]);
    expect(await progressOf(server.env, workflowId)).toMatchObject({
      state: 'cancelled',
      step: 'write',
      undone: [detachDisk('restored', 'Disk2'), detachDisk('restored', 'Disk1'), deleteDisk('restored', 'Disk2'), deleteDisk('restored', 'Disk1')].map((r) => expect.stringMatching(r)),
    });
    expectNothingLeft(workflowId);
  });
});

describe('ovirtRestoreDrill', () => {
  test('a good backup: restored into a sandbox, read back, booted, the sandbox removed, a passing verification recorded', async () => {
    const workflowId = 'drill-pass';
    await start('ovirtRestoreDrill', workflowId, {}, { boot: true });
    const end = await runEnd(server.env, workflowId);
    expect(end.status).toBe('COMPLETED');
    const { result } = end;
    expect(result.sandbox).toEqual({
      vmName: expect.stringMatching(SANDBOX),
      vmId: 'vm-new',
      booted: true,
      removed: [expect.stringMatching(deleteVm('drill')), expect.stringMatching(deleteDisk('drill', 'Disk2')), expect.stringMatching(deleteDisk('drill', 'Disk1'))],
      leftBehind: [],
    });
    expect(result.disks.map((d: { readBackSha256: string; manifestSha256: string }) => d.readBackSha256 === d.manifestSha256)).toEqual([true, true]);
    expect(result.verification).toMatchObject({ by: 'drill', ok: true, workflowId, summary: expect.stringContaining('restore drill passed: 2 disk(s) restored into') });

    const log = server.world.log(workflowId);
    expect(log.slice(log.indexOf('ovirtStartVm'))).toEqual(['ovirtStartVm', 'ovirtWaitVmStatus', 'ovirtDeleteRestoredVm', ...UNDO_DISKS, 'recordVerification']);
    expect(log.filter((e) => e.startsWith('hashDevice'))).toEqual(['hashDevice r-d1', 'hashDevice r-d2']);
    expectNothingLeft(workflowId);
    expect(worldOf(workflowId).verifications).toEqual([result.verification]);
    expect(await progressOf(server.env, workflowId)).toMatchObject({ state: 'completed', step: 'record' });
  });

  test('a disk that reads back different: no VM made, the sandbox removed, a failing verification recorded, the run fails naming the disk', async () => {
    const workflowId = 'drill-read-back-mismatch';
    const flipped = `${RESTORE_SHA.d2.slice(0, 63)}c`;
    await start('ovirtRestoreDrill', workflowId, { hashDevice: only('r-d2', async (input) => ({ device: '/dev/sdc', bytes: input.expectedBytes, sha256: flipped })) });
    const end = await runEnd(server.env, workflowId);
    expect(end.status).toBe('FAILED');
    expect(end.failure?.type).toBe('BackupVerificationFailed');
    expect(end.failure?.message).toMatch(
      new RegExp(
        `^backup ${RESTORE_BACKUP_DIR} failed its restore drill: disk web-01_Disk2 \\(d2\\) read back as restored disk web-01-drill-\\d{8}-\\d{4}_Disk2: SHA-256 ${flipped} does not match the manifest's ${RESTORE_SHA.d2}; sandbox removed$`,
      ),
    );

    const log = server.world.log(workflowId);
    expect(log).not.toContain('ovirtCreateVmFromOvf');
    expect(log.slice(log.indexOf('hashDevice r-d2') + 1)).toEqual(['ovirtDetachDisk r-d2', 'ovirtDetachDisk r-d1', ...UNDO_DISKS, 'recordVerification']);
    expectNothingLeft(workflowId);
    expect(worldOf(workflowId).verifications).toEqual([
      { at: expect.any(String), by: 'drill', ok: false, workflowId, summary: expect.stringContaining('restore drill failed: disk web-01_Disk2 (d2)') },
    ]);
    expect(await progressOf(server.env, workflowId)).toMatchObject({
      state: 'failed',
      undone: [detachDisk('drill', 'Disk2'), detachDisk('drill', 'Disk1'), deleteDisk('drill', 'Disk2'), deleteDisk('drill', 'Disk1')].map((r) => expect.stringMatching(r)),
    });
  });

  test('an image that does not match its manifest while written (a flipped byte in the repository): the same verdict, naming the file', async () => {
    const workflowId = 'drill-write-mismatch';
    await start('ovirtRestoreDrill', workflowId, {
      writeImageToDevice: only('r-d1', async () => {
        throw ApplicationFailure.nonRetryable(`${RESTORE_BACKUP_DIR}/d1.qcow2: SHA-256 ${'f'.repeat(64)} does not match the manifest's ${RESTORE_SHA.d1}`, 'BackupHashMismatch');
      }),
    });
    const end = await runEnd(server.env, workflowId);
    expect(end.failure?.type).toBe('BackupVerificationFailed');
    expect(end.failure?.message).toContain(`failed its restore drill: ${RESTORE_BACKUP_DIR}/d1.qcow2: SHA-256 ${'f'.repeat(64)} does not match the manifest's ${RESTORE_SHA.d1}; sandbox removed`);
    const log = server.world.log(workflowId);
    expect(log).not.toContain('hashDevice r-d1');
    expect(log.slice(log.indexOf('writeImageToDevice r-d1') + 1)).toEqual(['ovirtDetachDisk r-d2', 'ovirtDetachDisk r-d1', ...UNDO_DISKS, 'recordVerification']);
    expectNothingLeft(workflowId);
    expect(worldOf(workflowId).verifications.map((v) => v.ok)).toEqual([false]);
  });

  test('a drill the engine breaks (not the backup): undone like any run, BackupStepFailed, no verdict recorded', async () => {
    const workflowId = 'drill-engine-fails';
    await start('ovirtRestoreDrill', workflowId, { ovirtCreateVmFromOvf: fails('cluster has no free memory') });
    await expectStepFailure(server, workflowId, {
      step: 'vm',
      failing: 'ovirtCreateVmFromOvf',
      undos: ['ovirtDeleteRestoredVm', ...UNDO_DISKS],
      labels: [deleteVm('drill'), deleteDisk('drill', 'Disk2'), deleteDisk('drill', 'Disk1')],
    });
    expectNothingLeft(workflowId);
    expect(worldOf(workflowId).verifications).toEqual([]);
  });
});
