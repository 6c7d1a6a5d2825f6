/** Retry policies, named once so every workflow retries vendor calls the same way. */
import type { RetryPolicy } from '@temporalio/common';

/** Forward steps: transient vendor trouble is retried a few times with backoff, then the run fails. */
export const vendorRetry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 6,
};

/**
 * Undo steps: retried for a good while (about ten minutes); an undo that still fails, or fails in
 * a way no retry can fix, puts the run in "needs attention" (see Saga) rather than leaking.
 */
export const undoRetry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 15,
};

/** Alerts: a few quick attempts; an alert that still cannot be sent is logged, and the run ends as it would have. */
export const alertRetry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '10 seconds',
  maximumAttempts: 4,
};
