/**
 * The one way an activity waits for a vendor: poll, and between polls sleep on heartbeatSleep, until
 * the probe has an answer or the deadline passes. Heartbeats also flow every second while a poll is
 * in flight, so the short heartbeat timeout that makes a cancel arrive within seconds fires only
 * when the worker is really gone; a cancel ends the wait at the next sleep.
 */
import { heartbeat } from '@temporalio/activity';
import { stuckFailure } from '../lib/errors';
import { heartbeatSleep } from './heartbeat-sleep';

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
  // No heartbeat before the first poll: the SDK sends the first heartbeat at once and throttles the
  // rest, so an empty first one would hold back the first poll's details (the `live` line) for most
  // of the heartbeat timeout, and a short slice would never show them at all.
  const ticker = setInterval(beat, 1_000);
  try {
    if (options.waitFirst) await heartbeatSleep(interval(), details());
    for (let poll = (options.pollsBefore ?? 0) + 1; ; poll++) {
      const value = await probe(poll);
      if (value !== undefined) return value;
      const deadline = options.deadline;
      if (deadline && Date.now() >= deadline.at) {
        const message = `${deadline.stillWaiting(poll)}: gave up after ${poll} poll${poll === 1 ? '' : 's'}, at ${new Date(deadline.at).toISOString()}`;
        throw stuckFailure(message, { retryable: deadline.retryable, details: details() });
      }
      await heartbeatSleep(interval(), details());
    }
  } finally {
    clearInterval(ticker);
  }
}
