/**
 * The end of every workflow's failure path: run the saga's undos, record the outcome in progress,
 * and rethrow: a cancellation as itself, anything else as a non-retryable failure that names the
 * step, the vendor's reason and what was undone (or left behind, when an operator gave up).
 */
import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import { describeFailure } from './failures';
import type { ProgressTracker } from './progress';
import { summarizeUndo, type Saga } from './saga';

export async function failRun(progress: ProgressTracker, saga: Saga, err: unknown): Promise<never> {
  const failedStep = progress.current.step;
  progress.current.state = 'compensating';
  const outcomes = await saga.compensate();
  const undone = outcomes.filter((o) => o.ok).map((o) => o.label);
  const leftBehind = outcomes.filter((o) => o.leftover).map((o) => ({ label: o.label, error: o.error ?? '' }));
  if (leftBehind.length) progress.current.leftovers = leftBehind;
  if (isCancellation(err)) {
    progress.finish('cancelled', undone);
    throw err;
  }
  progress.finish('failed', undone);
  throw ApplicationFailure.create({
    type: 'BackupStepFailed',
    nonRetryable: true,
    message: `step "${failedStep}" failed: ${describeFailure(err)} — compensation: ${summarizeUndo(outcomes)}`,
    details: [{ step: failedStep, reason: describeFailure(err), compensation: outcomes }],
    cause: err instanceof Error ? err : undefined,
  });
}
