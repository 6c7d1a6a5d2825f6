/**
 * The Temporal limit for the throughput benchmark: a trivial workflow that runs the same number of
 * no-op activities as a backup, on the same queues (main, copy, the copy worker's files queue), in
 * the same order.
 */
import { proxyActivities } from '@temporalio/workflow';

export interface NoopActivities {
  noop(): Promise<void>;
}

export interface NoopWorkflowInput {
  /** 'm' = an activity on the workflow's own queue, 'c' = one on copyQueue, 'f' = one on filesQueue. */
  sequence: string;
  copyQueue: string;
  filesQueue?: string;
}

const main = proxyActivities<NoopActivities>({ startToCloseTimeout: '2 minutes' });

export async function benchNoopWorkflow(input: NoopWorkflowInput): Promise<number> {
  const copy = proxyActivities<NoopActivities>({ startToCloseTimeout: '2 minutes', taskQueue: input.copyQueue });
  const files = proxyActivities<NoopActivities>({ startToCloseTimeout: '2 minutes', taskQueue: input.filesQueue ?? input.copyQueue });
  let n = 0;
  for (const kind of input.sequence) {
    await (kind === 'c' ? copy : kind === 'f' ? files : main).noop();
    n++;
  }
  return n;
}
