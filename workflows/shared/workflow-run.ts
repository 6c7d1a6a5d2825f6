/**
 * One way into a workflow and one way out. `openRun` starts the progress query, checks the input
 * (a bad one fails at once, before any call), names what the run is about and tags it for search;
 * `run.steps(body)` runs the rest, and `run.fail(err)` is the end of every failure path (failRun:
 * undo, record, rethrow).
 */
import { CancellationScope, workflowInfo } from '@temporalio/workflow';
import type { z } from 'zod';
import { alertRun } from './alert';
import { failRun, type RunEnding } from './fail-run';
import type { StepTiming } from '../../contracts/progress';
import { ProgressTracker } from './progress';
import { Saga, type UndoOutcome } from './saga';
import { tagRun, type RunTag } from './tag-run';
import { parseWorkflowInput } from './validate-input';

export interface RunOpening<S extends z.ZodType> {
  workflowType: string;
  steps: readonly string[];
  input: S;
  /** What the run is about, e.g. "VM web-01 on ovirt-sim" (the run's details in the UI). */
  about: (input: z.output<S>) => string;
  /** The run's search attributes; omitted where they are known only later (fleet, schedule, reaper call tagRun then). */
  tag?: (input: z.output<S>) => RunTag;
  /** Steps written to BackupStep as soon as entered (ProgressTracker): those the reaper reads even from a terminated run. */
  searchedSteps?: readonly string[];
}

export class WorkflowRun<I> {
  readonly workflowId: string;
  readonly runId: string;
  readonly startedAt = new Date().toISOString();
  // From the run's first moment, so that `leftovers` answers (empty) and `cleanup` is heard even
  // before the first undo: a UI, `backupctl status` or a script may ask at any time.
  private readonly saga: Saga;

  constructor(
    readonly progress: ProgressTracker,
    readonly input: I,
  ) {
    ({ workflowId: this.workflowId, runId: this.runId } = workflowInfo());
    this.saga = new Saga({
      onAttention: async (leftovers) => {
        progress.needsAttention(leftovers);
        if (leftovers.length)
          await alertRun('needs-attention', progress.current.step, `undo kept failing: ${leftovers.map((l) => `${l.label} (${l.error})`).join('; ')}; answer with backupctl cleanup --retry|--give-up`);
      },
    });
  }

  /** Registers an undo (Saga.add: before the action it undoes) and returns what forgets it. */
  undo(label: string, run: () => Promise<unknown>): () => void {
    return this.saga.add(label, run);
  }

  /**
   * Runs every pending undo now, newest first, in the saga's non-cancellable scope, as a failure
   * would: for a run whose success removes what it made (a drill's sandbox). Returns this call's
   * outcomes; an undo that keeps failing waits for an operator here too.
   */
  async cleanup(): Promise<UndoOutcome[]> {
    const before = this.saga.outcomes.length;
    const outcomes = await this.saga.compensate();
    return outcomes.slice(before);
  }

  /** The timing fields of a result; call last, after progress.finish. */
  times(): { timings: StepTiming[]; startedAt: string; completedAt: string } {
    return { timings: this.progress.snapshot().timings, startedAt: this.startedAt, completedAt: new Date().toISOString() };
  }

  /** Runs the workflow's steps; a failure or a cancellation ends through `fail`. */
  async steps<R>(body: () => Promise<R>, ending?: () => RunEnding): Promise<R> {
    try {
      return await body();
    } catch (err) {
      return this.fail(err, ending);
    }
  }

  /** The end of every failure path: see failRun. */
  fail(err: unknown, ending?: () => RunEnding): Promise<never> {
    return failRun(this.progress, this.saga, err, ending);
  }
}

export function openRun<S extends z.ZodType>(opening: RunOpening<S>, rawInput: unknown): WorkflowRun<z.output<S>> {
  const progress = new ProgressTracker(opening.workflowType, opening.steps, opening.searchedSteps);
  const input = parseWorkflowInput(opening.workflowType, opening.input, rawInput);
  if (opening.tag) tagRun(opening.tag(input));
  progress.about(opening.about(input));
  // From the moment a cancel is asked for, status says so: the step in flight may take a while to
  // stop (a create is waited for), and `running` would read as if the cancel had not arrived.
  CancellationScope.current().cancelRequested.catch(() => progress.cancelling());
  return new WorkflowRun(progress, input);
}
