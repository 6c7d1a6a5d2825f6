/**
 * Altaro VM Backup: send an instruction (take-backup by default), track the operation until the
 * API no longer lists it, then decide the outcome from the VM's report. Cancelling the run aborts
 * the operation (abort-operation, non-cancellable) and waits until it is gone.
 */
import { ActivityCancellationType, ApplicationFailure, CancellationScope, isCancellation, log, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { AltaroActivities, OperationSample, PollSliceResult, ReportBaseline } from '../activities/altaro/activities';
import { altaroBackupInput, altaroOperationInput, type AltaroOperationParsed } from '../contracts/altaro/input';
import type { AltaroOperationResult, AltaroOperationView, AltaroProgress } from '../contracts/altaro/results';
import { ALTARO_STEPS } from '../contracts/altaro/steps';
import { describeFailure } from './shared/failures';
import { ProgressTracker } from './shared/progress';
import { undoRetry, vendorRetry } from './shared/retry-policies';
import { Saga, summarizeUndo } from './shared/saga';
import { parseWorkflowInput } from './shared/validate-input';
import { tagRun } from './shared/tag-run';

/** Timeline entries kept in the result (the oldest and newest always; the middle thinned). */
const MAX_TIMELINE = 240;
/**
 * Polling activities that end because time passed (not because the job moved), at most, over the
 * whole operation timeout: with the progress steps below, a run's history stays in the low
 * hundreds of events however long the operation runs (docs/altaro.md).
 */
const MAX_TIME_SLICES = 20;
/** The polling activity also returns when the operation's percentage moved this much. */
const PROGRESS_STEP_PERCENT = 10;
const HOUR_MS = 3_600_000;

const altaro = proxyActivities<AltaroActivities>({ startToCloseTimeout: '2 minutes', retry: vendorRetry });
/** The report wait runs up to reportTimeoutSeconds: its attempt must be allowed that long, and no longer. */
const reportReader = (reportTimeoutSeconds: number) =>
  proxyActivities<AltaroActivities>({ startToCloseTimeout: reportTimeoutSeconds * 1000 + 60_000, heartbeatTimeout: '10 seconds', retry: vendorRetry });
const altaroUndo = proxyActivities<AltaroActivities>({ startToCloseTimeout: '15 minutes', heartbeatTimeout: '30 seconds', retry: undoRetry });

export async function altaroOperation(rawInput: unknown): Promise<AltaroOperationResult> {
  const progress = new ProgressTracker('altaroOperation', ALTARO_STEPS);
  const input = parseWorkflowInput('altaroOperation', altaroOperationInput, rawInput);
  progress.about(`VM ${input.vmRef} on ${input.endpoint}`);
  return runAltaroOperation('altaroOperation', progress, input);
}

/** The take-backup shorthand the UI and schedules use. */
export async function altaroBackup(rawInput: unknown): Promise<AltaroOperationResult> {
  const progress = new ProgressTracker('altaroBackup', ALTARO_STEPS);
  const input = parseWorkflowInput('altaroBackup', altaroBackupInput, rawInput);
  progress.about(`VM ${input.vmRef} on ${input.endpoint}`);
  return runAltaroOperation('altaroBackup', progress, { ...input, kind: 'take-backup' });
}

function thin(timeline: OperationSample[]): OperationSample[] {
  if (timeline.length <= MAX_TIMELINE) return timeline;
  const first = timeline[0]!;
  const rest = timeline.slice(1, -1).filter((_, i) => i % 2 === 0);
  return [first, ...rest, timeline[timeline.length - 1]!];
}

async function runAltaroOperation(
  workflowType: string,
  progress: ProgressTracker,
  input: Omit<AltaroOperationParsed, 'options'> & { options?: AltaroOperationParsed['options'] },
): Promise<AltaroOperationResult> {
  const { workflowId, runId } = workflowInfo();
  const startedAt = new Date().toISOString();
  const { endpoint, vmRef, kind } = input;
  const view: AltaroOperationView = { polls: 0 };
  (progress.current as AltaroProgress).operation = view;
  tagRun('altaro', vmRef);
  const saga = new Saga();
  let timeline: OperationSample[] = [];
  let operationGuid: string | undefined;
  let abortAnswer: { apiSaid: string; accepted: boolean } | undefined;
  // The workflow hears from the polling activity at least every maxSliceMs (an hour, or longer for
  // long timeouts), and at every status change and progress step in between: the progress query
  // lags the operation by at most that, and the history does not grow with the operation's length.
  const maxSliceMs = Math.max(HOUR_MS, 10 * input.maxPollIntervalMs, Math.ceil((input.operationTimeoutHours * HOUR_MS) / MAX_TIME_SLICES));
  const poll = proxyActivities<AltaroActivities>({
    startToCloseTimeout: maxSliceMs + 120_000,
    // Short, so that a cancellation reaches the polling activity within seconds (heartbeats are
    // throttled to 80% of this).
    heartbeatTimeout: '5 seconds',
    retry: vendorRetry,
    // The activity ends its session when cancelled: wait for that before aborting.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  }).altaroPollOperation;

  try {
    progress.enter('instruct');
    await altaro.altaroCheckEndpoint({ endpoint });
    // The baseline must be read before the operation can write its report: read after the
    // instruction (runs started before this patch), a short operation or a slow reply made this
    // run's own report the baseline, and the report step then waited for one that never came.
    // deprecatePatch once no altaroOperation or altaroBackup run started before this patch can be open.
    let baseline: ReportBaseline | undefined;
    if (patched('altaro-report-baseline-before-instruction')) baseline = await altaro.altaroReportBaseline({ endpoint, kind, vmRef });
    // Registered before the instruction: whatever happens from here on, an operation this run
    // started is aborted (the guid is known once the instruction answered).
    const forgetAbort = saga.add(`abort ${kind} operation on VM ${vmRef}`, async () => {
      if (!operationGuid) return;
      abortAnswer = await altaroUndo.altaroAbortOperation({
        endpoint,
        operationGuid,
        pollMs: input.pollIntervalMs,
        timeoutMs: 10 * 60_000,
      });
    });
    try {
      // Not cancellable: a cancel while the instruction is on its way must still learn the guid,
      // so that the operation it may have started is aborted rather than left running.
      ({ operationGuid } = await CancellationScope.nonCancellable(() => altaro.altaroSendInstruction({ endpoint, kind, vmRef, options: input.options })));
      if (CancellationScope.current().consideredCancelled) await CancellationScope.current().cancelRequested;
    } catch (err) {
      // Refused (Success:false) or never answered: no guid, so there is nothing this run can abort.
      if (!isCancellation(err)) forgetAbort();
      throw err;
    }
    view.operationGuid = operationGuid;
    baseline ??= await altaro.altaroReportBaseline({ endpoint, kind, vmRef });

    progress.enter('track');
    const deadline = Date.now() + input.operationTimeoutHours * 3_600_000;
    let intervalMs = input.pollIntervalMs;
    let slice: PollSliceResult | undefined;
    for (;;) {
      slice = await poll({
        endpoint,
        operationGuid,
        intervalMs,
        maxIntervalMs: input.maxPollIntervalMs,
        maxSliceMs,
        progressStepPercent: PROGRESS_STEP_PERCENT,
        last: slice?.last,
      });
      intervalMs = slice.intervalMs;
      view.polls += slice.polls;
      timeline = thin([...timeline, ...slice.samples]);
      if (slice.last) {
        view.status = slice.last.status;
        view.percentage = slice.last.percent;
        view.subOperation = slice.last.subOperation;
        progress.update({ message: `${slice.last.status} ${slice.last.percent}%${slice.last.subOperation ? ` (${slice.last.subOperation})` : ''}` });
        // Percent of the whole run: the operation's own percentage within the track step.
        progress.current.percent = Math.min(99, Math.floor((100 * (2 + slice.last.percent / 100)) / ALTARO_STEPS.length));
      }
      if (slice.gone) break;
      if (Date.now() > deadline) {
        throw ApplicationFailure.nonRetryable(
          `operation ${operationGuid} still running after ${input.operationTimeoutHours} h (${view.status ?? '?'} ${view.percentage ?? 0}%)`,
          'VendorOperationStuck',
        );
      }
    }
    view.status = 'Gone';
    forgetAbort();

    progress.enter('report');
    const report = await reportReader(input.reportTimeoutSeconds).altaroReadReport({ endpoint, kind, vmRef, baseline, timeoutMs: input.reportTimeoutSeconds * 1000, pollMs: input.pollIntervalMs });
    if (report.result !== 'success' && report.result !== 'warning') {
      throw ApplicationFailure.create({
        type: 'AltaroOperationFailed',
        nonRetryable: true,
        message: `Altaro ${kind} of VM ${vmRef} ended "${report.report.Result}": ${report.report.Error || 'the report gives no error text'}`,
        details: [{ report: report.report }],
      });
    }
    const warnings = report.result === 'warning' ? [report.report.Error || 'the report says Warning without details'] : [];
    progress.update({ message: warnings.length ? `completed with warnings: ${warnings.join('; ')}` : `completed: ${report.report.Result}` });
    progress.finish('completed');
    return {
      provider: 'altaro',
      workflowType,
      workflowId,
      runId,
      endpoint,
      kind,
      vmRef,
      operationGuid,
      outcome: report.result === 'warning' ? 'warning' : 'success',
      warnings,
      report: report.report,
      reportType: report.type,
      timeline,
      polls: view.polls,
      timings: progress.current.timings,
      startedAt,
      completedAt: new Date().toISOString(),
    };
  } catch (err) {
    const failedStep = progress.current.step;
    progress.current.state = 'compensating';
    const outcomes = await saga.compensate();
    const undone = outcomes.filter((o) => o.ok).map((o) => o.label);
    const aborted = abortAnswer ? `abort-operation for ${operationGuid}: ${abortAnswer.apiSaid}` : operationGuid ? undefined : 'no operation had been started';
    if (isCancellation(err)) {
      progress.update({ message: `cancelled during "${failedStep}"; ${aborted ?? summarizeUndo(outcomes)}` });
      progress.finish('cancelled', undone);
      log.info('altaro run cancelled', { operationGuid, apiSaid: abortAnswer?.apiSaid });
      throw err;
    }
    progress.update({ message: describeFailure(err) });
    progress.finish('failed', undone);
    throw ApplicationFailure.create({
      type: 'BackupStepFailed',
      nonRetryable: true,
      message: `step "${failedStep}" failed: ${describeFailure(err)} — compensation: ${summarizeUndo(outcomes)}${abortAnswer ? ` (API: ${abortAnswer.apiSaid})` : ''}`,
      details: [{ step: failedStep, reason: describeFailure(err), operationGuid, compensation: outcomes }],
      cause: err instanceof Error ? err : undefined,
    });
  }
}
