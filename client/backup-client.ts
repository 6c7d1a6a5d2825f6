/**
 * The typed client library: start, follow, result, cancel and status for every workflow, with
 * input checked by the workflows' own schemas before anything reaches the server.
 */
import { randomUUID } from 'node:crypto';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type WorkflowHandle,
} from '@temporalio/client';
import { CancelledFailure, defaultPayloadConverter, type ApplicationFailure } from '@temporalio/common';
import { temporalSettings } from '../lib/temporal/settings';
import type { Progress } from '../workflows/shared/progress';
import { InvalidInputError, NotFoundError, RunCancelledError, RunFailedError } from './errors';
import { workflowCatalog } from './workflow-catalog';

export interface StartOptions {
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
}

export class BackupClient {
  constructor(
    readonly client: Client,
    readonly taskQueue: string,
  ) {}

  static async connect(env: NodeJS.ProcessEnv = process.env): Promise<BackupClient> {
    const settings = temporalSettings(env);
    const connection = await Connection.connect({ address: settings.address });
    return new BackupClient(new Client({ connection, namespace: settings.namespace }), settings.taskQueue);
  }

  validate(workflowType: string, input: unknown): Record<string, unknown> {
    const entry = workflowCatalog[workflowType];
    if (!entry) throw new InvalidInputError([`unknown workflow type; known: ${Object.keys(workflowCatalog).join(', ')}`], workflowType);
    const parsed = entry.input.safeParse(input);
    if (!parsed.success) {
      throw new InvalidInputError(
        parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`),
        workflowType,
      );
    }
    // The raw input is sent, not the parsed one: defaults stay the workflow's to apply.
    return input as Record<string, unknown>;
  }

  /** Starts a run; when one with the same id is already running, returns that one instead. */
  async start(workflowType: string, input: unknown, options: StartOptions = {}): Promise<StartedRun> {
    const args = this.validate(workflowType, input);
    const workflowId = options.workflowId ?? `${workflowType}-${randomUUID().slice(0, 8)}`;
    try {
      const handle = await this.client.workflow.start(workflowType, {
        taskQueue: options.taskQueue ?? this.taskQueue,
        workflowId,
        args: [args],
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

  handle(workflowId: string): WorkflowHandle {
    return this.client.workflow.getHandle(workflowId);
  }

  async status(workflowId: string): Promise<RunStatus> {
    const handle = this.handle(workflowId);
    const description = await handle.describe().catch(notFound(workflowId));
    let progress: Progress | undefined;
    try {
      progress = await handle.query<Progress>('progress');
    } catch {
      // A run whose worker is down, or that failed validation before registering the query.
    }
    let liveBytes: number | undefined;
    for (const activity of description.raw.pendingActivities ?? []) {
      const payload = activity.heartbeatDetails?.payloads?.[0];
      if (!payload) continue;
      const details = defaultPayloadConverter.fromPayload<{ offset?: number }>(payload as never);
      if (typeof details?.offset === 'number') liveBytes = (liveBytes ?? 0) + details.offset;
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
    };
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
        if (err.cause instanceof CancelledFailure) throw new RunCancelledError(workflowId);
        const cause = err.cause as ApplicationFailure | undefined;
        if (cause?.type === 'InvalidInput') throw new InvalidInputError([cause.message], workflowId);
        throw new RunFailedError(cause?.message ?? err.message, cause?.details);
      }
      throw err;
    }
  }

  async cancel(workflowId: string): Promise<void> {
    await this.handle(workflowId).cancel().catch(notFound(workflowId));
  }

  async close(): Promise<void> {
    await this.client.connection.close();
  }
}

function notFound(workflowId: string) {
  return (err: unknown): never => {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no run with id ${workflowId}`);
    throw err;
  };
}
