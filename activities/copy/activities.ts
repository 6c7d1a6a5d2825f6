/** Activities of the copy worker, which runs on the backup-proxy VM where the disks are attached. */
import { writeRepositoryFile } from './repository';
import { envBoolean } from '../../lib/temporal/connection';
import { copyDiskToRepository, type CopyDiskInput, type CopyDiskResult, type CopySettings } from './copy-disk';
import { findBackup } from './find-backup';
import { hashDevice } from './hash-device';
import { listBackups } from './list-backups';
import { recordVerification } from './record-verification';
import { repositoryPreflight } from './repository-preflight';
import { removeBackup } from './remove-backup';
import type { RepositoryActivities } from './restore-types';
import { ErrorTypes, nonRetryable, toActivityFailure } from '../../lib/errors';
import { verifyBackup } from './verify-backup';
import { writeImageToDevice } from './write-image';
import { copyDiskToRestic, writeResticFile } from './restic/restic-backup';
import { findResticBackup, recordResticVerification, resticCheck, verifyResticBackup, writeResticImageToDevice, type IntegrityCheck } from './restic/restic-repository';
import { forgetResticBackup, pruneResticRepository } from './restic/restic-prune';
import { listResticBackupSummaries } from './restic/restic-incremental';
import { forgetCheckpoints, pendingCheckpoints, type PendingCheckpoints } from './chain-checkpoints';
import { chainHead, composeChainImage, copyImageTransfer, type CopyImageTransferInput } from './incremental-chain';

/** The repository side of restores, drills and checks (restore-types.ts says what each does), for the worker's repository kind. */
export function createRepositoryActivities(settings: CopySettings): RepositoryActivities {
  const restic = settings.restic;
  if (restic) {
    return {
      findBackup: (input) => findResticBackup(restic, input),
      writeImageToDevice: (input) => writeResticImageToDevice(settings, restic, input),
      hashDevice: (input) => hashDevice(settings, input),
      verifyBackup: (input) => verifyResticBackup(restic, input),
      recordVerification: (input) => recordResticVerification(restic, input),
      listBackups: (input) => listResticBackupSummaries(restic, input),
      removeBackup: (input) => forgetResticBackup(restic, input),
      pruneRepository: () => pruneResticRepository(restic),
    };
  }
  return {
    findBackup: (input) => findBackup(settings, input),
    writeImageToDevice: (input) => writeImageToDevice(settings, input),
    hashDevice: (input) => hashDevice(settings, input),
    verifyBackup: (input) => verifyBackup(settings, input),
    recordVerification: (input) => recordVerification(settings, input),
    listBackups: (input) => listBackups(settings, input),
    removeBackup: (input) => removeBackup(settings, input),
    pruneRepository: async () => ({ kind: 'directory', command: 'none', summary: "a directory repository's space is freed as each backup's folder is removed" }),
  };
}

/**
 * The repository activities that only read or write small files (a manifest, an OVF): the copy
 * worker serves them on its files queue too, where they do not wait behind disk copies.
 */
export const REPOSITORY_FILE_ACTIVITIES = [
  'findBackup',
  'recordVerification',
  'listBackups',
  'repositoryPreflight',
  'removeBackup',
  'incrementalChainHead',
  'pendingChainCheckpoints',
  'forgetChainCheckpoints',
] as const satisfies ReadonlyArray<keyof CopyActivities>;

