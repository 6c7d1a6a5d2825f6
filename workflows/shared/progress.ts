/**
 * Progress that every workflow exposes through the `progress` query (the step a running run is in,
 * live) and the BackupStep search attribute (the step a run failed, was cancelled or needs
 * attention in: set when the run stops being ordinary, as each upsert is a billable action on
 * Temporal Cloud; docs/web-ui.md).
 */
import { defineQuery, patched, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Progress, RunState } from '../../contracts/progress';
import { BackupOutcome, BackupStep } from '../../contracts/search-attributes';
import { recordBackupOutcome, recordBackupSuccess, recordStepDuration } from '../../lib/metrics/workflow-metrics';

export const progressQuery = defineQuery<Progress>('progress');

export class ProgressTracker {
  private readonly progress: Progress;
  private stepStartedAt = 0;
  private subject = '';
  /** How far the current step is (0..1), when the step itself knows (a vendor job's percentage). */
  private withinStep = 0;
  /** Fields one workflow adds to its progress (Altaro's live operation view), shown as they change. */
  private extra: object = {};
  /**
   * Whether every step is written to BackupStep as it is entered (runs started before
   * backup-step-on-trouble), or only the steps in `searchedSteps` and the step a run fails, is
   * cancelled or waits for an operator in.
   */
  private readonly everyStepInSearch: boolean;

  /** `searchedSteps`: steps written to BackupStep as soon as they are entered, as something outside the run reads them even from a terminated run (the reaper: a run that reached its product step). */
  constructor(
    workflowType: string,
    steps: readonly string[],
    private readonly searchedSteps: readonly string[] = [],
  ) {
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
    // backup-step-on-trouble: BackupStep was upserted at every step (8 billable actions of an oVirt
    // backup's ~32 on Temporal Cloud); now it is set when the run starts compensating, ends failed
    // or cancelled, or needs attention (with BackupOutcome, in one upsert), and a running run's step
    // is its progress query. Checked here, in every run's first workflow task; runs started before
    // replay with their per-step upserts. deprecatePatch once no run started before can be open.
    this.everyStepInSearch = !patched('backup-step-on-trouble');
  }

  snapshot(): Progress {
    return { ...this.progress, ...this.extra, undone: [...this.progress.undone], timings: [...this.progress.timings] };
  }

  /** Read-only: progress changes through the methods below, so the query, details and search attributes agree. */
  get current(): Readonly<Progress> {
    return this.progress;
  }

  /** Adds fields of the workflow's own to the progress query; the object is shown as it is at each query. */
  attach(extra: object): void {
    this.extra = extra;
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
    // A cancel asked for during a step whose activity is let finish (a forward create) surfaces only
    // at the next step's first call: the run stays in the step it was cancelled in, so its progress
    // and BackupStep name that step. Runs that entered the next step before this check replay as they
    // ran (no marker); deprecatePatch once no run cancelled before it can still be open.
    if (this.progress.state === 'cancelling' && patched('cancelled-run-keeps-its-step')) return;
    this.closeStep();
    const index = this.progress.steps.indexOf(step);
    this.progress.step = step;
    this.progress.stepIndex = index >= 0 ? index : this.progress.stepIndex;
    this.withinStep = 0;
    this.stepStartedAt = Date.now();
    this.recompute();
    this.showDetails();
    if (this.everyStepInSearch || this.searchedSteps.includes(step)) upsertSearchAttributes([{ key: BackupStep, value: step }]);
  }

  /** The step a run that is no longer ordinary stopped in, with its outcome so far, in one upsert. */
  private markTrouble(outcome: string): void {
    upsertSearchAttributes([
      { key: BackupStep, value: this.progress.step },
      { key: BackupOutcome, value: outcome },
    ]);
  }

  /** The Saga's hook: an undo keeps failing and the run waits for an operator, or no longer does. */
  needsAttention(leftovers: Array<{ label: string; error: string }>): void {
    if (leftovers.length) upsertSearchAttributes([{ key: BackupOutcome, value: 'needs-attention' }]);
    // An operator's retry: the run compensates again (runs started before kept "needs-attention" until they ended).
    else if (!this.everyStepInSearch && this.progress.state === 'needs-attention') this.markTrouble('compensating');
    this.progress.state = leftovers.length ? 'needs-attention' : 'compensating';
    this.progress.leftovers = leftovers.length ? leftovers : undefined;
    this.progress.message = leftovers.length
      ? `needs attention: ${leftovers.map((l) => `${l.label} (${l.error})`).join('; ')}; answer with backupctl cleanup ${workflowInfo().workflowId} --retry|--give-up (or the "cleanup" update or signal with {"action":"retry"} or {"action":"give-up"})`
      : undefined;
    this.showDetails();
  }

  update(patch: Partial<Pick<Progress, 'disksTotal' | 'disksDone' | 'bytesTotal' | 'bytesCopied' | 'message'>>): void {
    Object.assign(this.progress, patch);
    this.recompute();
  }

  /** How far the current step is, in percent, when the vendor says (the copy step counts its bytes instead). */
  stepPercent(percent: number): void {
    this.withinStep = Math.max(0, Math.min(100, percent)) / 100;
    this.recompute();
  }

  /** A cancel was asked for: the step in flight is being stopped (a create waits for its answer) before the undos run. */
  cancelling(): void {
    if (this.progress.state !== 'running') return;
    this.progress.state = 'cancelling';
    this.showDetails();
  }

  /** The run failed or was cancelled and now runs its undos. */
  compensating(): void {
    this.progress.state = 'compensating';
    this.showDetails();
    if (!this.everyStepInSearch) this.markTrouble('compensating');
  }

  /** `leftovers`: undos an operator gave up on; the vendor objects are still there. */
  finish(state: Exclude<RunState, 'running' | 'cancelling' | 'compensating'>, undone: string[] = [], leftovers: Array<{ label: string; error: string }> = []): void {
    this.closeStep();
    this.progress.state = state;
    this.progress.undone = undone;
    if (leftovers.length) this.progress.leftovers = leftovers;
    if (state === 'completed') this.progress.percent = 100;
    this.showDetails();
    if (state !== 'completed' && !this.everyStepInSearch) this.markTrouble(state);
    else upsertSearchAttributes([{ key: BackupOutcome, value: state }]);
    recordBackupOutcome(state);
    if (state === 'completed') recordBackupSuccess();
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
    const withinStep = this.progress.step === 'copy' && bytesTotal > 0 ? bytesCopied / bytesTotal : this.withinStep;
    this.progress.percent = Math.min(99, Math.floor((100 * (stepIndex + withinStep)) / Math.max(1, steps.length)));
  }
}
