/**
 * pollUntil, the one way an activity waits for a vendor: it returns the probe's answer, heartbeats
 * while it waits, ends as stuck at its deadline, and stops waiting when the activity is cancelled.
 */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { CancelledFailure } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ErrorTypes } from '../../lib/errors';
import { pollUntil } from '../../activities/poll-until';

test('returns the first answer the probe gives, counting polls on from an earlier attempt', async () => {
  const env = new MockActivityEnvironment();
  const seen: number[] = [];
  const value = await env.run(() =>
    pollUntil({ intervalMs: 5, pollsBefore: 3 }, async (poll) => {
      seen.push(poll);
      return poll === 6 ? `done at ${poll}` : undefined;
    }),
  );
  assert.equal(value, 'done at 6');
  assert.deepEqual(seen, [4, 5, 6]);
});

test('a wait over within its first second sends no heartbeat (each one that reaches the server is a billable action)', async () => {
  const env = new MockActivityEnvironment();
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  await env.run(() => pollUntil({ intervalMs: 30 }, async (poll) => (poll === 3 ? true : undefined)));
  assert.deepEqual(beats, []);
});

test('heartbeats its details while waiting between polls and while a poll is slow', async () => {
  const env = new MockActivityEnvironment();
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  let live = 'nothing yet';
  await env.run(() =>
    pollUntil({ intervalMs: 30, details: () => ({ live }) }, async (poll) => {
      live = `poll ${poll}`;
      // A slow vendor answer: the ticker keeps heartbeating while it is in flight.
      if (poll === 2) await new Promise((r) => setTimeout(r, 1_300));
      return poll === 3 ? true : undefined;
    }),
  );
  // The SDK throttles every heartbeat after the first: the first (a second in) already says what the latest poll saw.
  assert.equal((beats[0] as { live?: string }).live, 'poll 2', 'the first heartbeat carries the latest poll’s live line');
  assert.ok(beats.filter((d) => (d as { live?: string }).live === 'poll 2').length >= 1, 'heartbeats while poll 2 is in flight');
});

test('a deadline reached without an answer ends the wait as the stuck error type, saying what is not done', async () => {
  const env = new MockActivityEnvironment();
  const deadline = Date.now() + 120;
  let polls = 0;
  const err = await env
    .run(() =>
      pollUntil({ intervalMs: 20, deadline: { at: deadline, stillWaiting: () => 'task 7 is still Queued' } }, async (poll) => {
        polls = poll;
        return undefined;
      }),
    )
    .then(
      () => assert.fail('a wait that never ends must not return'),
      (e: unknown) => e,
    );
  assert.ok(err instanceof ApplicationFailure, String(err));
  assert.equal(err.type, ErrorTypes.stuck);
  assert.equal(err.nonRetryable, true);
  assert.match(err.message, new RegExp(`^task 7 is still Queued: gave up after ${polls} polls, at ${new Date(deadline).toISOString().replace(/\./g, '\\.')}$`));
  assert.ok(polls >= 2, `polled ${polls} times before the deadline`);
});

test('a stuck wait that a new attempt can help is retryable, still of the stuck type', async () => {
  const env = new MockActivityEnvironment();
  const err = await env.run(() => pollUntil({ intervalMs: 5, deadline: { at: Date.now(), stillWaiting: () => 'still listed', retryable: true } }, async () => undefined)).catch((e: unknown) => e);
  assert.ok(err instanceof ApplicationFailure);
  assert.equal(err.type, ErrorTypes.stuck);
  assert.equal(err.nonRetryable, false);
});

test('a cancel stops the wait between polls: no poll after it, and the activity ends cancelled', async () => {
  const env = new MockActivityEnvironment();
  let polls = 0;
  const waiting = env.run(() =>
    pollUntil({ intervalMs: 60_000 }, async (poll) => {
      polls = poll;
      return undefined;
    }),
  );
  await new Promise((r) => setTimeout(r, 50));
  const startedCancel = Date.now();
  env.cancel();
  await assert.rejects(waiting, (err: unknown) => err instanceof CancelledFailure);
  assert.ok(Date.now() - startedCancel < 1_500, 'the cancel ended a 60 s wait within a second or so');
  assert.equal(polls, 1);
});
