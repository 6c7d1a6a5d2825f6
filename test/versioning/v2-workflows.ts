/**
 * "v2" of the workflows for test/versioning/worker-versioning.test.ts: every real workflow, but
 * ovirtSnapshotBackup gains a step before its copy (a one-second settle timer before the first
 * copyDisk), which a v1 history cannot replay: a run started on v1 and moved to this code would
 * fail with a non-determinism error. Bundled as the workflows and as the interceptor module.
 */
import { sleep, workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

export * from '../../workflows/index';

export const interceptors: WorkflowInterceptorsFactory = () => {
  let settled = false;
  return {
    outbound: [
      {
        async scheduleActivity(input, next) {
          if (!settled && input.activityType === 'copyDisk' && workflowInfo().workflowType === 'ovirtSnapshotBackup') {
            settled = true;
            await sleep('1 second');
          }
          return next(input);
        },
      },
    ],
  };
};
