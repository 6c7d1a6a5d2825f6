/**
 * Temporal Schedules for backup policies, against a real dev server and the oVirt simulator:
 * apply is idempotent, a short interval runs on time, overlaps are skipped and recorded, pause /
 * unpause / trigger / backfill do what they say, retention keeps the newest N, and a terminated
 * scheduled run has its backup undone (the engine is left clean without the reaper).
 */
import { ovirtTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { BackupClient } from '../../client/backup-client';
import { parsePolicy } from '../../client/schedules/policy';
import { ScheduleManager } from '../../client/schedules/schedule-manager';
import type { ScheduledBackupResult } from '../../contracts/schedule/results';
import type { OvirtBackupManifest } from '../../contracts/ovirt/results';
import type { BackupSummary } from '../../activities/copy/restore-types';
import type { Progress } from '../../contracts/progress';
import type { OvirtHarness } from '../helpers/ovirt-harness';
import { assertClean, backupSnapshots, proxyAttachments } from '../helpers/ovirt-inspect';
import { eventually } from '../helpers/eventually';

let schedules: ScheduleManager;
const created: string[] = [];

const test = ovirtTest({ copy: { maxBytesPerSecond: 2 * 1024 * 1024 } });
test.beforeAll(async ({ h }) => {
  schedules = new ScheduleManager(h.client, h.taskQueue);
});
test.afterEach(async ({ h }) => {
  for (const id of created.splice(0)) await schedules.delete(id).catch(() => undefined);
  // Let any backup a schedule started finish before the next test looks at the engine.
  await eventually(
    () => new BackupClient(h.client, h.taskQueue).list({ status: 'running', limit: 50 }),
    (r) => r.length === 0,
    60_000,
  );
});

function policy(h: OvirtHarness, id: string, extra: string, input = `{ endpoint: ovirt-sim, vmId: ${h.demo.vmId}, proxyVmId: ${h.demo.proxyVmId}, pollIntervalMs: 100 }`) {
  created.push(id);
  return parsePolicy(`schedules:\n  - id: ${id}\n    workflow: ovirtSnapshotBackup\n    input: ${input}\n${extra}`, `${id}.yaml`);
}

async function wrapperRuns(h: OvirtHarness, scheduleId: string, count: number): Promise<ScheduledBackupResult[]> {
  const handles = await eventually(
    async () => {
      const ids: string[] = [];
      for await (const w of h.client.workflow.list({ query: `TemporalScheduledById = "${scheduleId}"` })) ids.push(w.workflowId);
      return ids;
    },
    (ids) => ids.length >= count,
    60_000,
  );
  return Promise.all(handles.map((id) => h.client.workflow.getHandle(id).result() as Promise<ScheduledBackupResult>));
}

test('apply creates, a second apply of the same file changes nothing, an edit updates', async ({ h }) => {
  const entries = policy(h, 'apply-test', '    every: 1h\n    paused: true\n    note: nightly web-01');
  assert.deepEqual(await schedules.apply(entries), [{ id: 'apply-test', outcome: 'created' }]);
  const before = await schedules.describe('apply-test');
  assert.deepEqual(await schedules.apply(entries), [{ id: 'apply-test', outcome: 'unchanged' }]);
  const again = await schedules.describe('apply-test');
  assert.equal(again.info.lastUpdatedAt?.getTime(), before.info.lastUpdatedAt?.getTime(), 'the second apply did not touch the schedule');
  const edited = policy(h, 'apply-test', '    every: 2h\n    paused: true');
  assert.deepEqual(await schedules.apply(edited), [{ id: 'apply-test', outcome: 'updated' }]);
  const after = await schedules.describe('apply-test');
  assert.equal((after.spec.intervals?.[0]?.every as number | undefined) ?? 0, 2 * 3600 * 1000);
  assert.equal(after.policies.overlap, 'SKIP', 'overlap defaults to skip, as one backup per VM requires');
});

test('a short interval runs on time, and a run that would overlap the one still going is skipped and recorded', async ({ h }) => {
  await schedules.apply(policy(h, 'every-2s', '    every: 2s\n    catchupWindow: 1m'));
  const d = await eventually(
    () => schedules.describe('every-2s'),
    (s) => s.info.numActionsSkippedOverlap >= 1 && s.info.numActionsTaken >= 2,
    60_000,
  );
  await schedules.delete('every-2s');
  assert.ok(d.info.numActionsSkippedOverlap >= 1, 'an overlapping run was skipped');
  for (const action of d.info.recentActions) {
    const lateMs = action.takenAt.getTime() - action.scheduledAt.getTime();
    assert.ok(lateMs < 2000, `action scheduled for ${action.scheduledAt.toISOString()} started ${lateMs} ms late`);
  }
  const results = await wrapperRuns(h, 'every-2s', 2);
  assert.ok(results.every((r) => r.outcome === 'completed' || r.outcome === 'skipped'));
  await eventually(
    () => backupSnapshots(h),
    (s) => s.length === 0,
  );
  await assertClean(h);
});

test('pause stops runs, unpause resumes, trigger runs now, backfill runs the missed times', async ({ h }) => {
  await schedules.apply(policy(h, 'controls', '    every: 1s\n    paused: true'));
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal((await schedules.describe('controls')).info.numActionsTaken, 0, 'a paused schedule takes no action');

  await schedules.trigger('controls');
  await eventually(
    () => schedules.describe('controls'),
    (s) => s.info.numActionsTaken === 1,
    20_000,
  );
  assert.equal((await wrapperRuns(h, 'controls', 1))[0]!.outcome, 'completed', 'trigger ran a backup though the schedule is paused');

  await schedules.unpause('controls', 'back on');
  const running = await eventually(
    () => schedules.describe('controls'),
    (s) => s.info.numActionsTaken >= 2,
    20_000,
  );
  assert.equal(running.state.paused, false);
  await schedules.pause('controls', 'maintenance window');
  const paused = await schedules.describe('controls');
  assert.equal(paused.state.paused, true);
  assert.equal(paused.state.note, 'maintenance window');
  await eventually(
    () => new BackupClient(h.client, h.taskQueue).list({ status: 'running' }),
    (r) => r.length === 0,
    60_000,
  );

  const taken = paused.info.numActionsTaken;
  const end = new Date();
  await schedules.backfill('controls', new Date(end.getTime() - 3500), end, 'allowAll');
  const filled = await eventually(
    () => schedules.describe('controls'),
    (s) => s.info.numActionsTaken >= taken + 3,
    30_000,
  );
  assert.ok(filled.info.numActionsTaken >= taken + 3, `backfill took ${filled.info.numActionsTaken - taken} actions`);
  // Backfilled runs for one VM start together: one backs up, the others find it running and say so.
  const results = await wrapperRuns(h, 'controls', filled.info.numActionsTaken);
  const skipped = results.filter((r) => r.outcome === 'skipped');
  assert.ok(skipped.length >= 1 && skipped.every((r) => /already running/.test(r.reason!)), JSON.stringify(results.map((r) => r.outcome)));
  await eventually(
    () => backupSnapshots(h),
    (s) => s.length === 0,
  );
});

test('retention keeps the newest N snapshots the schedule made and never touches others', async ({ h }) => {
  // A snapshot the tool did not make, and one another schedule made, must survive.
  await h.execute('ovirtSnapshotBackup', h.input({ keepSnapshot: true, description: 'manual keeper [schedule other]' }), 'manual');
  const [manual] = await backupSnapshots(h);
  await schedules.apply(policy(h, 'retained', '    every: 1h\n    paused: true\n    retention: { keep: 2 }'));
  const results: ScheduledBackupResult[] = [];
  for (let i = 1; i <= 3; i++) {
    await schedules.trigger('retained');
    results.push(...(await wrapperRuns(h, 'retained', i)).slice(-1));
    await eventually(
      () => new BackupClient(h.client, h.taskQueue).list({ status: 'running' }),
      (r) => r.length === 0,
      60_000,
    );
  }
  const all = await wrapperRuns(h, 'retained', 3);
  const last = all.find((r) => r.retention?.deleted.length);
  assert.ok(last, `one run pruned: ${JSON.stringify(all.map((r) => r.retention))}`);
  assert.equal(last.retention!.deleted.length, 1);
  const remaining = await eventually(
    () => backupSnapshots(h),
    (s) => s.length === 3,
  );
  assert.equal(remaining.filter((s) => s.description.includes('[schedule retained]')).length, 2);
  assert.ok(
    remaining.some((s) => s.id === manual!.id),
    'the snapshot the schedule did not make is kept',
  );
  assert.ok(results.length >= 1);
});

test('a scheduled run terminated while its backup copies: the backup is cancelled and undone, the engine clean without the reaper', async ({ h, onTestFinished }) => {
  const normalRate = h.copySettings.maxBytesPerSecond;
  h.copySettings.maxBytesPerSecond = 512 * 1024;
  onTestFinished(() => void (h.copySettings.maxBytesPerSecond = normalRate));
  await schedules.apply(policy(h, 'terminated', '    every: 1h\n    paused: true'));
  const earlier = (await backupSnapshots(h)).map((s) => s.id);
  await schedules.trigger('terminated');
  const child = h.client.workflow.getHandle(`backup-ovirt-${h.demo.vmId}`);
  await eventually(
    () =>
      child
        .query<Progress>('progress')
        .then((p) => p.step)
        .catch(() => ''),
    (step) => step === 'copy',
    60_000,
  );
  const { runId } = await child.describe();
  assert.equal((await backupSnapshots(h)).length, earlier.length + 1, 'the backup made its snapshot');

  // What an operator's terminate, or a schedule's terminateOther overlap, does to the scheduled run.
  const [wrapperId] = await eventually(
    async () => {
      const ids: string[] = [];
      for await (const w of h.client.workflow.list({ query: `TemporalScheduledById = "terminated" AND ExecutionStatus = "Running"` })) ids.push(w.workflowId);
      return ids;
    },
    (ids) => ids.length === 1,
  );
  await h.client.workflow.getHandle(wrapperId!).terminate('operator stops the scheduled run');

  const backup = h.client.workflow.getHandle(`backup-ovirt-${h.demo.vmId}`, runId);
  const closed = await eventually(
    () => backup.describe(),
    (d) => d.status.name !== 'RUNNING',
    60_000,
  );
  assert.equal(closed.status.name, 'CANCELLED', 'the backup was cancelled, not terminated');
  assert.equal((await backup.query<Progress>('progress')).state, 'cancelled');
  assert.deepEqual(await proxyAttachments(h), [], 'no disk is left attached to the proxy VM');
  assert.deepEqual(
    (await backupSnapshots(h)).map((s) => s.id),
    earlier,
    'no snapshot of the terminated run is left',
  );
});

test('repositoryRetention prunes the VM’s backups in the repository after each successful run, by keep rules', async ({ h }) => {
  await schedules.apply(policy(h, 'gfs', '    every: 1h\n    paused: true\n    repositoryRetention: { keepLast: 1 }'));
  for (let i = 1; i <= 2; i++) {
    await schedules.trigger('gfs');
    await wrapperRuns(h, 'gfs', i);
  }
  const runs = (await wrapperRuns(h, 'gfs', 2)).filter((r) => r.outcome === 'completed');
  assert.ok(runs.length >= 1, JSON.stringify(runs));
  for (const run of runs) {
    const dir = (run.result as OvirtBackupManifest).repository.dir;
    assert.deepEqual(run.repositoryRetention?.rules, { keepLast: 1 });
    assert.equal(run.repositoryRetention?.timeZone, 'UTC', 'the schedule’s time zone');
    assert.equal(run.repositoryRetention?.dryRun, false);
    assert.ok(!run.repositoryRetention!.removed.some((r) => r.id === dir), 'the backup just made is not removed');
  }
  const listed = await h.execute<BackupSummary[]>('ovirtListBackups', { proxyVmId: h.demo.proxyVmId, vmId: h.demo.vmId });
  // Folder names sort by minute only (two runs in one minute differ by a random tail): newest by completion.
  const newest = runs
    .map((r) => r.result as OvirtBackupManifest)
    .sort((a, b) => Date.parse(a.completedAt) - Date.parse(b.completedAt))
    .at(-1)!.repository.dir;
  assert.deepEqual(
    listed.map((b) => b.dir),
    [newest],
    'one backup left: the newest',
  );
});
