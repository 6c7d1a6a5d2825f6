/**
 * A backup that runs 6 hours of the simulator's (accelerated) clock against the real workflow and
 * the real simulator: the workflow history stays small. Polling happens inside heartbeating
 * activities, so the history grows with how often the job moves (≤ one activity per 5%) and with
 * wall time (≤ one activity per slice), not with the number of polls (docs/altaro.md has the bound).
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import type { AltaroOperationResult } from '../../contracts/altaro/results';
import { SimClock } from '../../simulators/framework/clock';
import { startAltaroHarness, type AltaroHarness } from '../helpers/altaro-harness';

const SPEEDUP = 2_000;
const HOUR = 3_600_000;
let h: AltaroHarness;

beforeAll(async () => {
  h = await startAltaroHarness({
    sim: {
      // Simulated time runs SPEEDUP times faster than the wall clock.
      clock: new SimClock({ speedup: SPEEDUP }),
      lingerMs: 3_000,
      abortMs: 500,
      sessionIdleMs: 20 * 60_000,
    },
  });
});
afterAll(async () => h?.stop());

async function runFor(simulatedMs: number) {
  h.state.operationMs['take-backup'] = simulatedMs;
  const pollsBefore = h.calls('GET', /\/activity\/operation-status\//).length;
  const handle = await h.start('altaroBackup', h.input({ pollIntervalMs: 50, maxPollIntervalMs: 500 }));
  const result = (await handle.result()) as AltaroOperationResult;
  const history = await handle.fetchHistory();
  const events = history.events!.length;
  const pollActivities = history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'altaroPollOperation').length;
  const polls = h.calls('GET', /\/activity\/operation-status\//).length - pollsBefore;
  return { result, events, pollActivities, polls };
}

test('a 6-hour job (simulated) completes with a small, bounded history', async () => {
  const long = await runFor(6 * HOUR);
  console.log(`6 h job: ${long.events} history events, ${long.pollActivities} polling activities, ${long.polls} status polls`);
  assert.equal(long.result.outcome, 'success');
  assert.equal(long.result.report.Duration, 6 * 3600, 'the vendor report says the job ran 6 hours');
  assert.ok(long.result.timeline.length >= 10, 'percent over time was recorded');
  assert.equal(long.result.timeline.at(0)!.status, 'Processing');
  // Polling happens inside the activities: many polls, few history events.
  assert.ok(long.polls > 2 * long.pollActivities, `${long.polls} polls in ${long.pollActivities} activities`);
  // Bound: one activity per 10 points of progress or SubOperation change (≤ 10 + 4), and a few
  // more for time-based slices (none here: a slice lasts an hour of wall time), 6 events each,
  // plus the fixed part of the run.
  const bound = 6 * (14 + 5) + 40;
  assert.ok(long.events <= bound, `${long.events} events > ${bound}`);
  assert.equal(await h.openSessions(), 0);
});
