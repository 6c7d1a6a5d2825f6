/**
 * Following an Azure job inside one activity: the job is polled every pollMs between heartbeats,
 * and the activity returns only when the workflow has something to show or decide (the job ended,
 * its status changed, its progress crossed a step, or the slice's time is up). A job of any length
 * then costs the run's history a few activities instead of one activity and one timer per poll.
 */
import { Context } from '@temporalio/activity';
import { pollUntil } from '../poll-until';
import type { AzureClient } from './client';
import { summarizeJob, type AzureJobSummary } from './job-summary';

export interface FollowJobInput {
  endpoint: string;
  jobId: string;
  pollMs: number;
  /** The slice ends after this long even when nothing moved (the workflow checks its deadline then). */
  maxSliceMs: number;
  /** Progress worth reporting: crossing a multiple of this percentage. */
  progressStepPercent: number;
  /** The job as the previous slice left it; none for the first slice. */
  last?: AzureJobSummary;
}

export interface FollowJobSlice {
  job: AzureJobSummary;
  polls: number;
}

/**
 * Heartbeat details: a retry continues the same slice instead of starting a longer one; `live` is
 * the job as last polled, which `backupctl status` shows between the slices' progress updates.
 */
interface SliceProgress {
  startedAt: number;
  polls: number;
  live?: string;
}

/** Whether the job changed enough since `last` for the workflow to hear of it. */
export function jobMoved(last: AzureJobSummary | undefined, now: AzureJobSummary, stepPercent: number): boolean {
  if (!last || now.status !== last.status) return true;
  if (!(stepPercent > 0)) return false;
  const band = (percent?: number) => Math.floor((percent ?? 0) / stepPercent);
  return band(now.progressPercentage) !== band(last.progressPercentage);
}

export async function followJobSlice(client: AzureClient, input: FollowJobInput): Promise<FollowJobSlice> {
  const resumed = Context.current().info.heartbeatDetails as Partial<SliceProgress> | undefined;
  const slice: SliceProgress = { startedAt: resumed?.startedAt ?? Date.now(), polls: resumed?.polls ?? 0 };
  return pollUntil<FollowJobSlice>({ intervalMs: input.pollMs, details: () => slice, pollsBefore: slice.polls }, async (poll) => {
    const job = summarizeJob(await client.getJob(input.jobId));
    slice.polls = poll;
    slice.live = `${job.operation} job ${job.jobId} ${job.status}${job.progressPercentage !== undefined ? ` ${job.progressPercentage}%` : ''}`;
    if (job.terminal || jobMoved(input.last, job, input.progressStepPercent)) return { job, polls: slice.polls };
    if (Date.now() - slice.startedAt + input.pollMs >= input.maxSliceMs) return { job, polls: slice.polls };
    return undefined;
  });
}
