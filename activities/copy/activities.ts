/** Activities of the copy worker, which runs on the backup-proxy VM where the disks are attached. */
import { writeRepositoryFile } from './repository';
import { copyDiskToRepository, type CopyDiskInput, type CopySettings } from './copy-disk';
import { findBackup } from './find-backup';
import { hashDevice } from './hash-device';
import { listBackups } from './list-backups';
import { recordVerification } from './record-verification';
import { removeBackup } from './remove-backup';
import type { RepositoryActivities } from './restore-types';
import { verifyBackup } from './verify-backup';
import { writeImageToDevice } from './write-image';

/** The repository side of restores, drills and checks (restore-types.ts says what each does). */
export function createRepositoryActivities(settings: CopySettings): RepositoryActivities {
  return {
    findBackup: (input) => findBackup(settings, input),
    writeImageToDevice: (input) => writeImageToDevice(settings, input),
    hashDevice: (input) => hashDevice(settings, input),
    verifyBackup: (input) => verifyBackup(settings, input),
    recordVerification: (input) => recordVerification(settings, input),
    listBackups: (input) => listBackups(settings, input),
    removeBackup: (input) => removeBackup(settings, input),
  };
}

/**
 * The repository activities that only read or write small files (a manifest, an OVF): the copy
 * worker serves them on its files queue too, where they do not wait behind disk copies.
 */
export const REPOSITORY_FILE_ACTIVITIES = ['findBackup', 'recordVerification', 'listBackups', 'removeBackup'] as const satisfies ReadonlyArray<keyof RepositoryActivities>;

export function createCopyActivities(settings: CopySettings) {
  return {
    async copyDisk(input: CopyDiskInput) {
      return copyDiskToRepository(settings, input);
    },
    async writeBackupFile(input: { dir: string; fileName: string; content: string }) {
      return writeRepositoryFile(settings.repositoryRoot, input.dir, input.fileName, input.content);
    },
    ...createRepositoryActivities(settings),
  };
}

export type CopyActivities = ReturnType<typeof createCopyActivities>;

export function copySettingsFromEnv(env: NodeJS.ProcessEnv = process.env): CopySettings {
  return {
    repositoryRoot: env.BACKUP_REPOSITORY_DIR ?? '.data/repository',
    deviceByIdDir: env.COPY_DEVICE_BY_ID_DIR ?? '/dev/disk/by-id',
    deviceDir: env.COPY_DEVICE_DIR ?? '/dev',
    chunkBytes: Number(env.COPY_CHUNK_BYTES ?? 8 * 1024 * 1024),
    maxBytesPerSecond: Number(env.COPY_MAX_BYTES_PER_SECOND ?? 0),
  };
}
