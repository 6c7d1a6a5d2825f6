/**
 * verifyBackups with stubbed repository activities on the time-skipping server: after the
 * per-backup checks it runs the repository's own check once (`restic check`, with
 * `--read-data-subset=N/T` when the run checks a slice), reports it in the result, and fails as a
 * check (BackupVerificationFailed, a `check-failed` alert) when restic reports errors, even though
 * every backup's files match. A directory repository adds nothing to the result.
 */
import { activityInfo } from '@temporalio/activity';
import { expect, test } from 'vitest';
import type { BackupSummary, RepositoryCheck } from '../../activities/copy/restore-types';
import type { VerifyBackupsResult } from '../../contracts/repository/results';
import { ErrorTypes } from '../../lib/errors';
import { OVIRT_VM } from '../helpers/stub-activities';
import { runEnd, stubServerForFile } from './stub-worker';

const taskQueue = 'wf-verify-backups';
const DIRS = ['ovirt/web-01-6f2a0d3e/20261206T0200-aaaa0001', 'ovirt/web-01-6f2a0d3e/20261205T0200-aaaa0002'];
const listed: BackupSummary[] = DIRS.map((dir, i) => ({
  dir,
  provider: 'ovirt',
  vm: { id: OVIRT_VM, name: 'web-01' },
  workflowId: `backup-ovirt-${OVIRT_VM}`,
  runId: `run-${i}`,
  completedAt: `2026-12-0${6 - i}T02:10:00.000Z`,
  bytes: 3 << 20,
  disks: 1,
}));
const DAMAGE = 'pack 3f2a1b0c: not referenced in any index; error for tree 9d8e7f60: blob not found';

/** What each run's repository check answers, by workflow id (the worker's repository kind and restic's verdict). */
const answers = new Map<string, (input: { subset?: { n: number; t: number } }) => RepositoryCheck>();
const restic = (ok: boolean) => (input: { subset?: { n: number; t: number } }) => ({
  kind: 'restic' as const,
  ok,
  command: `restic check${input.subset ? ` --read-data-subset=${input.subset.n}/${input.subset.t}` : ''}`,
  summary: ok ? 'no errors were found' : DAMAGE,
});

const server = stubServerForFile(
  taskQueue,
  {
    listBackups: async () => listed,
    verifyBackup: async ({ dir }: { dir: string }) => ({
      dir,
      ok: true,
      files: [{ file: 'd1.raw', expectedBytes: 3 << 20, bytes: 3 << 20, expectedSha256: 'a'.repeat(64), sha256: 'a'.repeat(64), ok: true }],
    }),
    recordVerification: async ({ verification }: { verification: unknown }) => [verification],
    repositoryIntegrityCheck: async (input: { subset?: { n: number; t: number } }) => answers.get(activityInfo().workflowExecution?.workflowId ?? '')!(input),
  },
  { detail: (name, input) => (name === 'repositoryIntegrityCheck' && input.subset ? `${input.subset.n}/${input.subset.t}` : name === 'verifyBackup' ? input.dir : undefined) },
);

async function verify(workflowId: string, answer: (input: { subset?: { n: number; t: number } }) => RepositoryCheck, extra: Record<string, unknown> = {}) {
  answers.set(workflowId, answer);
  await server.env.client.workflow.start('verifyBackups', { taskQueue, workflowId, args: [{ copyTaskQueue: taskQueue, all: true, ...extra }] });
  return runEnd(server.env, workflowId);
}

test('a clean restic check is run once, after the backups, with the slice the run checks, and reported in the result', async () => {
  const end = await verify('verify-restic-clean', restic(true), { subset: '2/7' });
  expect(end.status).toBe('COMPLETED');
  const result = end.result as VerifyBackupsResult;
  expect(result.ok).toBe(true);
  expect(result.repository).toEqual({ command: 'restic check --read-data-subset=2/7', ok: true, summary: 'no errors were found' });
  expect(server.world.log('verify-restic-clean')).toEqual([
    'listBackups',
    `verifyBackup ${DIRS[0]}`,
    'recordVerification',
    `verifyBackup ${DIRS[1]}`,
    'recordVerification',
    'repositoryIntegrityCheck 2/7',
  ]);
  expect(server.world.alerts.of('verify-restic-clean')).toEqual([]);
});

test('restic check reporting errors fails the run as a check, naming them, though every backup matched; the result is in the failure and a check-failed alert is sent', async () => {
  const end = await verify('verify-restic-damaged', restic(false));
  expect(end.status).toBe('FAILED');
  expect(end.failure?.type).toBe(ErrorTypes.verificationFailed);
  expect(end.failure?.message).toBe(`backup check failed: restic check: ${DAMAGE} (0 of 2 backup(s) bad; restic check found errors in the repository)`);
  expect(server.world.log('verify-restic-damaged').filter((e) => e.startsWith('repositoryIntegrityCheck'))).toEqual(['repositoryIntegrityCheck']);
  // The backups' own verdicts were recorded: their files did match.
  expect(server.world.log('verify-restic-damaged').filter((e) => e === 'recordVerification')).toHaveLength(2);
  const alerts = server.world.alerts.of('verify-restic-damaged');
  expect(alerts).toHaveLength(1);
  expect(alerts[0]).toMatchObject({ kind: 'check-failed' });
  expect(JSON.stringify(alerts[0])).toContain(DAMAGE);
});

test('a directory repository answers "none": the result has no repository check and the run passes', async () => {
  const end = await verify('verify-directory', () => ({ kind: 'directory', ok: true, command: 'none', summary: 'a directory repository is checked by re-reading its backups (verifyBackup)' }));
  expect(end.status).toBe('COMPLETED');
  const result = end.result as VerifyBackupsResult;
  expect(result.ok).toBe(true);
  expect(result.repository).toBeUndefined();
  expect(result.backups.map((b) => b.dir)).toEqual(DIRS);
});
