import { ApplicationFailure } from '@temporalio/activity';
import { MalformedResponseError } from '../lib/errors';

/**
 * For idempotent undos only. An unreadable vendor answer is non-retryable elsewhere (reading it again
 * rarely helps a forward step), but an undo that gave up on one would leave the run waiting for an
 * operator with its objects in place; its removes count "already gone" as done, so the next attempt
 * (bounded by the undo's retry policy) looks again.
 */
export async function retryUnreadable<T>(undo: () => Promise<T>): Promise<T> {
  try {
    return await undo();
  } catch (err) {
    if (err instanceof MalformedResponseError) throw ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: false });
    throw err;
  }
}
