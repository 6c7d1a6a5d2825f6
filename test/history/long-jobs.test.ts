/**
 * Every workflow's history stays small however long its vendor job runs: a day (Azure's backup and
 * restore jobs: a week, the longest their input allows) of vendor job on the time-skipping test
 * server, with activities stubbed as bench/long-job-events.ts describes. Temporal warns at 10,240
 * events and terminates a run at 51,200; a backup that follows its job in the history would reach
 * them in hours.
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { LONG_JOB_SCENARIOS, runLongJob, type LongJobRun } from '../../bench/long-job-events';
import { registeredWorkflows } from '../../bench/history-events';
import { startTimeSkippingTemporal, testDataConverter, workflowBundle } from '../helpers/temporal';

const MAX_EVENTS = 300;
const SHORT_JOB_MS = 60_000;

describe('history events for a long vendor job, every workflow', { timeout: 600_000 }, () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  beforeAll(async () => {
    [env, bundle] = await Promise.all([startTimeSkippingTemporal(), workflowBundle()]);
  });
  afterAll(async () => env?.teardown());

  it('has a scenario for every registered workflow', async () => {
    const covered = new Set(LONG_JOB_SCENARIOS.map((s) => s.workflowType));
    assert.deepEqual(
      (await registeredWorkflows()).filter((w) => !covered.has(w)),
      [],
    );
  });

  for (const scenario of LONG_JOB_SCENARIOS) {
    it(`${scenario.workflowType}: ${scenario.job} for ${scenario.longMs / 86_400_000} day(s) stays under ${MAX_EVENTS} events`, async () => {
      const short = await runLongJob(env, bundle, scenario, SHORT_JOB_MS, { stopAbove: MAX_EVENTS, dataConverter: testDataConverter });
      const long = await runLongJob(env, bundle, scenario, scenario.longMs, { stopAbove: MAX_EVENTS, dataConverter: testDataConverter });
      const show = (r: LongJobRun) => `${r.status}, ${r.exceeded ? `stopped at ${r.exceeded}` : r.events} events${r.error ? ` (${r.error})` : ''}`;
      assert.equal(short.status, 'COMPLETED', `a one-minute job: ${show(short)}`);
      assert.equal(long.status, 'COMPLETED', `a long job: ${show(long)}`);
      assert.ok(long.events < MAX_EVENTS, `a long job: ${show(long)}`);
      console.log(`  ${scenario.workflowType}: ${short.events} events for a one-minute job, ${long.events} for ${scenario.longMs / 3_600_000} h`);
    });
  }
});
