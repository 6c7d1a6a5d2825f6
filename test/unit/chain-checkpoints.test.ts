/**
 * The record of removed chain points' checkpoints (activities/copy/chain-checkpoints.ts) is read,
 * changed and written back. Two prunes of one repository at once (a schedule's and an operator's)
 * change one VM's record side by side: no change may be lost, or a checkpoint stays on the engine
 * with nothing left that remembers our backup made it.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directoryRecordStore, forgetCheckpoints, pendingCheckpoints, recordRemovedCheckpoint } from '../../activities/copy/chain-checkpoints';
import type { OvirtIncrementalManifest } from '../../contracts/ovirt/incremental-results';

const VM_ID = '5a1e7c3d-0000-4000-8000-00000000abcd';
const VM_FOLDER = `ovirt-incremental/web-01-${VM_ID.slice(0, 8)}`;

/** The three fields the record takes from a point's manifest. */
function point(checkpointId: string): OvirtIncrementalManifest {
  return { endpoint: 'rhv-lab', vm: { id: VM_ID }, backup: { toCheckpointId: checkpointId } } as unknown as OvirtIncrementalManifest;
}

async function withStore(body: (store: ReturnType<typeof directoryRecordStore>) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'checkpoint-record-'));
  try {
    await body(directoryRecordStore(root));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const recorded = async (store: ReturnType<typeof directoryRecordStore>) => (await pendingCheckpoints(store, { vmId: VM_ID })).flatMap((p) => p.checkpoints.map((c) => c.checkpointId)).sort();

test('checkpoints of points removed side by side are all recorded', async () => {
  await withStore(async (store) => {
    const ids = ['cp-1', 'cp-2', 'cp-3', 'cp-4'];
    await Promise.all(ids.map((id, i) => recordRemovedCheckpoint(store, `${VM_FOLDER}/point-${i}`, point(id))));
    assert.deepEqual(await recorded(store), ids);
  });
});

test('a checkpoint recorded while another prune forgets others stays recorded', async () => {
  await withStore(async (store) => {
    await recordRemovedCheckpoint(store, `${VM_FOLDER}/point-1`, point('cp-1'));
    await recordRemovedCheckpoint(store, `${VM_FOLDER}/point-2`, point('cp-2'));
    const [forgot] = await Promise.all([forgetCheckpoints(store, { vmId: VM_ID, checkpointIds: ['cp-1'] }), recordRemovedCheckpoint(store, `${VM_FOLDER}/point-3`, point('cp-3'))]);
    assert.deepEqual(forgot.forgotten, ['cp-1']);
    assert.deepEqual(await recorded(store), ['cp-2', 'cp-3']);
  });
});

test('a failed change does not block the next one', async () => {
  await withStore(async (store) => {
    const failing = { ...store, write: () => Promise.reject(new Error('disk full')) };
    await assert.rejects(recordRemovedCheckpoint(failing, `${VM_FOLDER}/point-1`, point('cp-1')), /disk full/);
    await recordRemovedCheckpoint(store, `${VM_FOLDER}/point-2`, point('cp-2'));
    assert.deepEqual(await recorded(store), ['cp-2']);
  });
});
