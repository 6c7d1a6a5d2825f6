/** Progress that every workflow exposes through the `progress` query and the BackupStep search attribute. */
import { defineQuery, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { Progress, RunState } from '../../contracts/progress';
import { BackupOutcome, BackupStep } from '../../contracts/search-attributes';
import { recordBackupOutcome, recordStepDuration } from '../../lib/metrics/workflow-metrics';

export const progressQuery = defineQuery<Progress>('progress');

export class ProgressTracker {
  private readonly progress: Progress;
  private stepStartedAt = 0;
  private subject = '';

  constructor(workflowType: string, steps: readonly string[]) {
    this.progress = {
      workflowType,
      state: 'running',
      step: steps[0] ?? 'start',
      stepIndex: 0,
      steps,
      percent: 0,
      disksTotal: 0,
      disksDone: 0,
      bytesTotal: 0,
      bytesCopied: 0,
      undone: [],
      timings: [],
    };
    this.stepStartedAt = Date.now();
    setHandler(progressQuery, () => this.snapshot());
  }

  snapshot(): Progress {
    return { ...this.progress, undone: [...this.progress.undone], timings: [...this.progress.timings] };
  }

  get current(): Progress {
    return this.progress;
  }

  /** Names what the run is about (e.g. "VM web-01 on ovirt-sim"): the UI shows it as the run's details. */
  about(subject: string): void {
    this.subject = subject;
    this.showDetails();
  }

  private showDetails(): void {
    if (!this.subject) return;
    const p = this.progress;
    setCurrentDetails(`${this.subject}: ${p.state === 'running' ? `${p.step} (${p.percent}%)` : p.state}`);
  }

  /** Closes the previous step's timing, opens the next, and mirrors it into the search attribute. */
  enter(step: string): void {
    this.closeStep();
    const index = this.progress.steps.indexOf(step);
    this.progress.step = step;
    this.progress.stepIndex = index >= 0 ? index : this.progress.stepIndex;
    this.stepStartedAt = Date.now();
    this.recompute();
    this.showDetails();
    upsertSearchAttributes([{ key: BackupStep, value: step }]);
  }

  /** The Saga's hook: an undo keeps failing and the run waits for an operator, or no longer does. */
  needsAttention(leftovers: Array<{ label: string; error: string }>): void {
    this.progress.state = leftovers.length ? 'needs-attention' : 'compensating';
    this.progress.leftovers = leftovers.length ? leftovers : undefined;
    this.progress.message = leftovers.length
      ? `needs attention: ${leftovers.map((l) => `${l.label} (${l.error})`).join('; ')}; signal "cleanup" with {"action":"retry"} or {"action":"give-up"}`
      : undefined;
    this.showDetails();
  }

  update(patch: Partial<Pick<Progress, 'disksTotal' | 'disksDone' | 'bytesTotal' | 'bytesCopied' | 'message'>>): void {
    Object.assign(this.progress, patch);
    this.recompute();
  }

  finish(state: Exclude<RunState, 'running'>, undone: string[] = []): void {
    this.closeStep();
    this.progress.state = state;
    this.progress.undone = undone;
    if (state === 'completed') this.progress.percent = 100;
    this.showDetails();
    if (state !== 'compensating') upsertSearchAttributes([{ key: BackupOutcome, value: state }]);
    if (state !== 'compensating') recordBackupOutcome(state);
  }

  private closeStep(): void {
    if (this.progress.timings.some((t) => t.step === this.progress.step)) return;
    this.progress.timings.push({
      step: this.progress.step,
      startedAt: new Date(this.stepStartedAt).toISOString(),
      ms: Date.now() - this.stepStartedAt,
    });
    recordStepDuration(this.progress.step, Date.now() - this.stepStartedAt);
  }

  private recompute(): void {
    const { steps, stepIndex, bytesTotal, bytesCopied } = this.progress;
    const withinStep = this.progress.step === 'copy' && bytesTotal > 0 ? bytesCopied / bytesTotal : 0;
    this.progress.percent = Math.min(99, Math.floor((100 * (stepIndex + withinStep)) / Math.max(1, steps.length)));
  }
}
