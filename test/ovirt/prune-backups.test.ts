/**
 * Retention end to end on the oVirt harness: two real backups of the demo VM plus three older
 * copies of one (as earlier runs would have left them), one of those checked by verifyBackups.
 * With keepLast 1, a dry run removes nothing and says what would go; the real run keeps the
 * newest backup and the newest verified one and removes the other folders.
 */
import assert from 'node:assert/strict';
import { cp, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { BackupSummary } from '../../activities/copy/restore-types';
import type { OvirtBackupManifest } from '../../contracts/ovirt/results';
import { SAFETY_REASONS } from '../../contracts/retention/keep-rules';
import type { PruneBackupsResult } from '../../contracts/retention/results';
import type { VerifyBackupsResult } from '../../contracts/repository/results';
import { ovirtTest } from '../helpers/fixtures';
import { runBackupctl } from '../helpers/backupctl';
import { eventually } from '../helpers/eventually';

const test = ovirtTest();
const DAY = 86_400_000;

test('keepLast 1 keeps the newest and the newest verified backup; a dry run removes nothing', async ({ h }) => {
  const older = await h.execute<OvirtBackupManifest>('ovirtSnapshotBackup', h.input());
  const newest = await h.execute<OvirtBackupManifest>('ovirtSnapshotBackup', h.input());
  const vmFolder = posix.dirname(newest.repository.dir);

  // Earlier runs' backups: copies of a real one, dated 30, 20 and 10 days back.
  const copies: string[] = [];
  for (const daysAgo of [30, 20, 10]) {
    const at = new Date(Date.now() - daysAgo * DAY).toISOString();
    const dir = posix.join(vmFolder, `${at.replace(/[:.-]/g, '').slice(0, 15)}-old${daysAgo}`);
    await cp(join(h.dirs.repository, older.repository.dir), join(h.dirs.repository, dir), { recursive: true });
    const manifest = JSON.parse(await readFile(join(h.dirs.repository, dir, 'manifest.json'), 'utf8')) as OvirtBackupManifest;
    await writeFile(join(h.dirs.repository, dir, 'manifest.json'), JSON.stringify({ ...manifest, runId: `run-${daysAgo}`, startedAt: at, completedAt: at }));
    copies.push(dir);
  }
  const [oldest, verified, recent] = copies as [string, string, string];
  const check = await h.execute<VerifyBackupsResult>('verifyBackups', { proxyVmId: h.demo.proxyVmId, backup: verified });
  assert.equal(check.ok, true);

  const input = { proxyVmId: h.demo.proxyVmId, vmId: h.demo.vmId, keepLast: 1 };
  const expectedKept = [
    [newest.repository.dir, ['last backup', SAFETY_REASONS.newestGood]],
    [verified, [SAFETY_REASONS.newestVerified]],
  ];
  const expectedRemoved = [older.repository.dir, recent, oldest];
  const folders = async () => (await readdir(join(h.dirs.repository, vmFolder))).map((f) => posix.join(vmFolder, f)).sort();
  const before = await folders();
  assert.equal(before.length, 5);

  // backupctl prune --dry-run: each backup on a line, kept with its reasons or what would go.
  const cli = await runBackupctl(
    { TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: h.taskQueue, BACKUP_LOCAL_STACK: 'off' },
    ...['prune', '--vm', h.demo.vmId, '--proxy', h.demo.proxyVmId, '--keep-last', '1', '--dry-run'],
  );
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, new RegExp(`^keep\\s+${newest.repository.dir}\\s+\\S+\\s+last backup, ${SAFETY_REASONS.newestGood}$`, 'm'));
  assert.match(cli.stdout, new RegExp(`^keep\\s+${verified}\\s+\\S+\\s+${SAFETY_REASONS.newestVerified}$`, 'm'));
  for (const dir of [older.repository.dir, recent, oldest]) assert.match(cli.stdout, new RegExp(`^would remove\\s+${dir}\\s+\\S+$`, 'm'));
  assert.match(cli.stdout, /keep 1 last \(UTC\): 2 kept, 3 would be removed \(dry run: nothing was\)$/m);
  assert.deepEqual(await folders(), before, 'the CLI dry run removes nothing');

  const dry = await h.execute<PruneBackupsResult>('pruneBackups', { ...input, dryRun: true });
  assert.equal(dry.dryRun, true);
  assert.deepEqual(
    dry.kept.map((k) => [k.id, k.reasons]),
    expectedKept,
  );
  assert.deepEqual(
    dry.removed.map((r) => r.id),
    expectedRemoved,
  );
  assert.deepEqual(await folders(), before, 'a dry run removes nothing');

  const pruned = await h.execute<PruneBackupsResult>('pruneBackups', input);
  assert.equal(pruned.dryRun, false);
  assert.deepEqual(
    pruned.kept.map((k) => [k.id, k.reasons]),
    expectedKept,
  );
  assert.deepEqual(await folders(), [newest.repository.dir, verified].sort(), 'only the kept folders are left');
  const listed = await h.execute<BackupSummary[]>('ovirtListBackups', { proxyVmId: h.demo.proxyVmId, vmId: h.demo.vmId });
  assert.deepEqual(
    listed.map((b) => b.dir),
    [newest.repository.dir, verified],
  );

  // Pruning again (days counted in Berlin, inside the workflow) finds nothing more to remove.
  const again = await h.execute<PruneBackupsResult>('pruneBackups', { ...input, keepDaily: 1, timeZone: 'Europe/Berlin' });
  assert.equal(again.timeZone, 'Europe/Berlin');
  assert.deepEqual(again.removed, []);
  assert.deepEqual(again.kept[0]!.reasons, ['last backup', 'daily backup', SAFETY_REASONS.newestGood]);
});

