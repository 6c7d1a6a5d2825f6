/** What every run shows through the `progress` query; workflows/shared/progress.ts keeps it up to date. */

/** `cancelling`: a cancel was asked for and the step in flight has not stopped yet; `compensating`: the undos run. */
export type RunState = 'running' | 'cancelling' | 'compensating' | 'needs-attention' | 'completed' | 'failed' | 'cancelled';

export interface Progress {
  workflowType: string;
  state: RunState;
  step: string;
  stepIndex: number;
  steps: readonly string[];
  percent: number;
  disksTotal: number;
  disksDone: number;
  bytesTotal: number;
  bytesCopied: number;
  message?: string;
  /** Undo steps taken, once compensation ran. */
  undone: string[];
  /** Undo steps that keep failing while the run waits for an operator (state needs-attention). */
  leftovers?: Array<{ label: string; error: string }>;
  timings: StepTiming[];
}

export interface StepTiming {
  step: string;
  startedAt: string;
  ms: number;
}
