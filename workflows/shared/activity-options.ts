/**
 * The activity options every workflow picks from: a quick vendor call, a call that waits up to a
 * time limit, a forward create, an undo. Each names its rule once; a workflow says which it needs.
 */
import type { Duration } from '@temporalio/common';
import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';
import { alertRetry, undoRetry, vendorRetry } from './retry-policies';

/** How much longer than its own wait an attempt may run: the calls around the wait, a slow reply. */
const WAIT_MARGIN_MS = 2 * 60_000;

/** One request, or a few, to the vendor (or to Temporal): no waiting on a job. */
export const quickCall: ActivityOptions = { startToCloseTimeout: '2 minutes', retry: vendorRetry };

export interface WaitOptions {
  /** How soon a dead worker, or a cancel, reaches the activity (it heartbeats more often than this). */
  heartbeatTimeout?: Duration;
  /**
   * On cancellation the workflow waits until the activity has stopped: it ends a vendor session,
   * or the undo that follows must not race the poll.
   */
  waitForCancel?: boolean;
}

/** A call that waits inside the activity (polling a task, a build, a report) for at most `waitMs`, heartbeating. */
export function waitUpTo(waitMs: number, options: WaitOptions = {}): ActivityOptions {
  return {
    startToCloseTimeout: waitMs + WAIT_MARGIN_MS,
    heartbeatTimeout: options.heartbeatTimeout ?? '1 minute',
    retry: vendorRetry,
    ...(options.waitForCancel ? { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } : {}),
  };
}

/**
 * A step that makes something on the vendor (a snapshot, a backup, a job). When the run is
 * cancelled the workflow waits until the activity has stopped before it goes on, so the undo never
 * runs while the create may still land behind it: either the activity saw the cancel (it heartbeats)
 * and gave up, or it finished and its result is known. Every vendor's creates use this rule.
 */
export function forwardCreate(options: Omit<ActivityOptions, 'cancellationType'>): ActivityOptions {
  return { retry: vendorRetry, ...options, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED };
}

/**
 * An undo (compensation) step: long enough for any vendor's delete or job cancel to finish, its
 * attempts retried per undoRetry before the run asks an operator (see Saga).
 */
export const undoStep: ActivityOptions = { startToCloseTimeout: '45 minutes', heartbeatTimeout: '1 minute', retry: undoRetry };

/** Posting an alert: short, a few attempts (alertRetry); the webhook answers at once or not at all. */
export const alertCall: ActivityOptions = { startToCloseTimeout: '30 seconds', retry: alertRetry };
