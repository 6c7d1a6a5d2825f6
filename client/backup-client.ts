/**
 * The typed client library: start, execute, follow, result, cancel, status and list for every
 * workflow, with input checked by the workflows' own schemas before anything reaches the server.
 */
import { randomUUID } from 'node:crypto';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import proto from '@temporalio/proto';
import { ApplicationFailure, CancelledFailure, type Payload } from '@temporalio/common';
import { dataConverterFromEnv } from '../lib/codec/keys';
import { ErrorTypes } from '../lib/errors';
import { temporalSettings, type TemporalSettings } from '../lib/temporal/settings';
import { ConnectionSettingsError, connectionFailureHint, describeTemporalAuth, temporalConnectionOptions } from '../lib/temporal/connection';
import type { Progress } from '../contracts/progress';
import { decodePayload } from './decode-payload';
import {
  ActionRefusedError,
  InvalidInputError,
  NotFoundError,
  RunAlreadyEndedError,
  RunCancelledError,
  RunFailedError,
  ServerUnreachableError,
  ConnectionSettingsRefusedError,
  type UndoAccount,
} from './errors';
import { operatorActions, type CleanupAnswer, type OperatorAction } from '../contracts/operator-actions';
import { readFleetTable, type FleetTable } from './fleet-table';
import { catalogEntry, workflowCatalog, workflowIdFor, type WorkflowInput, type WorkflowType } from '../contracts/catalog';

export interface StartOptions {
  /** Default: backup-<provider>-<vm> for backups (one at a time per VM), <type>-<random> otherwise. */
  workflowId?: string;
  taskQueue?: string;
}

export interface StartedRun {
  workflowId: string;
  runId: string;
  /** True when a run with this id was already running and no new one was started. */
  alreadyRunning: boolean;
}

export interface RunStatus {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  startTime: Date;
  closeTime?: Date;
  taskQueue: string;
  progress?: Progress;
  /** Live bytes from the copy activity's heartbeat, when a copy is running. */
  liveBytes?: number;
  /** Why an open run makes no progress no matter how long one waits: no worker polls its queue, or none can run its type. */
  problem?: string;
  /**
   * What a polling activity saw at its last poll (a vendor job's status and percentage), from its
   * heartbeat: newer than the progress query, which hears of a long job only at its steps.
   */
  live?: string;
}

export interface RunListing {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  provider?: string;
  vmId?: string;
  step?: string;
  outcome?: string;
  startTime: Date;
  closeTime?: Date;
}

export interface ListFilter {
  provider?: string;
  vmId?: string;
  /** Running, Completed, Failed, Canceled, Terminated, TimedOut. */
  status?: string;
  type?: string;
  limit?: number;
}

const STATUS_NAMES: Record<string, string> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  canceled: 'Canceled',
  terminated: 'Terminated',
  timedout: 'TimedOut',
};

