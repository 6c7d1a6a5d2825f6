/**
 * The one way an activity waits for a vendor: poll, and between polls sleep, until the probe has an
 * answer or the deadline passes. Heartbeats flow every second from the first second on, between
 * polls and while one is in flight, so the short heartbeat timeout that makes a cancel arrive within
 * seconds fires only when the worker is really gone; a cancel ends the wait at the next sleep.
 */
import { heartbeat, sleep } from '@temporalio/activity';
import { stuckFailure } from '../lib/errors';

export interface PollUntilOptions {
  /** Wait between polls; a function when it changes from poll to poll (growing intervals, a vendor's Retry-After). */
  intervalMs: number | (() => number);
  /** When to give up: a poll still without an answer at or after `at` (epoch ms) ends the wait as stuck (ErrorTypes.stuck). */
  deadline?: {
    at: number;
    /** What is still not done, for the stuck error, e.g. `ManageIQ task 7 is still Queued`. */
    stillWaiting: (polls: number) => string;
    /** Whether a new attempt can help once stuck (it repeats a request, say); by default it cannot. */
    retryable?: boolean;
  };
  /** Heartbeat details, read at every heartbeat (`backupctl status` shows their `live` line). */
  details?: () => unknown;
  /** Polls an earlier attempt already made (from its heartbeat details): the count goes on. */
  pollsBefore?: number;
  /** Sleep one interval before the first poll (the thing was only just started). */
  waitFirst?: boolean;
}

/** Calls `probe` until it returns a value (undefined: not yet) and returns that value. `poll` counts from 1. */
export async function pollUntil<T>(options: PollUntilOptions, probe: (poll: number) => Promise<T | undefined>): Promise<T> {
  const details = () => options.details?.();
  const interval = () => (typeof options.intervalMs === 'function' ? options.intervalMs() : options.intervalMs);
  const beat = () => heartbeat(details());
  // No heartbeat in the first second: a wait that is over by then (a snapshot the engine makes in a
  // moment) sends none, and each heartbeat that reaches the server is a billable action on Temporal
  // Cloud. The SDK sends the first heartbeat at once and throttles the rest, so the first one,
  // a second in, already carries the latest poll's details (the `live` line).
  const ticker = setInterval(beat, 1_000);
  try {
    if (options.waitFirst) await sleep(interval());
    for (let poll = (options.pollsBefore ?? 0) + 1; ; poll++) {
      const value = await probe(poll);
      if (value !== undefined) return value;
      const deadline = options.deadline;
      if (deadline && Date.now() >= deadline.at) {
        const message = `${deadline.stillWaiting(poll)}: gave up after ${poll} poll${poll === 1 ? '' : 's'}, at ${new Date(deadline.at).toISOString()}`;
        throw stuckFailure(message, { retryable: deadline.retryable, details: details() });
      }
      await sleep(interval());
    }
  } finally {
    clearInterval(ticker);
  }
}