export function createCopyActivities(settings: CopySettings) {
  const restic = settings.restic;
  return {
    /** Where the copy lands is the worker's setting (BACKUP_REPOSITORY_KIND): the workflow calls the same activity either way. */
    async copyDisk(input: CopyDiskInput): Promise<CopyDiskResult> {
      return restic ? copyDiskToRestic(settings, restic, input) : copyDiskToRepository(settings, input);
    },
    async writeBackupFile(input: { dir: string; fileName: string; content: string; vmId?: string }): Promise<{ path: string; bytes: number; sha256: string; resticSnapshotId?: string }> {
      return restic ? writeResticFile(restic, input) : writeRepositoryFile(settings.repositoryRoot, input.dir, input.fileName, input.content);
    },
    /** Before a backup's snapshot: the repository exists, opens and can take the backup (repository-preflight.ts). */
    async repositoryPreflight() {
      return repositoryPreflight(settings);
    },
    /** `restic check [--read-data-subset=n/t]` of a restic repository; a directory repository has nothing beyond verifyBackup. */
    async repositoryIntegrityCheck(input: { subset?: { n: number; t: number } }): Promise<IntegrityCheck> {
      if (!restic) return { ok: true, command: 'none', summary: 'a directory repository is checked by re-reading its backups (verifyBackup)' };
      return resticCheck(restic, input);
    },
    /** oVirt incremental backups: the VM's chain head in the repository (none: the next backup is a full). */
    // These talk to imageio: its VendorErrors say whether a retry can help (toActivityFailure).
    async incrementalChainHead(input: { vmId: string }) {
      return chainHead(settings, input).catch(rethrowMapped);
    },
    /** One image transfer's data ranges into the repository (incremental-chain.ts). */
    async copyImageTransfer(input: CopyImageTransferInput) {
      return copyImageTransfer(settings, input).catch(rethrowMapped);
    },
    /**
     * Retention: the engine checkpoints of removed chain points not removed from the engine yet
     * (chain-checkpoints.ts). A restic repository holds no chains here: none.
     */
    async pendingChainCheckpoints(input: { vmId?: string }): Promise<PendingCheckpoints[]> {
      return restic ? [] : pendingCheckpoints(settings.repositoryRoot, input);
    },
    /** Retention: drops checkpoints from the VM's record once the engine no longer has them (or a kept point needs them). */
    async forgetChainCheckpoints(input: { vmId: string; checkpointIds: string[] }): Promise<{ forgotten: string[]; left: number }> {
      return restic ? { forgotten: [], left: 0 } : forgetCheckpoints(settings.repositoryRoot, input);
    },
    /** A disk as it was at a backup of the chain, composed into a file or device path on this worker. */
    async composeChainImage(input: { dir: string; diskId: string; targetPath: string }) {
      return composeChainImage(settings, input).catch(rethrowMapped);
    },
    ...createRepositoryActivities(settings),
  };
}

export type CopyActivities = ReturnType<typeof createCopyActivities>;

function rethrowMapped(err: unknown): never {
  throw toActivityFailure(err);
}

export function copySettingsFromEnv(env: NodeJS.ProcessEnv = process.env): CopySettings {
  return {
    repositoryRoot: env.BACKUP_REPOSITORY_DIR ?? '.data/repository',
    deviceByIdDir: env.COPY_DEVICE_BY_ID_DIR ?? '/dev/disk/by-id',
    deviceDir: env.COPY_DEVICE_DIR ?? '/dev',
    chunkBytes: Number(env.COPY_CHUNK_BYTES ?? 8 * 1024 * 1024),
    maxBytesPerSecond: Number(env.COPY_MAX_BYTES_PER_SECOND ?? 0),
    ...(env.COPY_DIRECT_WRITES !== undefined ? { directWrites: envBoolean.parse(env.COPY_DIRECT_WRITES) } : {}),
    ...(env.COPY_HASH_THREAD_MIN_BYTES !== undefined ? { hashThreadMinBytes: byteCount('COPY_HASH_THREAD_MIN_BYTES', env.COPY_HASH_THREAD_MIN_BYTES) } : {}),
    ...(env.IMAGEIO_CA_FILE ? { imageioCaFile: env.IMAGEIO_CA_FILE } : {}),
    ...resticSettingsFromEnv(env),
  };
}

function byteCount(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new Error(`${name}=${value}: give a number of bytes (0 or more)`);
  return n;
}

/** BACKUP_REPOSITORY_KIND=restic: RESTIC_REPOSITORY, and the password from RESTIC_PASSWORD or RESTIC_PASSWORD_FILE (this worker's environment only). */
export function resticSettingsFromEnv(env: NodeJS.ProcessEnv): Pick<CopySettings, 'restic'> {
  const kind = env.BACKUP_REPOSITORY_KIND ?? 'directory';
  if (kind === 'directory') return {};
  if (kind !== 'restic') throw new Error(`BACKUP_REPOSITORY_KIND=${kind}: use directory or restic`);
  if (!env.RESTIC_REPOSITORY) throw new Error('BACKUP_REPOSITORY_KIND=restic needs RESTIC_REPOSITORY (a path or a restic repository URL)');
  return {
    restic: {
      repository: env.RESTIC_REPOSITORY,
      ...(env.RESTIC_PASSWORD !== undefined ? { password: env.RESTIC_PASSWORD } : env.RESTIC_PASSWORD_FILE !== undefined ? { passwordFile: env.RESTIC_PASSWORD_FILE } : {}),
      ...(env.RESTIC_PATH ? { binary: env.RESTIC_PATH } : {}),
    },
  };
}
