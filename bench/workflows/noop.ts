/**
 * The Temporal limit for the throughput benchmark: a trivial workflow that runs the same number of
 * no-op activities as a backup, on the same two queues (main and copy), in the same order.
 */
import { proxyActivities } from '@temporalio/workflow';

export interface NoopActivities {
  noop(): Promise<void>;
}

export interface NoopWorkflowInput {
  /** 'm' = an activity on the workflow's own queue, 'c' = one on copyQueue. */
  sequence: string;
  copyQueue: string;
}

const main = proxyActivities<NoopActivities>({ startToCloseTimeout: '2 minutes' });

export async function benchNoopWorkflow(input: NoopWorkflowInput): Promise<number> {
  const copy = proxyActivities<NoopActivities>({ startToCloseTimeout: '2 minutes', taskQueue: input.copyQueue });
  let n = 0;
  for (const kind of input.sequence) {
    await (kind === 'c' ? copy : main).noop();
    n++;
  }
  return n;
}
