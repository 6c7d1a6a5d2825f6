/** The repository activities of a proxy's copy worker, as the repository's workflows call them. */
import { proxyActivities } from '@temporalio/workflow';
import type { CopyActivities } from '../../activities/copy/activities';
import type { RepositoryActivities } from '../../activities/copy/restore-types';
import { copyTaskQueueFor, repositoryFilesTaskQueueFor } from '../../lib/temporal/task-queues';
import { quickCall, waitUpTo } from './activity-options';
import { vendorRetry } from './retry-policies';

export function repositoryActivities(input: { proxyVmId?: string; copyTaskQueue?: string }) {
  const taskQueue = input.copyTaskQueue ?? copyTaskQueueFor(input.proxyVmId!);
  // The copy worker may be busy a while before it takes the task; reading is worth more attempts.
  const common = { scheduleToStartTimeout: '10 minutes', retry: { ...vendorRetry, maximumAttempts: 10 } } as const;
  // Manifests on the files queue, where they do not wait behind disk copies; re-reading images on the copy queue, in its slots.
  const files = proxyActivities<RepositoryActivities>({ ...quickCall, ...common, taskQueue: repositoryFilesTaskQueueFor(taskQueue) });
  const chains = proxyActivities<Pick<CopyActivities, 'pendingChainCheckpoints' | 'forgetChainCheckpoints'>>({ ...quickCall, ...common, taskQueue: repositoryFilesTaskQueueFor(taskQueue) });
  const reads = proxyActivities<RepositoryActivities>({ ...waitUpTo(12 * 60 * 60_000, { heartbeatTimeout: '30 seconds' }), ...common, taskQueue });
  // `restic prune` reads the whole index and may rewrite packs: a long call, on the copy queue too.
  return {
    listBackups: files.listBackups,
    recordVerification: files.recordVerification,
    removeBackup: files.removeBackup,
    verifyBackup: reads.verifyBackup,
    pruneRepository: reads.pruneRepository,
    // Retention of incremental chains: the engine checkpoints removed points left (activities/copy/chain-checkpoints.ts).
    pendingChainCheckpoints: chains.pendingChainCheckpoints,
    forgetChainCheckpoints: chains.forgetChainCheckpoints,
  };
}
