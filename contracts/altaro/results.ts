/** What an Altaro run shows while it runs and returns at the end. */
import type { OperationSample, ReportResult } from '../../activities/altaro/activities';
import type { Progress, StepTiming } from '../progress';
import type { AltaroInstructionKind } from './instruction-kinds';

export interface AltaroOperationView {
  operationGuid?: string;
  status?: string;
  percentage?: number;
  subOperation?: string;
  polls: number;
}

/** The progress query of an Altaro run: the common fields plus the operation's live status. */
export type AltaroProgress = Progress & { operation: AltaroOperationView };

export interface AltaroOperationResult {
  provider: 'altaro';
  workflowType: string;
  workflowId: string;
  runId: string;
  endpoint: string;
  kind: AltaroInstructionKind;
  vmRef: string;
  operationGuid: string;
  /** success, or warning (the run succeeded; the report's warnings are in `warnings`). */
  outcome: 'success' | 'warning';
  warnings: string[];
  report: ReportResult['report'];
  reportType: ReportResult['type'];
  timeline: OperationSample[];
  polls: number;
  timings: StepTiming[];
  startedAt: string;
  completedAt: string;
}
