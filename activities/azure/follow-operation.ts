/**
 * Waiting for a long-running ARM operation inside an activity, on pollUntil: each look after the
 * answer's Retry-After (or pollMs), throttling and 5xx on a look waited out rather than turned into
 * a second request, and an operation that outlasts its time ends the wait as stuck.
 */
import { VendorError } from '../../lib/errors';
import { pollUntil } from '../poll-until';
import type { AcceptedOperation, AsyncOutcome, AzureClient, FollowOperation } from './client';

export interface FollowOperationOptions {
  /** Between looks when Azure sends no Retry-After, and the floor under a Retry-After of 0. */
  pollMs: number;
  /** Give up after this long (default 30 minutes). */
  timeoutMs?: number;
  /** Heartbeat details while waiting. */
  details?: () => unknown;
  /** Told once the call was accepted, before the first look: a retry can follow the same operation. */
  onAccepted?: (accepted: AcceptedOperation) => void;
}

/** Failed looks in a row that are waited out before the last one's error ends the wait. */
const TOLERATED_FAILED_LOOKS = 10;

/** Honours Retry-After; a Retry-After of 0 still gets a short floor so the looks cannot spin. */
export function nextLookAfterMs(retryAfterMs: number | undefined, pollMs: number): number {
  return retryAfterMs === undefined ? pollMs : Math.max(retryAfterMs, Math.min(pollMs, 100));
}

export function followOperation(client: AzureClient, options: FollowOperationOptions): FollowOperation {
  const { pollMs } = options;
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  return async (pending): Promise<AsyncOutcome> => {
    options.onAccepted?.(pending.accepted);
    let delayMs = nextLookAfterMs(pending.retryAfterMs, pollMs);
    let failures = 0;
    return pollUntil<AsyncOutcome>(
      {
        intervalMs: () => delayMs,
        deadline: {
          at: Date.now() + timeoutMs,
          stillWaiting: () => `Azure operation ${pending.operationId} (${pending.request.method} ${pending.request.path}) did not finish within ${Math.round(timeoutMs / 1000)} s`,
        },
        waitFirst: true,
        details: options.details,
      },
      async (poll) => {
        try {
          const look = await client.lookAt(pending);
          failures = 0;
          delayMs = nextLookAfterMs(look.retryAfterMs, pollMs);
          return look.outcome ? { ...look.outcome, polls: poll } : undefined;
        } catch (err) {
          if (!(err instanceof VendorError && err.retryable && ++failures <= TOLERATED_FAILED_LOOKS)) throw err;
          delayMs = Math.max(err.retryAfterMs ?? pollMs, pollMs / 4);
          return undefined;
        }
      },
    );
  };
}
