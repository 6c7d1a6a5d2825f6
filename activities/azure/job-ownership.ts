/**
 * Which Azure job is this run's own. Azure tags no job with who asked for it, and the vault's
 * policy schedule (or an admin) starts jobs of the same kind on the same VM. A run therefore knows
 * its job by the operation its own request started (the operation status names the job) or, after
 * a lost reply, by a start time after the run's trigger began, excluding every job it saw running
 * before it asked. A job someone else started is waited for, never adopted and never cancelled.
 */
import { CancelledFailure, Context, heartbeat } from '@temporalio/activity';
import type { HttpRequest } from '../../lib/http/http-client';
import { VendorError } from '../../lib/errors';
import { failAfterLateCreateGrace } from '../late-create';
import { pollUntil } from '../poll-until';
import type { AcceptedOperation, AsyncOutcome, AzureClient, FollowOperation } from './client';
import { followOperation } from './follow-operation';
import type { AzureJob } from './schemas';
import { terminalJobStatuses } from './schemas';

/**
 * What a trigger knows about its job; its heartbeat details (a retry goes on from them) and, when
 * the run is cancelled mid-trigger, the details of its cancellation (the undo reads them).
 */
export interface TriggerKnowledge {
  /** When the run's trigger step began: a job started earlier is never the run's. */
  since: string;
  /** Jobs of the VM and kind that were running before the run asked: never the run's. */
  foreign: string[];
  /** The operation the run's own request started, once Azure accepted it. */
  accepted?: AcceptedOperation;
}

/** How long a trigger waits for a job of the VM that someone else started before it gives up. */
export const OTHERS_JOB_WAIT_MS = 20 * 60_000;

const running = (job: AzureJob) => !terminalJobStatuses.includes(job.properties.status);
const startedAt = (job: AzureJob) => Date.parse(job.properties.startTime);

function jobIdOf(outcome: AsyncOutcome): string | undefined {
  const props = outcome.operation?.properties;
  return props && props.objectType === 'OperationStatusJobExtendedInfo' ? props.jobId : undefined;
}

/** The earliest job of the VM and kind started since the trigger began that is not someone else's. */
export async function ownJobSince(client: AzureClient, vmName: string, operation: string, known: Pick<TriggerKnowledge, 'since' | 'foreign'>): Promise<AzureJob | undefined> {
  const since = Date.parse(known.since);
  const mine = (await client.findJobs(vmName, operation)).filter((j) => startedAt(j) >= since && !known.foreign.includes(j.name));
  return mine[mine.length - 1];
}

/**
 * Follows the operation a cut-off trigger had started to the job it names (or, when the service
 * names none, the run's job by start time). Undefined when the operation ended without a job.
 */
export async function jobOfAcceptedOperation(
  client: AzureClient,
  vmName: string,
  operation: string,
  known: TriggerKnowledge,
  request: Pick<HttpRequest, 'method' | 'path'>,
  follow: FollowOperation,
): Promise<string | undefined> {
  let outcome: AsyncOutcome;
  try {
    outcome = await client.resume(known.accepted!, request, follow);
  } catch (err) {
    // The operation failed (no job came of it) or is no longer listed: fall back on the start time.
    if (!(err instanceof VendorError) || err.retryable) throw err;
    return (await ownJobSince(client, vmName, operation, known))?.name;
  }
  return jobIdOf(outcome) ?? (await ownJobSince(client, vmName, operation, known))?.name;
}

/** Waits (heartbeating) until no job of the VM and kind that someone else started is running. */
async function waitForJobsOfOthers(client: AzureClient, vmName: string, operation: string, known: TriggerKnowledge, pollMs: number): Promise<void> {
  let job: AzureJob | undefined;
  await pollUntil(
    {
      intervalMs: pollMs,
      deadline: {
        at: Date.now() + OTHERS_JOB_WAIT_MS,
        stillWaiting: () =>
          `VM ${vmName} has a ${operation} job that this run did not start (job ${job?.name}, started ${job?.properties.startTime}, e.g. by the vault's policy schedule): ` +
          `it is still ${job?.properties.status} after ${Math.round(OTHERS_JOB_WAIT_MS / 60_000)} minutes of waiting; it was neither adopted nor cancelled — try again once it has ended`,
      },
      details: () => known,
    },
    async () => {
      const others = (await client.findJobs(vmName, operation)).filter(running);
      for (const other of others) if (!known.foreign.includes(other.name)) known.foreign.push(other.name);
      job = others[0];
      return job ? undefined : true;
    },
  );
}

/**
 * Starts the run's job through `send` and names it. A retry first goes on from what an earlier
 * attempt knew: the operation its request started, else a job started since the trigger began that
 * was not someone else's (its reply was lost). Jobs of the VM that someone else started are waited
 * for first (Azure runs one at a time) and never taken for the run's.
 */
export async function triggerOwnJob(
  client: AzureClient,
  input: { vmName: string; operation: 'Backup' | 'Restore'; since?: string; pollMs: number; request: Pick<HttpRequest, 'method' | 'path'> },
  send: (follow: FollowOperation) => Promise<AsyncOutcome>,
): Promise<{ jobId: string; adopted: boolean; via: string }> {
  const { vmName, operation } = input;
  const info = Context.current().info;
  const resumed = info.heartbeatDetails as Partial<TriggerKnowledge> | undefined;
  const known: TriggerKnowledge = { since: resumed?.since ?? input.since ?? new Date().toISOString(), foreign: resumed?.foreign ?? [], accepted: resumed?.accepted };
  const tracking = followOperation(client, {
    pollMs: input.pollMs,
    details: () => known,
    onAccepted: (accepted) => {
      known.accepted = accepted;
      heartbeat(known);
    },
  });
  try {
    if (known.accepted) {
      const jobId = await jobOfAcceptedOperation(client, vmName, operation, known, input.request, tracking);
      if (jobId) return { jobId, adopted: true, via: known.accepted.asyncOperation ? 'Azure-AsyncOperation' : 'Location' };
      known.accepted = undefined;
    } else if (info.attempt > 1) {
      const own = await ownJobSince(client, vmName, operation, known);
      if (own) return { jobId: own.name, adopted: true, via: 'none' };
    }
    await waitForJobsOfOthers(client, vmName, operation, known, input.pollMs);
    heartbeat(known);
    const sentAt = Date.now();
    const outcome = await send(tracking).catch((err: unknown) => failAfterLateCreateGrace(err, client.profile));
    return { jobId: jobIdOf(outcome) ?? (await startedJob(client, vmName, operation, known, sentAt)), adopted: false, via: outcome.via };
  } catch (err) {
    // Cut off by a cancel: the run's undo learns what this trigger knew, so it cancels the run's job and no other.
    if (err instanceof CancelledFailure) throw new CancelledFailure(err.message, [known]);
    throw err;
  }
}

/** The job a Location-only answer started: the newest of the VM and kind since the request (a minute of clock skew allowed) that nobody else had started. */
async function startedJob(client: AzureClient, vmName: string, operation: string, known: TriggerKnowledge, sentAt: number): Promise<string> {
  const job = (await client.findJobs(vmName, operation)).find((j) => startedAt(j) >= sentAt - 60_000 && !known.foreign.includes(j.name));
  if (!job)
    throw new VendorError({
      vendor: 'azure',
      operation: `find ${operation} job of ${vmName}`,
      vendorMessage: `the ${operation} request was accepted but no ${operation} job of ${vmName} shows up`,
      retryable: true,
    });
  return job.name;
}
