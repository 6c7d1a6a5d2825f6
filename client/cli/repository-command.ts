/**
 * `backupctl verify …`, `backupctl backups ovirt …` and `backupctl prune …`: the repository on a
 * proxy's copy worker, checked (verifyBackups), listed (ovirtListBackups) and pruned (pruneBackups).
 */
import type { BackupSummary, Verification } from '../../activities/copy/restore-types';
import { describeFileCheck, type VerifyBackupsResult } from '../../contracts/repository/results';
import type { BackupClient } from '../backup-client';
import { InvalidInputError, RunFailedError } from '../errors';
import { formatBytes, table } from './format';
import { readLocalStack } from '../../lib/config/local-stack';
import { describeKeepRules, KEEP_RULES, type KeepRuleName } from '../../contracts/retention/keep-rules';
import type { PruneBackupsResult } from '../../contracts/retention/results';

export const REPOSITORY_USAGE = `  backupctl verify <backup>|--vm ID|--all [--proxy ID] [--subset N/T]   re-read stored backups, compare with their manifests
      <backup>: a repository folder, the workflow id of a backup run, or latest (with --vm); --subset 2/7: the 2nd of 7 slices
  backupctl backups ovirt [--proxy ID] [--vm ID]   the repository's oVirt backups: size, age, verification
  backupctl prune --vm ID|--all [--proxy ID] [--dry-run] [--keep-last N] [--keep-hourly N] [--keep-daily N] [--keep-weekly N]
      [--keep-monthly N] [--keep-yearly N] [--time-zone ZONE]   retention: what goes and why (restic forget's rules; the newest good
      and newest verified backup of a VM, and one whose run is open, are always kept)`;

export type RepositoryValues = { json: boolean; vm?: string; all?: boolean; subset?: string; proxy?: string; 'proxy-vm'?: string; 'copy-task-queue'?: string };

/** The --keep-* flags, by the rule each sets. */
export const KEEP_FLAGS = {
  keepLast: 'keep-last',
  keepHourly: 'keep-hourly',
  keepDaily: 'keep-daily',
  keepWeekly: 'keep-weekly',
  keepMonthly: 'keep-monthly',
  keepYearly: 'keep-yearly',
} as const satisfies Record<KeepRuleName, string>;

export type PruneValues = RepositoryValues & { 'dry-run'?: boolean; 'time-zone'?: string } & { [F in (typeof KEEP_FLAGS)[KeepRuleName]]?: string };

function copyWorkerOf(values: RepositoryValues, command: string, env: NodeJS.ProcessEnv): Record<string, string> {
  if (values['copy-task-queue']) return { copyTaskQueue: values['copy-task-queue'] };
  // --proxy-vm as well: the name `backup ovirt` gives the same VM.
  const proxy = values.proxy ?? values['proxy-vm'];
  if (proxy) return { proxyVmId: proxy };
  // On a checkout where `npm start` runs one copy worker, that proxy's repository is the one meant.
  const local = readLocalStack(env)?.proxyVmIds ?? [];
  if (local.length === 1) return { proxyVmId: local[0]! };
  throw new InvalidInputError(['--proxy is required: the proxy VM whose copy worker holds the repository (or --copy-task-queue)'], command);
}

/** The verifyBackups input for `verify [<backup>] [--vm ID] [--all] [--subset N/T]` (the schema names what is wrong with it). */
export function verifyInput(backup: string | undefined, values: RepositoryValues, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  return {
    ...copyWorkerOf(values, 'verify', env),
    ...(backup !== undefined ? { backup } : {}),
    ...(values.vm !== undefined ? { vmId: values.vm } : {}),
    ...(values.all ? { all: true } : {}),
    ...(values.subset !== undefined ? { subset: values.subset } : {}),
  };
}

/** The pruneBackups input for `prune --vm ID|--all [--dry-run] [--keep-* N] [--time-zone ZONE]` (the schema names what is wrong with it). */
export function pruneInput(values: PruneValues, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const rules: Record<string, number> = {};
  for (const rule of KEEP_RULES) {
    const text = values[KEEP_FLAGS[rule]];
    if (text === undefined) continue;
    if (!/^\d+$/.test(text)) throw new InvalidInputError([`--${KEEP_FLAGS[rule]} must be a whole number, not "${text}"`], 'prune');
    rules[rule] = Number(text);
  }
  return {
    ...copyWorkerOf(values, 'prune', env),
    ...(values.vm !== undefined ? { vmId: values.vm } : {}),
    ...(values.all ? { all: true } : {}),
    ...rules,
    ...(values['time-zone'] !== undefined ? { timeZone: values['time-zone'] } : {}),
    ...(values['dry-run'] ? { dryRun: true } : {}),
  };
}

