/** How the chaos runner reads a failed run: failed cleanly when the failure names its step, whatever the step is called. */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { failureOutcome } from '../../chaos/engine';
import { OVIRT_DRILL_STEPS } from '../../contracts/ovirt/steps';

test('a failure in any drill step, dashed names included (attach-vm, read-back), is one that names its step', () => {
  for (const step of OVIRT_DRILL_STEPS) assert.equal(failureOutcome(`step "${step}" failed: oVirt POST /vms → HTTP 409 — compensation: undone: delete restored VM x`), 'failed-cleanly', step);
});

test('refused input is clean; a failure that names no step is not', () => {
  assert.equal(failureOutcome('invalid input: vmName must not be empty'), 'failed-cleanly');
  assert.equal(failureOutcome('Activity task timed out'), 'failed-unclear');
  assert.equal(failureOutcome(undefined), 'failed-unclear');
});
