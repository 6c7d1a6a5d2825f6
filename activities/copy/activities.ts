/** Activities of the copy worker, which runs on the backup-proxy VM where the disks are attached. */
import { writeRepositoryFile } from './repository';
import { copyDiskToRepository, type CopyDiskInput, type CopySettings } from './copy-disk';

export function createCopyActivities(settings: CopySettings) {
  return {
    async copyDisk(input: CopyDiskInput) {
      return copyDiskToRepository(settings, input);
    },
    async writeBackupFile(input: { dir: string; fileName: string; content: string }) {
      return writeRepositoryFile(settings.repositoryRoot, input.dir, input.fileName, input.content);
    },
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
