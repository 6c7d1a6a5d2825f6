/** Activity options every workflow shares where the same rule applies: named once. */
import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';
import { vendorRetry } from './retry-policies';

/**
 * A step that makes something on the vendor (a snapshot, a backup, a job). When the run is
 * cancelled the workflow waits until the activity has stopped before it goes on, so the undo never
 * runs while the create may still land behind it: either the activity saw the cancel (it heartbeats)
 * and gave up, or it finished and its result is known. Every vendor's creates use this rule.
 */
export function forwardCreate(options: Omit<ActivityOptions, 'cancellationType'>): ActivityOptions {
  return { retry: vendorRetry, ...options, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED };
}
