/**
 * The one saga helper: undo steps are registered before the action they undo (so an action that
 * was cancelled half-way is still undone), removed once the forward path has undone them itself,
 * and on failure or cancellation run newest-first in a non-cancellable scope.
 *
 * An undo that still fails after its retries does not end the run with a silent leak: the run
 * waits in "needs attention" (BackupOutcome search attribute, `leftovers` query) until an
 * operator answers `cleanup` with "retry" (run the failed undos again) or "give-up" (end the run
 * and report what is left): as an update (`backupctl cleanup`), refused while the run waits for no
 * decision and answered with what the decision applies to, or as the signal older clients send.
 */
import { ApplicationFailure, CancellationScope, condition, defineQuery, defineSignal, defineUpdate, log, setHandler } from '@temporalio/workflow';
import { cleanupAction, type CleanupAnswer } from '../../contracts/operator-actions';
import { ErrorTypes } from '../../lib/errors';
import { describeFailure } from './failures';

export interface UndoOutcome {
  label: string;
  ok: boolean;
  error?: string;
  /** True when an operator gave up on it: the vendor object is still there. */
  leftover?: boolean;
}

export interface CleanupDecision {
  action: 'retry' | 'give-up';
  note?: string;
}

export interface Leftover {
  label: string;
  error: string;
}

export const cleanupSignal = defineSignal<[CleanupDecision]>(cleanupAction);
export const cleanupUpdate = defineUpdate<CleanupAnswer, [CleanupDecision]>(cleanupAction);
export const leftoversQuery = defineQuery<{ needsAttention: boolean; leftovers: Leftover[]; decisions: CleanupDecision[] }>('leftovers');

interface UndoStep {
  id: number;
  label: string;
  run: () => Promise<unknown>;
}

export interface SagaHooks {
  /** Told when the run starts waiting for an operator (waited for: it may alert), and when it stops (empty list): ProgressTracker.needsAttention. */
  onAttention: (leftovers: Leftover[]) => void | Promise<void>;
}

export class Saga {
  private steps: UndoStep[] = [];
  private nextId = 1;
  readonly outcomes: UndoOutcome[] = [];
  private leftovers: Leftover[] = [];
  private readonly decisions: CleanupDecision[] = [];
  private pendingDecision?: CleanupDecision;

  constructor(private readonly hooks: SagaHooks) {
    setHandler(cleanupSignal, (decision) => this.decide(decision));
    // An update adds no command of its own to a run that never receives one: replay-safe beside the signal.
    setHandler(
      cleanupUpdate,
      (decision) => {
        const leftovers = this.leftovers.map((l) => l.label);
        this.decide(decision);
        const next = decision.action === 'retry' ? 'the failed undos run again' : 'the run ends and reports these as left behind';
        return { action: decision.action, leftovers, next };
      },
      { validator: (decision) => this.refusal(decision) },
    );
    setHandler(leftoversQuery, () => ({ needsAttention: this.leftovers.length > 0, leftovers: [...this.leftovers], decisions: [...this.decisions] }));
  }

  private decide(decision: CleanupDecision): void {
    this.decisions.push(decision);
    this.pendingDecision = decision;
  }

  /** Throws (the update is refused, nothing recorded) unless the run waits for exactly this kind of decision. */
  private refusal(decision: CleanupDecision | undefined): void {
    if (decision?.action !== 'retry' && decision?.action !== 'give-up') {
      throw ApplicationFailure.create({ type: ErrorTypes.actionRefused, message: 'a cleanup decision is {"action":"retry"} or {"action":"give-up"} (with an optional "note")' });
    }
    if (!this.leftovers.length || this.pendingDecision !== undefined) {
      throw ApplicationFailure.create({ type: ErrorTypes.actionRefused, message: 'the run is not waiting for a cleanup decision: no undo is failing (see the leftovers query)' });
    }
  }

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
    let steps = [...this.steps].reverse();
    this.steps = [];
    await CancellationScope.nonCancellable(async () => {
      for (;;) {
        const failed: Array<{ step: UndoStep; error: string }> = [];
        for (const step of steps) {
          try {
            await step.run();
            this.outcomes.push({ label: step.label, ok: true });
          } catch (err) {
            const error = describeFailure(err);
            log.error('compensation step failed', { step: step.label, error });
            failed.push({ step, error });
          }
        }
        if (!failed.length) return;

        this.leftovers = failed.map(({ step, error }) => ({ label: step.label, error }));
        await this.hooks.onAttention(this.leftovers);
        this.pendingDecision = undefined;
        await condition(() => this.pendingDecision !== undefined);
        const decision = this.pendingDecision!;
        log.warn('operator decision on leftovers', { decision: decision.action, note: decision.note, leftovers: this.leftovers.map((l) => l.label) });
        if (decision.action === 'give-up') {
          this.outcomes.push(...failed.map(({ step, error }) => ({ label: step.label, ok: false, error, leftover: true })));
          await this.hooks.onAttention([]);
          return;
        }
        this.leftovers = [];
        await this.hooks.onAttention([]);
        steps = failed.map(({ step }) => step);
      }
    });
    return this.outcomes;
  }
}

export function summarizeUndo(outcomes: UndoOutcome[]): string {
  if (!outcomes.length) return 'nothing to undo';
  const done = outcomes.filter((o) => o.ok).map((o) => o.label);
  const failed = outcomes.filter((o) => !o.ok).map((o) => `${o.label} (LEFT BEHIND: ${o.error})`);
  return [done.length ? `undone: ${done.join(', ')}` : '', failed.length ? `NOT undone, an operator gave up: ${failed.join(', ')}` : ''].filter(Boolean).join('; ');
}
