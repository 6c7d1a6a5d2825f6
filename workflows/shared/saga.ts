/**
 * The one saga helper: undo steps are registered before the action they undo (so an action that
 * was cancelled half-way is still undone), removed once the forward path has undone them itself,
 * and on failure or cancellation run newest-first in a non-cancellable scope.
 */
import { CancellationScope, log } from '@temporalio/workflow';
import { describeFailure } from './failures';

export interface UndoOutcome {
  label: string;
  ok: boolean;
  error?: string;
}

interface UndoStep {
  id: number;
  label: string;
  run: () => Promise<unknown>;
}

export class Saga {
  private steps: UndoStep[] = [];
  private nextId = 1;
  readonly outcomes: UndoOutcome[] = [];

  /** Registers an undo; returns a function that forgets it (the forward path did it). */
  add(label: string, run: () => Promise<unknown>): () => void {
    const id = this.nextId++;
    this.steps.push({ id, label, run });
    return () => {
      this.steps = this.steps.filter((s) => s.id !== id);
    };
  }

  get pending(): string[] {
    return this.steps.map((s) => s.label);
  }

  /** Runs every pending undo, newest first; one that fails does not stop the others. */
  async compensate(): Promise<UndoOutcome[]> {
    const steps = [...this.steps].reverse();
    this.steps = [];
    await CancellationScope.nonCancellable(async () => {
      for (const step of steps) {
        try {
          await step.run();
          this.outcomes.push({ label: step.label, ok: true });
        } catch (err) {
          const error = describeFailure(err);
          log.error('compensation step failed', { step: step.label, error });
          this.outcomes.push({ label: step.label, ok: false, error });
        }
      }
    });
    return this.outcomes;
  }
}

export function summarizeUndo(outcomes: UndoOutcome[]): string {
  if (!outcomes.length) return 'nothing to undo';
  const done = outcomes.filter((o) => o.ok).map((o) => o.label);
  const failed = outcomes.filter((o) => !o.ok).map((o) => `${o.label} (FAILED: ${o.error})`);
  return [done.length ? `undone: ${done.join(', ')}` : '', failed.length ? `NOT undone: ${failed.join(', ')}` : ''].filter(Boolean).join('; ');
}
