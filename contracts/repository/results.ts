/** What a repository check returns (and, when it fails, carries in its failure's details). */
import type { FileCheck } from '../../activities/copy/restore-types';

export interface BackupCheck {
  dir: string;
  vm: { id: string; name: string };
  ok: boolean;
  /** Files read by this check (all of the backup's, or those of the subset's slice). */
  filesRead: number;
  /** The files that did not match the manifest. */
  bad: FileCheck[];
  /** Whether the verdict was written into the backup's manifest (not when the subset held none of its files). */
  recorded: boolean;
}

export interface VerifyBackupsResult {
  /** Every backup matched and, in a restic repository, `restic check` found no errors. */
  ok: boolean;
  checkedAt: string;
  subset?: { n: number; t: number };
  backups: BackupCheck[];
  /** A restic repository's own check, once per run (`restic check [--read-data-subset=n/t]`); absent for a directory repository. */
  repository?: RepositoryCheckResult;
}

export interface RepositoryCheckResult {
  command: string;
  ok: boolean;
  /** restic's verdict, or the errors it reported, in one line. */
  summary: string;
}

/** The repository check's finding, in a line. */
export function describeRepositoryCheck(c: RepositoryCheckResult): string {
  return `${c.command}: ${c.summary}`;
}

/** One file's finding, in a line: what is wrong with it, or that it matches. */
export function describeFileCheck(c: FileCheck): string {
  if (c.problem) return `${c.file}: ${c.problem}`;
  if (c.missing) return `${c.file} is missing`;
  if (c.bytes !== c.expectedBytes) return `${c.file} is ${c.bytes} bytes, the manifest says ${c.expectedBytes}`;
  if (c.sha256 !== c.expectedSha256) return `${c.file} has sha256 ${c.sha256}, the manifest says ${c.expectedSha256}`;
  return `${c.file} matches`;
}
