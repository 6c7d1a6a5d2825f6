/**
 * The repository's own workflows, run against a proxy's copy worker: `verifyBackups` re-reads
 * stored backups (all, one VM's, or one; optionally a slice N/T of their files), records each
 * verdict in the backup's manifest, and fails when any file does not match; `ovirtListBackups`
 * lists what the repository holds. Neither changes anything at a vendor.
 */
import { ApplicationFailure, patched } from '@temporalio/workflow';
import { ErrorTypes } from '../lib/errors';
import type { BackupSummary } from '../activities/copy/restore-types';
import { ovirtListBackupsInput, verifyBackupsInput } from '../contracts/repository/input';
import { describeFileCheck, describeRepositoryCheck, type BackupCheck, type RepositoryCheckResult, type VerifyBackupsResult } from '../contracts/repository/results';
import { OVIRT_LIST_BACKUPS_STEPS, VERIFY_BACKUPS_STEPS } from '../contracts/repository/steps';
import { repositoryActivities } from './shared/repository-activities';
import { recordVerified } from '../lib/metrics/workflow-metrics';
import { openRun } from './shared/workflow-run';

/** The backup a `backup` input names, among the listed ones (newest first). */
function pick(listed: BackupSummary[], backup: string, vmId: string | undefined): BackupSummary {
  const dir = backup.replace(/\/+$/, '');
  const found = backup === 'latest' ? listed[0] : listed.find((b) => b.dir === dir || b.workflowId === backup);
  if (found) return found;
  const message =
    backup === 'latest'
      ? `VM ${vmId} has no complete backup in the repository`
      : `unknown backup ${backup}: no complete backup in that repository folder, nor made by a run of that id${vmId ? ` for VM ${vmId}` : ''}`;
  throw ApplicationFailure.nonRetryable(message, ErrorTypes.invalidInput);
}

function describeTargets(i: { backup?: string; vmId?: string; all?: boolean; subset?: { n: number; t: number } }): string {
  const what = i.all ? 'every backup' : i.backup ? `backup ${i.backup}${i.vmId ? ` of VM ${i.vmId}` : ''}` : `the backups of VM ${i.vmId}`;
  return `${what}${i.subset ? ` (slice ${i.subset.n}/${i.subset.t})` : ''}`;
}

export async function verifyBackups(rawInput: unknown): Promise<VerifyBackupsResult> {
  const run = openRun(
    {
      workflowType: 'verifyBackups',
      steps: VERIFY_BACKUPS_STEPS,
      input: verifyBackupsInput,
      about: (i) => `check ${describeTargets(i)} on ${i.copyTaskQueue ?? `proxy ${i.proxyVmId}`}`,
      tag: (i) => ({ provider: 'ovirt', ...(i.vmId !== undefined ? { vmId: i.vmId } : {}) }),
    },
    rawInput,
  );
  const { input, progress, workflowId } = run;
  const repo = repositoryActivities(input);
  const subset = input.subset;

  return run.steps(async () => {
    progress.enter('find');
    // Chain points too: each is checked by composing it from its chain.
    const listed = await repo.listBackups({ ...(input.all || input.vmId === undefined ? {} : { vmId: input.vmId }), chains: true });
    const targets = input.backup !== undefined ? [pick(listed, input.backup, input.vmId)] : listed;
    if (!targets.length && input.vmId !== undefined) throw ApplicationFailure.nonRetryable(`VM ${input.vmId} has no complete backup in the repository`, ErrorTypes.invalidInput);

    progress.enter('verify');
    const backups: BackupCheck[] = [];
    for (const target of targets) {
      progress.update({ message: `checking ${target.dir} (${backups.length + 1} of ${targets.length})` });
      const checked = await repo.verifyBackup({ dir: target.dir, ...(subset ? { subset } : {}) });
      const bad = checked.files.filter((f) => !f.ok);
      const read = `${checked.files.length} file(s)${subset ? ` of slice ${subset.n}/${subset.t}` : ''}`;
      // A slice may hold none of this backup's files: nothing was read, so nothing is claimed.
      const recorded = checked.files.length > 0;
      if (recorded) {
        const summary = bad.length ? `read ${read}: ${bad.map(describeFileCheck).join('; ')}` : `read ${read}: size and SHA-256 match the manifest`;
        await repo.recordVerification({ dir: target.dir, verification: { at: new Date().toISOString(), by: 'check', ok: !bad.length, workflowId, summary } });
        if (!bad.length) recordVerified('ovirt', target.vm.id);
      }
      backups.push({ dir: target.dir, vm: target.vm, ok: !bad.length, filesRead: checked.files.length, bad, recorded });
    }
    // The repository's own check, once per run: `restic check` (reading slice n/t of the data packs
    // with a subset) finds damage no single backup's files show (an index, a pack no file of the
    // checked backups uses). A directory repository answers "none" and adds nothing to the result.
    // Patch verify-restic-check: runs started before it made no such call; it can go once none is open.
    let repository: RepositoryCheckResult | undefined;
    if (patched('verify-restic-check')) {
      progress.update({ message: `checking the repository${subset ? ` (slice ${subset.n}/${subset.t} of its data)` : ''}` });
      const checked = await repo.repositoryIntegrityCheck({ ...(subset ? { subset } : {}) });
      if (checked.kind !== 'directory') repository = { command: checked.command, ok: checked.ok, summary: checked.summary };
    }
    const ok = backups.every((b) => b.ok) && (repository?.ok ?? true);
    const result: VerifyBackupsResult = { ok, checkedAt: new Date().toISOString(), ...(subset ? { subset } : {}), backups, ...(repository ? { repository } : {}) };

    const failed = result.backups.filter((b) => !b.ok);
    if (!ok) {
      // A verdict, not a broken step: every step ran and recorded what it found. The run fails (as
      // itself, through failRun, which alerts) so that schedules, alerts and `backupctl verify` see
      // it, with the findings in the failure's details.
      const findings = failed.map((b) => `${b.dir}: ${b.bad.map(describeFileCheck).join('; ')}`);
      if (repository && !repository.ok) findings.push(describeRepositoryCheck(repository));
      const counts = `${failed.length} of ${result.backups.length} backup(s) bad${repository && !repository.ok ? '; restic check found errors in the repository' : ''}`;
      const message = `backup check failed: ${findings.join(' | ')} (${counts})`;
      throw ApplicationFailure.create({ type: ErrorTypes.verificationFailed, nonRetryable: true, message, details: [result] });
    }
    progress.update({ message: `${result.backups.length} backup(s) checked, all match${repository ? `; ${repository.command}: ${repository.summary}` : ''}` });
    progress.finish('completed');
    return result;
  });
}

export async function ovirtListBackups(rawInput: unknown): Promise<BackupSummary[]> {
  const run = openRun(
    {
      workflowType: 'ovirtListBackups',
      steps: OVIRT_LIST_BACKUPS_STEPS,
      input: ovirtListBackupsInput,
      about: (i) => `backups${i.vmId ? ` of VM ${i.vmId}` : ''} on ${i.copyTaskQueue ?? `proxy ${i.proxyVmId}`}`,
      tag: (i) => ({ provider: 'ovirt', ...(i.vmId !== undefined ? { vmId: i.vmId } : {}) }),
    },
    rawInput,
  );
  const { input, progress } = run;
  return run.steps(async () => {
    progress.enter('list');
    const backups = await repositoryActivities(input).listBackups({ ...(input.vmId !== undefined ? { vmId: input.vmId } : {}), chains: true });
    progress.update({ message: `${backups.length} backup(s)` });
    progress.finish('completed');
    return backups;
  });
}
