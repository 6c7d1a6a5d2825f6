/**
 * Every workflow opens and ends the same way (workflows/shared/workflow-run.ts): a refused input
 * fails at once as InvalidInput, "invalid input for <type>: …", before any activity; a failing step
 * ends the run as BackupStepFailed naming the step and what was undone, with progress "failed".
 * On the time-skipping server with stub activities: no vendor is involved.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ErrorTypes } from '../../lib/errors';
import type * as Workflows from '../../workflows/index';
import type { Progress } from '../../contracts/progress';
import { startTimeSkippingTemporal, testDataConverter, workflowBundle } from '../helpers/temporal';

const taskQueue = 'one-way-in-and-out';
const workflowTypes = [
  'ovirtSnapshotBackup',
  'ovirtRestore',
  'ovirtRestoreDrill',
  'altaroOperation',
  'altaroBackup',
  'onappBackup',
  'onappListBackups',
  'onappRestore',
  'manageiqSnapshot',
  'manageiqRevert',
  'manageiqDeleteSnapshots',
  'azureProtectVm',
  'azureVmBackup',
  'azureRestore',
  'azureFileRecovery',
  'scheduledBackup',
  'fleetBackup',
  'reaper',
  'rpoWatch',
  'verifyBackups',
  'ovirtListBackups',
  'pruneBackups',
] as const satisfies ReadonlyArray<keyof typeof Workflows>;

/** The first step of each workflow, where its first vendor call is made. */
const firstStep: Record<string, string> = {
  ovirtSnapshotBackup: 'preflight',
  ovirtRestore: 'preflight',
  ovirtRestoreDrill: 'preflight',
  altaroOperation: 'instruct',
  altaroBackup: 'instruct',
  onappBackup: 'preflight',
  onappListBackups: 'list',
  onappRestore: 'preflight',
  manageiqSnapshot: 'preflight',
  manageiqRevert: 'preflight',
  manageiqDeleteSnapshots: 'preflight',
  azureProtectVm: 'policy',
  azureVmBackup: 'find',
  azureRestore: 'find',
  azureFileRecovery: 'find',
  reaper: 'scan',
};

const VENDOR_SAYS = 'endpoint refused the call (stub)';
const activitiesCalled: string[] = [];
const refuse = (name: string) => async () => {
  activitiesCalled.push(name);
  throw ApplicationFailure.create({ type: ErrorTypes.vendorRejected, nonRetryable: true, message: VENDOR_SAYS });
};

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  env = await startTimeSkippingTemporal();
  worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    dataConverter: testDataConverter,
    activities: Object.fromEntries(
      ['ovirtCheckEndpoint', 'altaroCheckEndpoint', 'onappCheckEndpoint', 'manageiqCheckEndpoint', 'azureCheckEndpoint', 'reaperEndpointVendors'].map((name) => [name, refuse(name)]),
    ),
  });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

async function failureOf(workflowType: string, input: unknown, id: string) {
  const handle = await env.client.workflow.start(workflowType, { taskQueue, workflowId: `${id}-${workflowType}`, args: [input] });
  const err = await handle.result().then(
    () => assert.fail(`${workflowType} should fail`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, `${workflowType}: ${String(err)}`);
  assert.ok(err.cause instanceof ApplicationFailure, `${workflowType}: ${String(err.cause)}`);
  return { failure: err.cause, handle };
}

test('every workflow refuses a bad input the same way: InvalidInput, non-retryable, "invalid input for <type>: …", no activity', async () => {
  activitiesCalled.length = 0;
  for (const workflowType of workflowTypes) {
    const { failure } = await failureOf(workflowType, { noSuchField: true }, 'invalid');
    assert.equal(failure.type, ErrorTypes.invalidInput, workflowType);
    assert.equal(failure.nonRetryable, true, workflowType);
    assert.match(failure.message, new RegExp(`^invalid input for ${workflowType}: .*noSuchField`), workflowType);
  }
  assert.deepEqual(activitiesCalled, []);
});

test("every workflow's failing step ends the run the same way: BackupStepFailed naming the step and the vendor's words, progress failed", async () => {
  for (const workflowType of Object.keys(firstStep)) {
    const input = JSON.parse(await readFile(new URL(`../../examples/${workflowType}.json`, import.meta.url), 'utf8'));
    const { failure, handle } = await failureOf(workflowType, input, 'failing');
    const step = firstStep[workflowType];
    assert.equal(failure.type, 'BackupStepFailed', `${workflowType}: ${failure.message}`);
    assert.equal(failure.nonRetryable, true, workflowType);
    assert.equal(failure.message, `step "${step}" failed: ${VENDOR_SAYS} — compensation: nothing to undo`, workflowType);
    const progress = await handle.query<Progress>('progress');
    assert.equal(progress.state, 'failed', workflowType);
    assert.equal(progress.step, step, workflowType);
    assert.equal(progress.message, VENDOR_SAYS, workflowType);
  }
});
