/**
 * The repository side of restores, drills and checks, on the proxy VM's copy worker. Declared apart
 * from the implementation so that workflows can be written against it (types only).
 */

/** How a restore names its backup: a repository folder, the workflow id of the backup run, or `latest` (with vmId). */
export interface BackupRef {
  backup: string;
  /** Needed for `latest`: the VM whose newest good backup is meant. */
  vmId?: string;
  /** Only the disks are restored: a backup without the VM's OVF (an incremental made before it was saved) will do. */
  disksOnly?: boolean;
}

/** What a restore reads of a manifest, whichever procedure made the backup. */
export interface RestorableManifest {
  workflowId: string;
  runId: string;
  vm: { id: string; name: string };
  completedAt: string;
  disks: Array<{ id: string; name?: string; format?: string; provisionedSize?: number }>;
  verifications?: Verification[];
}

export interface Verification {
  at: string;
  by: 'drill' | 'check' | 'restore';
  ok: boolean;
  workflowId: string;
  /** One line: what was read and what was found. */
  summary: string;
}

export interface FoundBackup {
  dir: string;
  manifest: RestorableManifest;
  /** An incremental chain's point: each image is its disk composed from the chain's full and deltas up to here (`links`, oldest first). */
  chain?: { mode: 'full' | 'incremental'; parent?: string; links: string[] };
  /** The backed-up VM configuration (the OVF), for POST /vms. */
  ovf: string;
  /** Every image the manifest names, checked present with its recorded size. */
  images: Array<{ diskId: string; fileName: string; bytes: number; sha256: string; format?: string; provisionedSize?: number; name?: string }>;
  verifications: Verification[];
}

export interface BackupSummary {
  dir: string;
  provider: 'ovirt';
  vm: { id: string; name: string };
  workflowId: string;
  /** The run that made it: retention keeps a backup whose run is still open. */
  runId: string;
  completedAt: string;
  bytes: number;
  disks: number;
  lastVerification?: Verification;
  /** Which procedure made it: the snapshot procedure (absent, or `snapshot`) or the engine's backup API (`incremental`, a point of a chain). */
  kind?: 'snapshot' | 'incremental';
  /** A chain point: full or incremental, and its parent (the folder it depends on). */
  mode?: 'full' | 'incremental';
  parent?: string;
  /** A chain point: the endpoint profile that made it and the engine checkpoint it ends at (retention removes it with the point). */
  endpoint?: string;
  checkpointId?: string;
}

export interface FileCheck {
  file: string;
  expectedBytes: number;
  bytes: number;
  expectedSha256: string;
  sha256: string;
  ok: boolean;
  /** The file is not there (bytes 0, sha256 empty). */
  missing?: boolean;
  /** What else is wrong, in one line (a chain point whose earlier link is gone). */
  problem?: string;
}

export interface RepositoryActivities {
  /**
   * Finds the backup and checks it before a restore: the manifest exists, every image is present
   * with its recorded size, the OVF is there. Non-retryable ErrorTypes.invalidInput naming what is
   * missing, truncated or unknown (a backup that does not exist, a VM without good backups).
   */
  findBackup(input: BackupRef): Promise<FoundBackup>;
  /**
   * Writes one image from the repository onto the device of a disk attached to this proxy,
   * SHA-256 while writing, compared with `expectedSha256` at the end (ErrorTypes.hashMismatch,
   * non-retryable, naming the file and both hashes). Heartbeats the durable offset; a retried
   * attempt resumes there and re-hashes what it keeps.
   */
  writeImageToDevice(input: { dir: string; fileName: string; diskId: string; logicalName?: string; expectedBytes: number; expectedSha256: string }): Promise<{
    device: string;
    bytes: number;
    sha256: string;
    resumedFromOffset: number;
    attempt: number;
  }>;
  /** Reads a device attached to this proxy to its end (or expectedBytes) and returns its SHA-256, heartbeating. */
  hashDevice(input: { diskId: string; logicalName?: string; expectedBytes: number }): Promise<{ device: string; bytes: number; sha256: string }>;
  /**
   * Re-reads a backup's stored files (images, OVF) and compares them with its manifest. With
   * `subset` {n, t} only the files of the n-th of t slices (stable by file, 1-based) are read.
   */
  verifyBackup(input: { dir: string; subset?: { n: number; t: number } }): Promise<{ dir: string; files: FileCheck[]; ok: boolean }>;
  /** Appends a verification record to the backup's manifest (atomically); returns the new list. */
  recordVerification(input: { dir: string; verification: Verification }): Promise<Verification[]>;
  /**
   * The repository's backups, newest first (optionally of one VM), with size, age and last
   * verification; with `chains` the points of incremental chains too (kind, mode, parent). Callers
   * that do not know chains leave it out, so that they never remove a point another one needs.
   */
  listBackups(input: { vmId?: string; chains?: boolean }): Promise<BackupSummary[]>;
  /**
   * Removes a backup's folder (retention): manifest.json first, made durable, then the rest, so a
   * crash in between leaves an unfinished run, not a backup. `removed` false when it was gone already.
   * In a restic repository: `restic forget` of the backup's snapshots (`snapshots`), the manifest's
   * first; the space comes back with pruneRepository (`pruneAfter`, even when an earlier attempt
   * did the forget and this one found nothing left).
   */
  removeBackup(input: { dir: string }): Promise<{ dir: string; removed: boolean; snapshots?: string[]; pruneAfter?: boolean }>;
  /**
   * Frees what removed backups leave behind, once after a prune run's removals when one of them
   * says `pruneAfter`: `restic prune` in a restic repository (heartbeating; a live lock is a retryable error, a stale one is removed first);
   * nothing in a directory repository, whose folders are gone whole.
   */
  pruneRepository(input: Record<string, never>): Promise<RepositoryPrune>;
  /**
   * The repository's own integrity check, once per verification run (verifyBackups): `restic
   * check`, with `--read-data-subset=n/t` when a subset is given, in a restic repository
   * (heartbeating; a stale lock is removed first, a live one is a retryable error). Errors restic
   * finds are a verdict (`ok` false, its error lines in `summary`), not a failure; a repository that
   * cannot be opened is a failure, as everywhere. A directory repository has nothing beyond
   * verifyBackup: kind `directory`, command `none`.
   */
  repositoryIntegrityCheck(input: { subset?: { n: number; t: number } }): Promise<RepositoryCheck>;
}

/** What repositoryIntegrityCheck found. */
export interface RepositoryCheck {
  kind: 'directory' | 'restic';
  ok: boolean;
  /** `restic check` or `restic check --read-data-subset=n/t`, or none. */
  command: string;
  /** One line: restic's verdict ("no errors were found"), or the errors it reported. */
  summary: string;
}

/** What pruneRepository did. */
export interface RepositoryPrune {
  kind: 'directory' | 'restic';
  /** `restic prune`, or none. */
  command: string;
  /** One line: what was freed and what remains. */
  summary: string;
}