test('a backup whose run is still open is kept, whatever the rules say', async ({ h }) => {
  const listed = await h.execute<BackupSummary[]>('ovirtListBackups', { proxyVmId: h.demo.proxyVmId, vmId: h.demo.vmId });
  const source = listed[0]!.dir;
  // A backup run of the VM held open by a slow engine (long enough for the prune below; the cancel waits for it); a folder that claims to be that run's.
  h.simulator.faults.add({ method: 'POST', path: '/vms/:id/snapshots', times: 1, action: { kind: 'delay', ms: 15_000 } });
  const running = await h.start('ovirtSnapshotBackup', h.input());
  try {
    await eventually(
      async () =>
        h.client.workflow
          .list({ query: `ExecutionStatus = "Running" AND BackupVmId = "${h.demo.vmId}"` })
          [Symbol.asyncIterator]()
          .next(),
      (r) => !r.done,
    );
    const at = new Date(Date.now() - 40 * DAY).toISOString();
    const open = posix.join(posix.dirname(source), `${at.replace(/[:.-]/g, '').slice(0, 15)}-open`);
    await cp(join(h.dirs.repository, source), join(h.dirs.repository, open), { recursive: true });
    const manifest = JSON.parse(await readFile(join(h.dirs.repository, open, 'manifest.json'), 'utf8')) as OvirtBackupManifest;
    await writeFile(join(h.dirs.repository, open, 'manifest.json'), JSON.stringify({ ...manifest, verifications: [], runId: running.firstExecutionRunId, startedAt: at, completedAt: at }));

    const pruned = await h.execute<PruneBackupsResult>('pruneBackups', { proxyVmId: h.demo.proxyVmId, vmId: h.demo.vmId, keepLast: 1, dryRun: true });
    assert.deepEqual(pruned.kept.find((k) => k.id === open)?.reasons, [SAFETY_REASONS.runOpen]);
    assert.ok(!pruned.removed.some((r) => r.id === open));
  } finally {
    await running.cancel();
    await running.result().catch(() => undefined);
    h.simulator.faults.clear();
  }
});

test('rules that keep nothing, or no VM, are refused before anything is listed', async ({ h }) => {
  for (const [input, message] of [
    [{ proxyVmId: h.demo.proxyVmId, vmId: h.demo.vmId }, /give at least one keep rule above 0/],
    [{ proxyVmId: h.demo.proxyVmId, keepDaily: 7 }, /say whose backups to prune: vmId, or all: true/],
    [{ proxyVmId: h.demo.proxyVmId, all: true, keepDaily: 7, timeZone: 'Mars/Olympus' }, /timeZone must be an IANA time zone/],
  ] as const) {
    await assert.rejects(h.execute('pruneBackups', input), (err: Error & { cause?: Error }) => {
      assert.match(err.cause?.message ?? err.message, message);
      return true;
    });
  }
});