/** How long `status` waits for the run's progress query. */
const STATUS_QUERY_MS = 5_000;

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export class BackupClient {
  constructor(
    readonly client: Client,
    readonly taskQueue: string,
  ) {}

  static async connect(env: NodeJS.ProcessEnv = process.env): Promise<BackupClient> {
    let settings: TemporalSettings;
    let options: ReturnType<typeof temporalConnectionOptions>;
    try {
      settings = temporalSettings(env);
      options = temporalConnectionOptions(settings.connection);
    } catch (err) {
      if (err instanceof ConnectionSettingsError) throw new ConnectionSettingsRefusedError(err.message);
      throw err;
    }
    const connection = await Connection.connect(options).catch((err: unknown) => {
      const message = (err as Error).message;
      const hint = connectionFailureHint(settings.connection, message);
      throw new ServerUnreachableError(
        `cannot reach the Temporal server at ${settings.address} (${settings.addressSource}) with ${describeTemporalAuth(settings.connection)}: ${message}${hint ? `\n  ${hint}` : ''}`,
      );
    });
    return new BackupClient(new Client({ connection, namespace: settings.namespace, dataConverter: dataConverterFromEnv(env) }), settings.taskQueue);
  }

  /** Checks an input against the workflow's schema; returns it unchanged (defaults stay the workflow's). */
  validate(workflowType: string, input: unknown): Record<string, unknown> {
    const entry = catalogEntry(workflowType);
    if (!entry) throw new InvalidInputError([`unknown workflow type; known: ${Object.keys(workflowCatalog).join(', ')}`], workflowType);
    const parsed = entry.input.safeParse(input);
    if (!parsed.success) {
      throw new InvalidInputError(
        parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`),
        workflowType,
      );
    }
    return input as Record<string, unknown>;
  }

  /** Starts a run; when one with the same id is already running, returns that one instead. */
  async start<T extends WorkflowType>(workflowType: T, input: WorkflowInput<T>, options?: StartOptions): Promise<StartedRun>;
  async start(workflowType: string, input: unknown, options?: StartOptions): Promise<StartedRun>;
  async start(workflowType: string, input: unknown, options: StartOptions = {}): Promise<StartedRun> {
    const args = this.validate(workflowType, input);
    const entry = catalogEntry(workflowType)!;
    const workflowId = options.workflowId ?? workflowIdFor(workflowType, args, randomUUID().slice(0, 8));
    const subject = entry.subject(args);
    try {
      const handle = await this.client.workflow.start(workflowType, {
        taskQueue: options.taskQueue ?? this.taskQueue,
        workflowId,
        args: [args],
        staticSummary: `${workflowType}${subject ? ` of ${subject}` : ''}${typeof args.endpoint === 'string' ? ` on ${args.endpoint}` : ''}`,
      });
      return { workflowId, runId: handle.firstExecutionRunId, alreadyRunning: false };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        const description = await this.handle(workflowId).describe();
        return { workflowId, runId: description.runId, alreadyRunning: true };
      }
      throw err;
    }
  }

  /** Starts (or joins) a run and waits for its result. */
  async execute<T extends WorkflowType>(workflowType: T, input: WorkflowInput<T>, options?: StartOptions): Promise<unknown>;
  async execute(workflowType: string, input: unknown, options?: StartOptions): Promise<unknown>;
  async execute(workflowType: string, input: unknown, options: StartOptions = {}): Promise<unknown> {
    const run = await this.start(workflowType, input, options);
    return this.result(run.workflowId);
  }

  handle(workflowId: string): WorkflowHandle {
    return this.client.workflow.getHandle(workflowId);
  }

  async status(workflowId: string): Promise<RunStatus> {
    const handle = this.handle(workflowId);
    const description = await handle.describe().catch(notFound(workflowId));
    const problem = description.status.name === 'RUNNING' ? await this.whyStuck(handle, description) : undefined;
    let progress: Progress | undefined;
    try {
      // A run no worker can run would not answer (a query waits for a worker): not asked.
      // A first workflow task that is failing holds a query until it gives up: status does not wait that long.
      if (!problem) progress = await this.client.connection.withDeadline(Date.now() + STATUS_QUERY_MS, () => handle.query<Progress>('progress'));
    } catch {
      // A run whose worker is down, or that failed validation before registering the query.
    }
    let liveBytes: number | undefined;
    let live: string | undefined;
    for (const activity of description.raw.pendingActivities ?? []) {
      const payload = activity.heartbeatDetails?.payloads?.[0];
      if (!payload) continue;
      const value = await decodePayload<{ offset?: number; live?: string } | undefined>(this.client, payload as Payload);
      if (typeof value?.offset === 'number') liveBytes = (liveBytes ?? 0) + value.offset;
      if (typeof value?.live === 'string') live = value.live;
    }
    return {
      workflowId,
      runId: description.runId,
      type: description.type,
      status: description.status.name,
      startTime: description.startTime,
      closeTime: description.closeTime,
      taskQueue: description.taskQueue,
      progress,
      liveBytes,
      live,
      ...(problem ? { problem } : {}),
    };
  }

  /**
   * An open run that cannot move: its workflow task keeps failing (the type is not registered on
   * the queue's workers, or the code throws before it starts), or no worker polls its queue.
   */
  private async whyStuck(handle: WorkflowHandle, description: WorkflowExecutionDescription): Promise<string | undefined> {
    const task = description.raw.pendingWorkflowTask;
    if (!task) return undefined;
    const queue = description.taskQueue;
    if ((task.attempt ?? 1) > 1) {
      let reason = 'its workflow task keeps failing';
      for (const event of (await handle.fetchHistory()).events ?? []) {
        const failure = event.workflowTaskFailedEventAttributes?.failure;
        if (failure?.message) reason = failure.message;
      }
      const known = catalogEntry(description.type) ? '' : `; no workflow of this project is called "${description.type}" (backupctl workflows lists them)`;
      return `no worker on task queue ${queue} can run it: ${reason} (attempt ${task.attempt})${known}`;
    }
    const pollers = await this.client.workflowService
      .describeTaskQueue({ namespace: this.client.options.namespace, taskQueue: { name: queue }, taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW })
      .then((r) => r.pollers?.length ?? 0)
      .catch(() => undefined);
    return pollers === 0 ? `no worker polls task queue ${queue}: the run waits until one does (is the worker running, on this queue?)` : undefined;
  }

  /** Yields the run's status every interval until it closes. */
  async *follow(workflowId: string, intervalMs = 1000): AsyncGenerator<RunStatus> {
    for (;;) {
      const status = await this.status(workflowId);
      yield status;
      if (status.status !== 'RUNNING') return;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  async result<T = unknown>(workflowId: string): Promise<T> {
    try {
      return (await this.handle(workflowId).result()) as T;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no run with id ${workflowId}`);
      if (err instanceof WorkflowFailedError) {
        if (err.cause instanceof CancelledFailure) throw new RunCancelledError(workflowId, await this.undoAccount(workflowId));
        const cause = err.cause as ApplicationFailure | undefined;
        if (cause?.type === ErrorTypes.invalidInput) throw new InvalidInputError([cause.message], workflowId);
        throw new RunFailedError(cause?.message ?? err.message, cause?.details, undoAccountOf(cause?.details));
      }
      throw err;
    }
  }

  /** What a closed run undid and left behind, from its progress query (a worker answers it); undefined when none can. */
  private async undoAccount(workflowId: string): Promise<UndoAccount | undefined> {
    // A closed run answers a query only once a worker has replayed it: on a busy worker the first
    // ask can fail (seen in CI: the account was missing), so it is asked up to three times.
    for (let attempt = 1; ; attempt++) {
      try {
        const p = await this.handle(workflowId).query<Progress>('progress');
        return { step: p.step, undone: p.undone, leftBehind: p.leftovers ?? [] };
      } catch {
        if (attempt >= 3) return undefined;
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
  }

  /**
   * Every VM of a fleet (fleetBackup) with its outcome and reason, read back from the histories of
   * all the runs of its chain; while it runs, the rows it has not recorded yet are asked for too.
   */
  async fleetTable(workflowId: string): Promise<FleetTable> {
    return readFleetTable(this.client, workflowId).catch(notFound(workflowId));
  }

  /** Asks the run to cancel; a run that had already ended is RunAlreadyEndedError (too late: nothing is undone). */
  async cancel(workflowId: string): Promise<void> {
    const handle = this.handle(workflowId);
    const tooLate = (status: string) => new RunAlreadyEndedError(workflowId, status, 'the cancel came too late; nothing was cancelled or undone');
    const before = await handle.describe().catch(notFound(workflowId));
    if (before.status.name !== 'RUNNING') throw tooLate(before.status.name);
    await handle.cancel().catch(async (err: unknown) => {
      // It ended between the look and the cancel: the server no longer knows an open run by this id.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      throw tooLate((await handle.describe().catch(notFound(workflowId))).status.name);
    });
  }

  /**
   * An operator's answer to a run that waits in "needs attention": retry the failed undos, or give
   * up and report. Sent as the `cleanup` update: refused (ActionRefusedError) when the run waits for
   * no decision; answered with the undos the decision applies to.
   */
  async resolveCleanup(workflowId: string, action: 'retry' | 'give-up', note?: string): Promise<CleanupAnswer> {
    return (await this.update(workflowId, 'cleanup', { action, ...(note === undefined ? {} : { note }) })) as CleanupAnswer;
  }

  /** What a run accepts from a person (updates, signals, queries), from its workflow type. */
  async actions(workflowId: string): Promise<{ workflowId: string; type: string; status: string; actions: OperatorAction[] }> {
    const description = await this.handle(workflowId).describe().catch(notFound(workflowId));
    return { workflowId, type: description.type, status: description.status.name, actions: operatorActions(description.type) };
  }

  /** Sends an update the run's type accepts and returns its answer; a refusal is ActionRefusedError. */
  async update(workflowId: string, name: string, arg?: unknown): Promise<unknown> {
    await this.accepting(workflowId, name, 'update', `the "${name}" update was not sent`);
    try {
      const handle = this.handle(workflowId);
      return await (arg === undefined ? handle.executeUpdate(name) : handle.executeUpdate(name, { args: [arg] }));
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) throw new ActionRefusedError(`${workflowId} refused "${name}": ${err.cause.message}`);
      throw notFound(workflowId)(err);
    }
  }

  /** Sends a signal the run's type accepts (no answer: prefer `update` where the type has one). */
  async signal(workflowId: string, name: string, arg?: unknown): Promise<void> {
    await this.accepting(workflowId, name, 'signal', `the "${name}" signal was not sent`);
    await this.handle(workflowId)
      .signal(name, ...(arg === undefined ? [] : [arg]))
      .catch(notFound(workflowId));
  }

  /** Asks a query the run's type answers (a closed run still answers, from its history). */
  async query(workflowId: string, name: string, arg?: unknown): Promise<unknown> {
    const { type, actions } = await this.actions(workflowId);
    if (!actions.some((a) => a.kind === 'query' && a.name === name)) throw unaccepted(type, name, 'query', actions);
    return this.handle(workflowId)
      .query(name, ...(arg === undefined ? [] : [arg]))
      .catch(notFound(workflowId));
  }

  /** The run is open and its type takes `name` as `kind`; otherwise says what it takes, or that it ended. */
  private async accepting(workflowId: string, name: string, kind: 'update' | 'signal', notSent: string): Promise<void> {
    const { type, status, actions } = await this.actions(workflowId);
    if (!actions.some((a) => a.name === name && (kind === 'update' ? a.kind === 'update' : a.signal))) throw unaccepted(type, name, kind, actions);
    if (status !== 'RUNNING') throw new RunAlreadyEndedError(workflowId, status, notSent);
  }

  /** Recent runs from visibility, newest first, filtered by the search attributes every run sets. */
  async list(filter: ListFilter = {}): Promise<RunListing[]> {
    const clauses: string[] = [];
    if (filter.provider) clauses.push(`BackupProvider = ${quote(filter.provider)}`);
    if (filter.vmId) clauses.push(`BackupVmId = ${quote(filter.vmId)}`);
    if (filter.type) clauses.push(`WorkflowType = ${quote(filter.type)}`);
    if (filter.status) {
      const status = STATUS_NAMES[filter.status.toLowerCase()];
      if (!status) throw new InvalidInputError([`status must be one of ${Object.keys(STATUS_NAMES).join(', ')}`], 'list');
      clauses.push(`ExecutionStatus = ${quote(status)}`);
    }
    const runs: RunListing[] = [];
    const limit = filter.limit ?? 20;
    for await (const execution of this.client.workflow.list({ query: clauses.join(' AND ') || undefined, pageSize: Math.min(limit, 100) })) {
      const sa = execution.searchAttributes as Record<string, unknown[] | undefined>;
      runs.push({
        workflowId: execution.workflowId,
        runId: execution.runId,
        type: execution.type,
        status: execution.status.name,
        provider: sa.BackupProvider?.[0] as string | undefined,
        vmId: sa.BackupVmId?.[0] as string | undefined,
        step: sa.BackupStep?.[0] as string | undefined,
        outcome: sa.BackupOutcome?.[0] as string | undefined,
        startTime: execution.startTime,
        closeTime: execution.closeTime,
      });
      if (runs.length >= limit) break;
    }
    return runs;
  }

  async close(): Promise<void> {
    await this.client.connection.close();
  }
}

/** A failed run's account of its undos, from the failure's details (workflows/shared/fail-run.ts). */
function undoAccountOf(details: unknown): UndoAccount | undefined {
  const first = (Array.isArray(details) ? details[0] : undefined) as { step?: string; compensation?: Array<{ label: string; ok: boolean; error?: string; leftover?: boolean }> } | undefined;
  if (!first?.compensation) return undefined;
  return {
    step: first.step ?? '',
    undone: first.compensation.filter((o) => o.ok).map((o) => o.label),
    leftBehind: first.compensation.filter((o) => !o.ok).map((o) => ({ label: o.label, error: o.error ?? '' })),
  };
}

/**
 * How many items a completed run reports as failed (a bulk delete's `failed`, a fleet's
 * `counts.failed`): the run completed, but not everything it was asked to do was done.
 */
export function failedItemsOf(result: unknown): number {
  const r = result as { failed?: unknown; counts?: { failed?: unknown } } | null;
  const failed = typeof r?.failed === 'number' ? r.failed : typeof r?.counts?.failed === 'number' ? r.counts.failed : 0;
  return failed > 0 ? failed : 0;
}

function unaccepted(type: string, name: string, kind: 'update' | 'signal' | 'query', actions: OperatorAction[]): InvalidInputError {
  const names = actions.filter((a) => (kind === 'signal' ? a.signal : a.kind === kind)).map((a) => a.name);
  return new InvalidInputError([`${type} runs take no ${kind} "${name}"; ${names.length ? `they take: ${names.join(', ')}` : `they take no ${kind}`} (backupctl ${kind} <id> lists all)`], kind);
}

function notFound(workflowId: string) {
  return (err: unknown): never => {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no run with id ${workflowId}`);
    throw err;
  };
}
