/** Retry policies, named once so every workflow retries vendor calls the same way. */
import type { RetryPolicy } from '@temporalio/common';

/** Forward steps: transient vendor trouble is retried a few times with backoff, then the run fails. */
export const vendorRetry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 6,
};

/** Undo steps: retried until they succeed or fail in a way no retry can fix. */
export const undoRetry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: Number.POSITIVE_INFINITY,
};
