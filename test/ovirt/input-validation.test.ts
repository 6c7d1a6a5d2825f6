/** Bad input is refused inside the workflow, at once, non-retryable, with no vendor call made. */
import { ovirtTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { OvirtHarness } from '../helpers/ovirt-harness';

const test = ovirtTest();

async function failure(h: OvirtHarness, input: unknown): Promise<ApplicationFailure> {
  h.simulator.calls.clear();
  const err = await h.client.workflow.execute('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: `bad-input-${Date.now()}-${Math.random()}`, args: [input] }).then(
    () => assert.fail('the run should have failed'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError);
  assert.ok(err.cause instanceof ApplicationFailure, `cause: ${err.cause}`);
  assert.equal(h.simulator.calls.all().length, 0, 'no vendor call was made');
  return err.cause;
}

test('wrong types and a missing VM id are all listed in one message', async ({ h }) => {
  const cause = await failure(h, { endpoint: 'ovirt-sim', proxyVmId: 42, keepSnapshot: 'yes' });
  assert.equal(cause.type, 'InvalidInput');
  assert.equal(cause.nonRetryable, true);
  assert.match(cause.message, /invalid input for ovirtSnapshotBackup/);
  assert.match(cause.message, /vmId: vmId is required/);
  assert.match(cause.message, /proxyVmId: .*/);
  assert.match(cause.message, /keepSnapshot: .*expected boolean/i);
});

test('unknown fields (a typo) are refused rather than ignored', async ({ h }) => {
  const cause = await failure(h, { ...h.input(), keepSnapshots: true });
  assert.match(cause.message, /keepSnapshots/);
});

test('an input that is not an object is refused', async ({ h }) => {
  const cause = await failure(h, 'web-01');
  assert.equal(cause.type, 'InvalidInput');
});

test('an unknown endpoint profile is refused with the list of known ones', async ({ h }) => {
  const cause = await failure(h, h.input({ endpoint: 'ovirt-prod' }));
  assert.match(cause.message, /unknown endpoint profile "ovirt-prod"; configured profiles: ovirt-sim/);
});

test('a VM that does not exist fails fast, naming it', async ({ h }) => {
  const err = await h.client.workflow
    .execute('ovirtSnapshotBackup', { taskQueue: h.taskQueue, workflowId: `no-vm-${Date.now()}`, args: [h.input({ vmId: 'does-not-exist' })] })
    .catch((e: WorkflowFailedError) => e);
  assert.ok(err instanceof WorkflowFailedError);
  assert.match((err.cause as Error).message, /step "preflight" failed: VM does-not-exist does not exist on endpoint "ovirt-sim"/);
});
