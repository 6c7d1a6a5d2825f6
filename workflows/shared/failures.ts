/** Turning Temporal failures into sentences a backup admin can act on. */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, TimeoutFailure, isCancellation } from '@temporalio/workflow';

/** The innermost useful message: the vendor's words rather than "Activity task failed". */
export function describeFailure(err: unknown): string {
  if (err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) {
    if (err.cause instanceof TimeoutFailure) return `${err instanceof ActivityFailure ? err.activityType : 'child workflow'} timed out (${err.cause.timeoutType})`;
    return err.cause ? describeFailure(err.cause) : err.message;
  }
  if (err instanceof ApplicationFailure) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export { isCancellation };
