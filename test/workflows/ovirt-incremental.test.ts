/**
 * ovirtIncrementalBackup's saga with stubbed activities on the time-skipping server: a copy that
 * fails or a cancel during the copy cancels the run's transfers before it ends its backup (so the
 * engine lets it finalize), leaving no transfer open and no backup ready; an engine that refuses
 * the checkpoint makes a full, with its reason.
 */
import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorTypes } from '../../lib/errors';
import { describe, expect, test } from 'vitest';
import { OVIRT_PROXY, OVIRT_VM, type Stubs } from '../helpers/stub-activities';
import { eventually } from '../helpers/eventually';
import { fails, hangsUntilCancelled, runEnd, stubServerForFile, type Script } from './stub-worker';

const taskQueue = 'wf-ovirt-incremental';
const DISK = 'disk-os';

/** The engine as the stubs see it, per run. */
interface Engine {
  openTransfers: Set<string>;
  backups: Map<string, string>;
}
const engines = new Map<string, Engine>();
const engine = (): Engine => {
  const id = activityInfo().workflowExecution?.workflowId ?? '';
  let e = engines.get(id);
  if (!e) engines.set(id, (e = { openTransfers: new Set(), backups: new Map() }));
  return e;
};

const stubs: Stubs = {
  ovirtIncrementalPreflight: async () => ({
    vm: { id: OVIRT_VM, name: 'web-01' },
    disks: [{ id: DISK, name: 'web-01_Disk1', provisionedSize: 1024, incremental: true }],
    skippedDisks: [],
    checkpointIds: ['cp-1'],
  }),
  incrementalChainHead: async () => ({ dir: 'ovirt-incremental/web-01-6f2a0d3e/prev', toCheckpointId: 'cp-1', completedAt: '2024-01-01T00:00:00Z', disks: [{ id: DISK, provisionedSize: 1024 }] }),
  ovirtStartVmBackup: async (input: { fromCheckpointId?: string }) => {
    const id = `backup-${engine().backups.size + 1}`;
    engine().backups.set(id, 'ready');
    return { backupId: id, adopted: false, from: input.fromCheckpointId };
  },
  ovirtWaitVmBackupReady: async () => ({ phase: 'ready', toCheckpointId: 'cp-2', disks: [{ id: DISK, mode: 'incremental' }] }),
  ovirtStartImageTransfer: async (input: { backupId: string; diskId: string }) => {
    engine().openTransfers.add(`${input.backupId}/${input.diskId}`);
    return { transferId: 't-1', transferUrl: 'https://imageio/images/ticket', adopted: false };
  },
  copyImageTransfer: async (input: { mode: string; fileName: string }) => ({
    fileName: input.fileName,
    path: `/repo/${input.fileName}`,
    bytes: 10,
    sha256: 'a',
    imageSha256: 'b',
    bytesFetched: 10,
    resumedFromOffset: 0,
    attempt: 1,
    ...(input.mode === 'incremental' ? { ranges: [{ start: 0, length: 10 }] } : {}),
  }),
  ovirtFinalizeImageTransfer: async () => {
    engine().openTransfers.clear();
    return { phase: 'finished_success' };
  },
  ovirtCancelImageTransfers: async (input: { backupId: string; diskId: string }) => {
    engine().openTransfers.delete(`${input.backupId}/${input.diskId}`);
    return { cancelled: ['t-1'] };
  },
  ovirtFinalizeVmBackup: async (input: { backupId: string }) => {
    engine().backups.set(input.backupId, 'succeeded');
    return { phase: 'succeeded' };
  },
  ovirtEndVmBackup: async (input: { backupId?: string; runId?: string }) => {
    // The engine refuses to finalize a backup whose transfer is still open.
    if (engine().openTransfers.size > 0) throw new Error('Cannot finalize backup: image transfer still in progress');
    // Without a backup id: every backup of the run not ended (the stubs' engine holds this run's only).
    const ids = input.backupId !== undefined ? [input.backupId] : [...engine().backups].filter(([, phase]) => phase === 'ready').map(([id]) => id);
    for (const id of ids) engine().backups.set(id, 'succeeded');
    return { phase: 'succeeded' };
  },
  ovirtGetVmConfig: async () => ({ type: 'ovf', data: '<ovf/>' }),
  writeBackupFile: async (input: { dir: string; fileName: string }) => ({ path: `/repo/${input.dir}/${input.fileName}`, bytes: 1, sha256: 'c' }),
};

const server = stubServerForFile(taskQueue, stubs, { detail: (name, input) => (name === 'ovirtStartVmBackup' ? `from ${input.fromCheckpointId ?? 'nothing'}` : undefined) });

