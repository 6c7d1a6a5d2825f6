/**
 * The end of every workflow's failure path: run the saga's undos, record the outcome in progress,
 * and rethrow: a cancellation as itself, anything else as a non-retryable failure that names the
 * step, the vendor's reason and what was undone (or left behind, when an operator gave up); a
 * refused input, or a failed verification, as itself. A failure (not a cancellation) is alerted,
 * once undone, unless it is a child run's failure: the child alerted itself.
 */
import { ApplicationFailure, ChildWorkflowFailure, isCancellation, log } from '@temporalio/workflow';
import { failureKind } from '../../contracts/alerts/events';
import { ErrorTypes } from '../../lib/errors';
import { alertRun } from './alert';
import { describeFailure } from './failures';
import type { ProgressTracker } from './progress';
import { summarizeUndo, type Saga } from './saga';

/** What a workflow adds to the end of its failure path, known once the undos ran. */
export interface RunEnding {
  /** The vendor's own account of the undo (Altaro's answer to abort-operation): said before the summary. */
  undoNote?: string;
  /** Facts the failure's details carry besides step, reason and compensation. */
  details?: Record<string, unknown>;
}

export async function failRun(progress: ProgressTracker, saga: Saga | undefined, err: unknown, ending?: () => RunEnding): Promise<never> {
  const failedStep = progress.current.step;
  progress.compensating();
  const outcomes = saga ? await saga.compensate() : [];
  const undone = outcomes.filter((o) => o.ok).map((o) => o.label);
  const leftBehind = outcomes.filter((o) => o.leftover).map((o) => ({ label: o.label, error: o.error ?? '' }));
  const { undoNote, details } = ending?.() ?? {};
  const compensation = [undoNote, summarizeUndo(outcomes)].filter(Boolean).join('; ');
  if (isCancellation(err)) {
    progress.update({ message: `cancelled during "${failedStep}"; ${compensation}` });
    progress.finish('cancelled', undone, leftBehind);
    log.info('run cancelled', { step: failedStep, compensation });
    throw err;
  }
  const reason = describeFailure(err);
  progress.update({ message: reason });
  progress.finish('failed', undone, leftBehind);
  if (!(err instanceof ChildWorkflowFailure))
    await alertRun(failureKind(progress.current.workflowType), failedStep, leftBehind.length ? `${reason} (left behind: ${leftBehind.map((l) => l.label).join(', ')})` : reason);
  // A refused input says so as itself, whichever step found it (clients tell it from a failed run);
  // so does a drill's verdict that a backup does not restore as recorded: it is the finding, not a step that broke.
  if (err instanceof ApplicationFailure && (err.type === ErrorTypes.invalidInput || err.type === ErrorTypes.verificationFailed)) throw err;
  throw ApplicationFailure.create({
    type: ErrorTypes.stepFailed,
    nonRetryable: true,
    message: `step "${failedStep}" failed: ${reason} — compensation: ${compensation}`,
    details: [{ step: failedStep, reason, ...details, compensation: outcomes }],
    cause: err instanceof Error ? err : undefined,
  });
}
