/**
 * Scheduled repository retention of incremental chains, through a Temporal Schedule on the oVirt
 * harness: the example policy (examples/schedules/ovirt-incremental-gfs.yaml) parses, and a schedule
 * of ovirtIncrementalBackup with repositoryRetention prunes the chain after each run, keeping every
 * point a kept point builds on; once a full starts a new chain the old one goes, with its engine
 * checkpoints, and the next scheduled incremental chains on from the kept head.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ovirtTest } from '../helpers/fixtures';
import { parsePolicy } from '../../client/schedules/policy';
import { ScheduleManager } from '../../client/schedules/schedule-manager';
import type { ScheduledBackupResult } from '../../contracts/schedule/results';
import type { OvirtIncrementalManifest } from '../../contracts/ovirt/incremental-results';
import { BITMAP_GRANULARITY } from '../../simulators/ovirt';
import { eventually } from '../helpers/eventually';

const MiB = 1024 * 1024;
const test = ovirtTest({ sim: { diskSizes: { os: 4 * MiB, data: MiB }, backupTimings: { backupStartMs: 200, backupFinalizeMs: 200, transferStartMs: 100, transferFinalizeMs: 100 } } });
const SCHEDULE = 'incremental-gfs';

test('the example policy of scheduled incremental backups with repository retention parses', async () => {
  const text = await readFile(new URL('../../examples/schedules/ovirt-incremental-gfs.yaml', import.meta.url), 'utf8');
  const [entry] = parsePolicy(text, 'ovirt-incremental-gfs.yaml');
  assert.equal(entry!.workflow, 'ovirtIncrementalBackup');
  assert.deepEqual(entry!.repositoryRetention, { keepDaily: 7, keepWeekly: 4, keepMonthly: 6 });
});

test('repositoryRetention of a scheduled ovirtIncrementalBackup keeps a kept point’s parents, then removes the old chain and its checkpoints once a full starts a new one', async ({ h }) => {
  const schedules = new ScheduleManager(h.client, h.taskQueue);
  const policy = `schedules:\n  - id: ${SCHEDULE}\n    workflow: ovirtIncrementalBackup\n    input: { endpoint: ovirt-sim, vmId: ${h.demo.vmId}, proxyVmId: ${h.demo.proxyVmId}, pollIntervalMs: 100 }\n    every: 1h\n    paused: true\n    repositoryRetention: { keepLast: 1 }\n`;
  await schedules.apply(parsePolicy(policy, `${SCHEDULE}.yaml`));
  const runs: ScheduledBackupResult[] = [];
  /** One scheduled run, to its end. */
  const scheduled = async () => {
    await schedules.trigger(SCHEDULE);
    const ids = await eventually(
      async () => {
        const found: string[] = [];
        for await (const w of h.client.workflow.list({ query: `TemporalScheduledById = "${SCHEDULE}"` })) found.push(w.workflowId);
        return found;
      },
      (found) => found.length > runs.length,
      60_000,
    );
    const id = ids.find((i) => !runs.some((r) => (r as ScheduledBackupResult & { id?: string }).id === i))!;
    const result = { ...((await h.client.workflow.getHandle(id).result()) as ScheduledBackupResult), id };
    assert.equal(result.outcome, 'completed', JSON.stringify(result));
    runs.push(result);
    return { result, manifest: result.result as OvirtIncrementalManifest };
  };
  const write = (block: number) => h.state.writeDiskRange(h.demo.osDiskId, block * BITMAP_GRANULARITY, BITMAP_GRANULARITY);
  try {
    const full = await scheduled();
    assert.equal(full.manifest.backup.mode, 'full');
    assert.deepEqual(full.result.repositoryRetention?.removed, []);

    await write(3);
    const inc = await scheduled();
    assert.equal(inc.manifest.backup.mode, 'incremental');
    assert.deepEqual(inc.result.repositoryRetention?.removed, [], 'keepLast 1 keeps the newest point and the full it builds on');
    assert.deepEqual(inc.result.repositoryRetention?.kept.find((k) => k.id === full.manifest.repository.dir)?.reasons, [`the kept backup ${inc.manifest.repository.dir} builds on it`]);

    // An unclean shutdown: the next scheduled run makes a full, a new chain.
    h.state.backups.invalidateBitmaps(h.demo.vmId);
    await write(9);
    const next = await scheduled();
    assert.equal(next.manifest.backup.mode, 'full');
    assert.deepEqual(
      next.result.repositoryRetention?.removed.map((r) => r.id),
      [inc.manifest.repository.dir, full.manifest.repository.dir],
      'the old chain goes: nothing kept builds on it',
    );
    assert.deepEqual(next.result.repositoryRetention?.checkpoints?.[0]?.removed, [full.manifest.backup.toCheckpointId, inc.manifest.backup.toCheckpointId]);
    assert.deepEqual(
      h.state.backups.checkpointsOf(h.demo.vmId).map((c) => c.id),
      [next.manifest.backup.toCheckpointId],
      'the engine keeps only the kept point’s checkpoint',
    );

    await write(12);
    const after = await scheduled();
    assert.equal(after.manifest.backup.mode, 'incremental');
    assert.equal(after.manifest.parent, next.manifest.repository.dir);
    assert.deepEqual(after.result.repositoryRetention?.removed, []);
  } finally {
    await schedules.delete(SCHEDULE).catch(() => undefined);
  }
});
