/** Task queue names; pure, so workflow code can import it. */
export const DEFAULT_TASK_QUEUE = 'backup-orchestrator';

/** Each proxy VM runs a copy worker on a queue of its own, so copies run where the disks are attached. */
export function copyTaskQueueFor(proxyVmId: string): string {
  return `backup-copy-${proxyVmId}`;
}

/**
 * The copy worker's second queue, for the small repository files (the VM's config, the manifest):
 * their own slots, so they never wait behind the disk copies that COPY_CONCURRENCY caps.
 */
export function repositoryFilesTaskQueueFor(copyTaskQueue: string): string {
  return `${copyTaskQueue}-files`;
}
