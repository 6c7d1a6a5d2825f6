/**
 * `backupctl verify …` and `backupctl backups ovirt …`: the repository on a proxy's copy worker,
 * checked (verifyBackups) and listed (ovirtListBackups).
 */
import type { BackupSummary, Verification } from '../../activities/copy/restore-types';
import { describeFileCheck, type VerifyBackupsResult } from '../../contracts/repository/results';
import type { BackupClient } from '../backup-client';
import { InvalidInputError, RunFailedError } from '../errors';
import { formatBytes, table } from './format';
import { readLocalStack } from '../../lib/config/local-stack';

export const REPOSITORY_USAGE = `  backupctl verify <backup>|--vm ID|--all [--proxy ID] [--subset N/T]   re-read stored backups, compare with their manifests
      <backup>: a repository folder, the workflow id of a backup run, or latest (with --vm); --subset 2/7: the 2nd of 7 slices
  backupctl backups ovirt [--proxy ID] [--vm ID]   the repository's oVirt backups: size, age, verification`;

export type RepositoryValues = { json: boolean; vm?: string; all?: boolean; subset?: string; proxy?: string; 'proxy-vm'?: string; 'copy-task-queue'?: string };

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

/** One line per checked backup. */
export function verifyLines(result: VerifyBackupsResult): string {
  if (!result.backups.length) return 'no backups to check';
  return result.backups
    .map((b) => {
      const what = b.ok ? `${b.filesRead} file(s) match` : b.bad.map(describeFileCheck).join('; ');
      return `${b.ok ? 'ok    ' : 'FAILED'}  ${b.dir}  ${b.filesRead ? what : 'no file in this slice'}`;
    })
    .join('\n');
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
  return table([
    ['FOLDER', 'VM', 'COMPLETED', 'AGE', 'SIZE', 'DISKS', 'VERIFIED'],
    ...backups.map((b) => [b.dir, b.vm.name, b.completedAt, formatAge(b.completedAt, now), formatBytes(b.bytes), String(b.disks), verificationState(b.lastVerification, now)]),
  ]);
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
