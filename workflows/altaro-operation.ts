/**
 * Altaro VM Backup: send an instruction (take-backup by default), track the operation until the
 * API no longer lists it, then decide the outcome from the VM's report. Cancelling the run aborts
 * the operation (abort-operation, non-cancellable) and waits until it is gone.
 */
import { ApplicationFailure, CancellationScope, isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import type { z } from 'zod';
import type { AltaroActivities, OperationSample, PollSliceResult, ReportBaseline, ReportResult } from '../activities/altaro/activities';
import { ErrorTypes } from '../lib/errors';
import { altaroBackupInput, altaroOperationInput, type AltaroOperationParsed } from '../contracts/altaro/input';
import { quickCall, undoStep, waitUpTo } from './shared/activity-options';
import { openRun, type WorkflowRun } from './shared/workflow-run';
import type { AltaroOperationResult, AltaroOperationView } from '../contracts/altaro/results';
import { ALTARO_STEPS } from '../contracts/altaro/steps';

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

const altaro = proxyActivities<AltaroActivities>(quickCall);
/** The report wait runs up to reportTimeoutSeconds: its attempt must be allowed that long, and not much longer. */
const reportReader = (reportTimeoutSeconds: number) => proxyActivities<AltaroActivities>(waitUpTo(reportTimeoutSeconds * 1000, { heartbeatTimeout: '10 seconds' }));
const altaroUndo = proxyActivities<AltaroActivities>(undoStep);

type AltaroInput = Omit<AltaroOperationParsed, 'options'> & { options?: AltaroOperationParsed['options'] };

/** The opening of both Altaro workflows: the run is about one VM. */
function openAltaroRun<S extends z.ZodType<{ endpoint: string; vmRef: string }>>(workflowType: string, input: S, rawInput: unknown): WorkflowRun<z.output<S>> {
  return openRun({ workflowType, steps: ALTARO_STEPS, input, about: (i) => `VM ${i.vmRef} on ${i.endpoint}`, tag: (i) => ({ provider: 'altaro', vmId: i.vmRef }) }, rawInput);
}

export async function altaroOperation(rawInput: unknown): Promise<AltaroOperationResult> {
  const run = openAltaroRun('altaroOperation', altaroOperationInput, rawInput);
  return runAltaroOperation(run, run.input);
}

/** The take-backup shorthand the UI and schedules use. */
export async function altaroBackup(rawInput: unknown): Promise<AltaroOperationResult> {
  const run = openAltaroRun('altaroBackup', altaroBackupInput, rawInput);
  return runAltaroOperation(run, { ...run.input, kind: 'take-backup' });
}

function thin(timeline: OperationSample[]): OperationSample[] {
  if (timeline.length <= MAX_TIMELINE) return timeline;
  const first = timeline[0]!;
  const rest = timeline.slice(1, -1).filter((_, i) => i % 2 === 0);
  return [first, ...rest, timeline[timeline.length - 1]!];
}

async function runAltaroOperation(run: WorkflowRun<unknown>, input: AltaroInput): Promise<AltaroOperationResult> {
  const { progress, workflowId, runId } = run;
  const workflowType = progress.current.workflowType;
  const { endpoint, vmRef, kind } = input;
  const view: AltaroOperationView = { polls: 0 };
  progress.attach({ operation: view });
  let timeline: OperationSample[] = [];
  let operationGuid: string | undefined;
  let abortAnswer: { apiSaid: string; accepted: boolean } | undefined;
  let abortNote: string | undefined;
  // The workflow hears from the polling activity at least every maxSliceMs (an hour, or longer for
  // long timeouts), and at every status change and progress step in between: the progress query
  // lags the operation by at most that, and the history does not grow with the operation's length.
  const maxSliceMs = Math.max(HOUR_MS, 10 * input.maxPollIntervalMs, Math.ceil((input.operationTimeoutHours * HOUR_MS) / MAX_TIME_SLICES));
  const poll = proxyActivities<AltaroActivities>(
    // A short heartbeat timeout, so that a cancellation reaches the polling activity within seconds
    // (heartbeats are throttled to 80% of it); the activity ends its session when cancelled: the
    // abort waits for that.
    waitUpTo(maxSliceMs, { heartbeatTimeout: '5 seconds', waitForCancel: true }),
  ).altaroPollOperation;

  // The abort's answer stands in the failure and in progress: the vendor's own account of the undo.
  const ending = () => ({
    undoNote: abortAnswer ? `abort-operation for ${operationGuid}: ${abortAnswer.apiSaid}` : abortNote,
    details: { operationGuid },
  });
  return run.steps(async () => {
    progress.enter('instruct');
    await altaro.altaroCheckEndpoint({ endpoint });
    // The baseline must be read before the operation can write its report: read after the
    // instruction (runs started before this patch), a short operation or a slow reply made this
    // run's own report the baseline, and the report step then waited for one that never came.
    // deprecatePatch once no Altaro run started before this change can be open.
    let baseline: ReportBaseline | undefined;
    if (patched('altaro-report-baseline-before-instruction')) baseline = await altaro.altaroReportBaseline({ endpoint, kind, vmRef });
    // Registered before the instruction: whatever happens from here on, an operation this run
    // started is aborted (the guid is known once the instruction answered).
    const forgetAbort = run.undo(`abort ${kind} operation on VM ${vmRef}`, async () => {
      if (!operationGuid) {
        abortNote = 'no operation had been started';
        return;
      }
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
        progress.stepPercent(slice.last.percent);
      }
      if (slice.gone) break;
      if (Date.now() > deadline) {
        throw ApplicationFailure.nonRetryable(`operation ${operationGuid} still running after ${input.operationTimeoutHours} h (${view.status ?? '?'} ${view.percentage ?? 0}%)`, ErrorTypes.stuck);
      }
    }
    view.status = 'Gone';
    forgetAbort();

    progress.enter('report');
    const report = await reportReader(input.reportTimeoutSeconds).altaroReadReport({ endpoint, kind, vmRef, baseline, timeoutMs: input.reportTimeoutSeconds * 1000, pollMs: input.pollIntervalMs });
    if (report.result !== 'success' && report.result !== 'warning') {
      throw ApplicationFailure.create({
        type: ErrorTypes.altaroOperationFailed,
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
      ...run.times(),
    };
  }, ending);
}