async function start(workflowId: string, script: Script = {}) {
  server.world.script(workflowId, script);
  return server.env.client.workflow.start('ovirtIncrementalBackup', { taskQueue, workflowId, args: [{ endpoint: 'ovirt-sim', vmId: OVIRT_VM, proxyVmId: OVIRT_PROXY, copyTaskQueue: taskQueue }] });
}

function expectEngineClean(workflowId: string) {
  const e = engines.get(workflowId)!;
  expect([...e.openTransfers]).toEqual([]);
  expect([...e.backups.values()].filter((phase) => phase === 'ready')).toEqual([]);
}

const UNDO_ORDER = ['ovirtCancelImageTransfers', 'ovirtEndVmBackup'];

describe('ovirtIncrementalBackup', () => {
  test('an incremental from the chain head: transfer, copy, finalize, record; nothing undone', async () => {
    await start('inc-happy');
    const end = await runEnd(server.env, 'inc-happy');
    expect(end.status).toBe('COMPLETED');
    expect(end.result.backup).toEqual({ id: 'backup-1', mode: 'incremental', fromCheckpointId: 'cp-1', toCheckpointId: 'cp-2' });
    expect(end.result.parent).toBe('ovirt-incremental/web-01-6f2a0d3e/prev');
    expect(server.world.log('inc-happy')).not.toContain('ovirtEndVmBackup');
    expectEngineClean('inc-happy');
  });

  test('a copy that fails: its transfer is cancelled, then its backup ended, and the run fails', async () => {
    await start('inc-copy-fails', { copyImageTransfer: fails('imageio said no') });
    const end = await runEnd(server.env, 'inc-copy-fails');
    expect(end.status).toBe('FAILED');
    expect(end.failure?.message).toMatch(/imageio said no/);
    expect(server.world.log('inc-copy-fails').filter((e) => UNDO_ORDER.includes(e))).toEqual(UNDO_ORDER);
    expectEngineClean('inc-copy-fails');
  });

  test('a cancel during the copy undoes the same way, and the run ends cancelled', async () => {
    const handle = await start('inc-cancel', { copyImageTransfer: hangsUntilCancelled('copyImageTransfer') });
    await server.world.reached('inc-cancel', 'copyImageTransfer');
    await handle.cancel();
    expect((await runEnd(server.env, 'inc-cancel')).status).toBe('CANCELLED');
    expect(server.world.log('inc-cancel').filter((e) => UNDO_ORDER.includes(e))).toEqual(UNDO_ORDER);
    expectEngineClean('inc-cancel');
  });

  test('a garbled reply to the backup start (the engine made it): the run fails at start-backup and its undo ends the backup it finds by the run’s tag', async () => {
    await start('inc-start-garbled', {
      ovirtStartVmBackup: async (input, { base }) => {
        await base(input);
        throw ApplicationFailure.nonRetryable('oVirt POST /vms/x/backups → HTTP 201: unexpected response body', ErrorTypes.malformedResponse);
      },
    });
    const end = await runEnd(server.env, 'inc-start-garbled');
    expect(end.status).toBe('FAILED');
    expect(end.failure?.message).toMatch(/step "start-backup" failed/);
    expect(server.world.log('inc-start-garbled')).toContain('ovirtEndVmBackup');
    expectEngineClean('inc-start-garbled');
  });

  test('an engine that refuses the checkpoint: a full backup, with the reason in the result and the progress query', async () => {
    await start('inc-refused', {
      ovirtStartVmBackup: async (input, { base }) => (input.fromCheckpointId ? { refused: 'Cannot backup VM. Checkpoint cp-1 cannot be used' } : base(input)),
    });
    const end = await runEnd(server.env, 'inc-refused');
    expect(end.status).toBe('COMPLETED');
    expect(server.world.log('inc-refused').filter((e) => e.startsWith('ovirtStartVmBackup'))).toEqual(['ovirtStartVmBackup from cp-1', 'ovirtStartVmBackup from nothing']);
    expect(end.result.backup.mode).toBe('full');
    expect(end.result.parent).toBeUndefined();
    expect(end.result.disks[0].mode).toBe('full');
    expect(end.result.fallbacks[0].reason).toMatch(/refused checkpoint cp-1/);
    const progress = await eventually(
      () => server.env.client.workflow.getHandle('inc-refused').query<{ chain: { mode: string; fallbacks: unknown[] } }>('progress'),
      (p) => p.chain !== undefined,
    );
    expect(progress.chain.mode).toBe('full');
  });
});