/** One line per backup, newest first: kept and why, or removed (would be, in a dry run); then a summary (and what `restic prune` freed). */
export function pruneLines(result: PruneBackupsResult): string {
  const rows = [
    ...result.kept.map((k) => ({ time: k.time, line: ['keep', k.id, k.time, k.reasons.join(', ')] })),
    ...result.removed.map((r) => ({ time: r.time, line: [result.dryRun ? 'would remove' : 'removed', r.id, r.time, ''] })),
  ].sort((a, b) => b.time.localeCompare(a.time));
  const gone = `${result.removed.length} ${result.dryRun ? 'would be removed (dry run: nothing was)' : 'removed'}`;
  const freed = result.repository?.kind === 'restic' ? `\n${result.repository.command}: ${result.repository.summary}` : '';
  const checkpoints = (result.checkpoints ?? [])
    .map((c) => `\nVM ${c.vmId}: engine checkpoints removed ${c.removed.length ? c.removed.join(', ') : 'none'}${c.left.length ? `; left (not the root): ${c.left.join(', ')}` : ''}`)
    .join('');
  const summary = `${describeKeepRules(result.rules)} (${result.timeZone}): ${result.kept.length} kept, ${gone}${checkpoints}${freed}`;
  return rows.length ? `${table([['', 'BACKUP', 'TIME', 'KEPT BECAUSE'], ...rows.map((r) => r.line)])}\n${summary}` : `no backups\n${summary}`;
}

/** One line per checked backup, then one for a restic repository's own check (`restic check`: clean, or its errors). */
export function verifyLines(result: VerifyBackupsResult): string {
  const lines = result.backups.map((b) => {
    const what = b.ok ? `${b.filesRead} file(s) match` : b.bad.map(describeFileCheck).join('; ');
    return `${b.ok ? 'ok    ' : 'FAILED'}  ${b.dir}  ${b.filesRead ? what : 'no file in this slice'}`;
  });
  if (!lines.length) lines.push('no backups to check');
  const repository = result.repository;
  if (repository) lines.push(`${repository.ok ? 'ok    ' : 'FAILED'}  ${repository.command}  ${repository.summary}`);
  return lines.join('\n');
}

export function formatAge(from: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - new Date(from).getTime()) / 1000));
  if (seconds < 90) return `${seconds}s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)}m`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

function verificationState(v: Verification | undefined, now: number): string {
  if (!v) return 'never verified';
  return `${v.ok ? 'ok' : 'FAILED'} by ${v.by}, ${formatAge(v.at, now)} ago`;
}

export function repositoryBackupsTable(backups: BackupSummary[], now = Date.now()): string {
  if (!backups.length) return 'no backups';
  // Incremental chains' points add their mode (full, incremental) and the parent each builds on.
  const chains = backups.some((b) => b.kind === 'incremental');
  const row = (b: BackupSummary) => [b.dir, b.vm.name, b.completedAt, formatAge(b.completedAt, now), formatBytes(b.bytes), String(b.disks), verificationState(b.lastVerification, now)];
  if (chains) {
    return table([
      ['FOLDER', 'VM', 'COMPLETED', 'AGE', 'SIZE', 'DISKS', 'VERIFIED', 'MODE', 'PARENT'],
      ...backups.map((b) => [...row(b), b.kind === 'incremental' ? (b.mode ?? 'full') : 'snapshot', b.parent ?? '']),
    ]);
  }
  return table([['FOLDER', 'VM', 'COMPLETED', 'AGE', 'SIZE', 'DISKS', 'VERIFIED'], ...backups.map(row)]);
}

export async function runVerifyCommand(client: BackupClient, backup: string | undefined, values: RepositoryValues): Promise<number> {
  const input = verifyInput(backup, values);
  let result: VerifyBackupsResult;
  try {
    result = (await client.execute('verifyBackups', input)) as VerifyBackupsResult;
  } catch (err) {
    // A failed check carries its findings: the lines first, then the one-line reason on stderr.
    const findings = err instanceof RunFailedError && Array.isArray(err.details) ? (err.details[0] as VerifyBackupsResult | undefined) : undefined;
    if (!findings?.backups) throw err;
    if (values.json) process.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
    else console.log(verifyLines(findings));
    console.error(`backupctl: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else console.log(verifyLines(result));
  return 0;
}

export async function runRepositoryBackups(client: BackupClient, values: RepositoryValues): Promise<number> {
  const backups = (await client.execute('ovirtListBackups', { ...copyWorkerOf(values, 'backups ovirt', process.env), ...(values.vm !== undefined ? { vmId: values.vm } : {}) })) as BackupSummary[];
  if (values.json) process.stdout.write(`${JSON.stringify(backups, null, 2)}\n`);
  else console.log(repositoryBackupsTable(backups));
  return 0;
}

export async function runPruneCommand(client: BackupClient, values: PruneValues): Promise<number> {
  const result = (await client.execute('pruneBackups', pruneInput(values))) as PruneBackupsResult;
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else console.log(pruneLines(result));
  return 0;
}
