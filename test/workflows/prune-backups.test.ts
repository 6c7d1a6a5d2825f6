/**
 * pruneBackups' retention of the engine checkpoints of incremental chains, with stubbed activities
 * on the time-skipping server: the checkpoints the repository recorded for points removed earlier
 * (not the root then) are offered to the engine again with this run's, never one a point that stays
 * names; what the engine no longer lists is forgotten, the rest stays recorded for a later prune.
 */
import { activityInfo } from '@temporalio/activity';
import { describe, expect, test } from 'vitest';
import type { BackupSummary } from '../../activities/copy/restore-types';
import { OVIRT_PROXY, OVIRT_VM, type Stubs } from '../helpers/stub-activities';
import { runEnd, stubServerForFile } from './stub-worker';

const taskQueue = 'wf-prune-backups';
const VM_FOLDER = 'ovirt-incremental/web-01-6f2a0d3e';

const point = (run: string, completedAt: string, checkpointId: string, parent?: string): BackupSummary => ({
  dir: `${VM_FOLDER}/${run}`,
  provider: 'ovirt',
  vm: { id: OVIRT_VM, name: 'web-01' },
  workflowId: `backup-${run}`,
  runId: `run-${run}`,
  completedAt,
  bytes: 1,
  disks: 1,
  kind: 'incremental',
  mode: parent ? 'incremental' : 'full',
  ...(parent ? { parent: `${VM_FOLDER}/${parent}` } : {}),
  endpoint: 'ovirt-sim',
  checkpointId,
});

/** The engine's checkpoints per run (oldest first): only the root can be removed. */
const engines = new Map<string, string[]>();
const engineOf = () => engines.get(activityInfo().workflowExecution?.workflowId ?? '')!;
/** The repository's record per run. */
const records = new Map<string, Array<{ checkpointId: string; endpoint: string; dir: string; removedAt: string }>>();
const recordOf = () => records.get(activityInfo().workflowExecution?.workflowId ?? '')!;

const stubs: Stubs = {
  // A new full (d) and its incremental (e) kept; c goes now; a and b went in an earlier prune while c was kept.
  listBackups: async () => [point('e', '2026-12-05T00:00:00Z', 'cp-e', 'd'), point('d', '2026-12-04T00:00:00Z', 'cp-d'), point('c', '2026-12-03T00:00:00Z', 'cp-c')],
  openRunIds: async () => [],
  removeBackup: async (input: { dir: string }) => {
    recordOf().push({ checkpointId: `cp-${input.dir.slice(-1)}`, endpoint: 'ovirt-sim', dir: input.dir, removedAt: '2026-12-06T00:00:00Z' });
    return { dir: input.dir, removed: true };
  },
  pendingChainCheckpoints: async () => [{ vmId: OVIRT_VM, checkpoints: recordOf() }],
  forgetChainCheckpoints: async (input: { checkpointIds: string[] }) => {
    records.set(
      activityInfo().workflowExecution?.workflowId ?? '',
      recordOf().filter((c) => !input.checkpointIds.includes(c.checkpointId)),
    );
    return { forgotten: input.checkpointIds, left: recordOf().length };
  },
  ovirtRemoveRootCheckpoints: async (input: { checkpointIds: string[] }) => {
    const engine = engineOf();
    const removed: string[] = [];
    while (engine.length && input.checkpointIds.includes(engine[0]!)) removed.push(engine.shift()!);
    return { removed, left: input.checkpointIds.filter((id) => engine.includes(id)) };
  },
};

const server = stubServerForFile(taskQueue, stubs);

async function prune(workflowId: string, engine: string[], recorded: string[]) {
  engines.set(workflowId, engine);
  records.set(
    workflowId,
    recorded.map((id) => ({ checkpointId: id, endpoint: 'ovirt-sim', dir: `${VM_FOLDER}/${id.slice(-1)}`, removedAt: '2026-12-01T00:00:00Z' })),
  );
  await server.env.client.workflow.start('pruneBackups', { taskQueue, workflowId, args: [{ proxyVmId: OVIRT_PROXY, copyTaskQueue: taskQueue, vmId: OVIRT_VM, keepLast: 2 }] });
  return runEnd(server.env, workflowId);
}

describe('pruneBackups: checkpoints of removed chain points', () => {
  test('recorded checkpoints of earlier removals go with this run’s once they are the root; the record ends empty', async () => {
    const end = await prune('prune-recorded', ['cp-c', 'cp-a', 'cp-b', 'cp-d', 'cp-e'], ['cp-a', 'cp-b']);
    expect(end.status).toBe('COMPLETED');
    expect(end.result.removed.map((r: { id: string }) => r.id)).toEqual([`${VM_FOLDER}/c`]);
    expect(end.result.checkpoints).toEqual([{ vmId: OVIRT_VM, endpoint: 'ovirt-sim', removed: ['cp-c', 'cp-a', 'cp-b'], left: [] }]);
    expect(engines.get('prune-recorded')).toEqual(['cp-d', 'cp-e']);
    expect(records.get('prune-recorded')).toEqual([]);
  });

  test('a recorded checkpoint a staying point names is forgotten, never removed; one not the root yet stays recorded', async () => {
    // cp-d is recorded (a crash after the record, before the folder went) but d is still listed and kept;
    // cp-x is behind a checkpoint that is not ours (cp-other): not the root, it waits.
    const end = await prune('prune-stays', ['cp-other', 'cp-x', 'cp-c', 'cp-d', 'cp-e'], ['cp-d', 'cp-x']);
    expect(end.status).toBe('COMPLETED');
    expect(end.result.checkpoints).toEqual([{ vmId: OVIRT_VM, endpoint: 'ovirt-sim', removed: [], left: ['cp-c', 'cp-x'] }]);
    expect(engines.get('prune-stays')).toEqual(['cp-other', 'cp-x', 'cp-c', 'cp-d', 'cp-e']);
    expect(records.get('prune-stays')!.map((c) => c.checkpointId)).toEqual(['cp-x', 'cp-c']);
  });
});
