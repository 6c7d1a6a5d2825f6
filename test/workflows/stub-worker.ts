/**
 * One time-skipping server and one worker per test file, serving every workflow with stubbed
 * activities (test/helpers/stub-activities.ts). Each run of a test has its own script, keyed by
 * workflow id: which activity fails, hangs until cancelled or undoes slowly. Every call is logged
 * per workflow id, in order, so a test asserts which steps and undos ran, as a user would read
 * them off the vendor.
 */
import { Context, activityInfo } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, TerminatedFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, vi } from 'vitest';
import type { Progress } from '../../contracts/progress';
import { repositoryFilesTaskQueueFor } from '../../lib/temporal/task-queues';
import { BackupOutcome, BackupStep } from '../../contracts/search-attributes';
import { AlertInbox, type Stub, type Stubs } from '../helpers/stub-activities';
import { startTimeSkippingTemporal, testDataConverter, workflowBundle } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';

/** A scripted activity: gets the input and the default stub, and the run's log to note what it did. */
export type Scripted = (input: any, context: { base: Stub; note: (entry: string) => void }) => Promise<unknown>;
export type Script = Record<string, Scripted>;

export class StubWorld {
  /** The alerts runs sent (sendAlert is answered by it unless a file's stubs say otherwise). */
  readonly alerts = new AlertInbox();
  private readonly scripts = new Map<string, Script>();
  private readonly logs = new Map<string, string[]>();

  /**
   * Every stub wrapped: logged under the calling run's workflow id (as its name, plus what
   * `detail` says of its input, e.g. which disk), then scripted or answered as usual.
   */
  activities(base: Stubs, detail: (name: string, input: any) => string | undefined = () => undefined): Stubs {
    return Object.fromEntries(
      Object.entries(base).map(([name, stub]) => [
        name,
        async (input: unknown) => {
          const workflowId = activityInfo().workflowExecution?.workflowId ?? '';
          const note = (entry: string) => this.logOf(workflowId).push(entry);
          const about = detail(name, input);
          note(about ? `${name} ${about}` : name);
          const scripted = this.scripts.get(workflowId)?.[name];
          return scripted ? scripted(input, { base: stub, note }) : stub(input);
        },
      ]),
    );
  }

  script(workflowId: string, script: Script): void {
    this.scripts.set(workflowId, script);
  }

  /** What a run called, in order (scripted activities add their own entries). */
  log(workflowId: string): string[] {
    return [...this.logOf(workflowId)];
  }

  private logOf(workflowId: string): string[] {
    let log = this.logs.get(workflowId);
    if (!log) this.logs.set(workflowId, (log = []));
    return log;
  }

  /** Resolves once the run's log has `entry` (real time: no time skips while a test waits here). */
  async reached(workflowId: string, entry: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.logOf(workflowId).includes(entry)) {
      if (Date.now() > deadline) throw new Error(`${workflowId} never logged "${entry}"; log: ${JSON.stringify(this.logOf(workflowId))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The vendor refuses, in a way no retry fixes. */
export function fails(message: string, type = 'VendorError'): Scripted {
  return async () => {
    throw ApplicationFailure.nonRetryable(message, type);
  };
}

/** Fails the first call (the forward step), answers the later ones (the undo of the same activity). */
export function failsFirst(message: string, type = 'VendorError'): Scripted {
  let failed = false;
  return async (input, context) => {
    if (failed) return context.base(input);
    failed = true;
    return fails(message, type)(input, context);
  };
}

/** Runs until the run cancels it (heartbeating, as the real long activities do); logs "<name> cancelled". */
export function hangsUntilCancelled(name: string): Scripted {
  return async (_input, { note }) => {
    note(`${name} waiting`);
    const ctx = Context.current();
    try {
      for (;;) {
        ctx.heartbeat();
        await ctx.sleep(200);
      }
    } catch (err) {
      note(`${name} cancelled`);
      throw err;
    }
  };
}

/** An undo that takes `ms` of real time (heartbeating) and logs "<name> finished", or "<name> cut short". */
export function slowly(name: string, ms: number): Scripted {
  return async (input, { base, note }) => {
    const ctx = Context.current();
    const until = Date.now() + ms;
    try {
      while (Date.now() < until) {
        ctx.heartbeat();
        await ctx.sleep(100);
      }
    } catch (err) {
      note(`${name} cut short`);
      throw err;
    }
    note(`${name} finished`);
    return base(input);
  };
}

export interface StubServer {
  env: TestWorkflowEnvironment;
  world: StubWorld;
  taskQueue: string;
  stop: () => Promise<void>;
}

/**
 * The file's stub server: started before its first test, stopped after its last. The object
 * returned stands for it from then on (its env and world are the started server's), so a file
 * declares it once at the top: `const server = stubServerForFile(queue, stubs)`.
 */
export function stubServerForFile(taskQueue: string, base: Stubs, options: StubServerOptions = {}): StubServer {
  // Minutes of workflow time pass in seconds here; a test that takes longer is stuck.
  vi.setConfig({ testTimeout: 30_000 });
  let started: StubServer | undefined;
  beforeAll(async () => {
    started = await startStubServer(taskQueue, base, options);
  }, 120_000);
  afterAll(() => started?.stop());
  const now = () => {
    if (!started) throw new Error('the stub server starts in the file’s beforeAll');
    return started;
  };
  return {
    get env() {
      return now().env;
    },
    get world() {
      return now().world;
    },
    taskQueue,
    stop: () => now().stop(),
  };
}

export interface StubServerOptions {
  /** What a log entry says of an activity's input besides its name (e.g. which disk). */
  detail?: (name: string, input: any) => string | undefined;
  /** The time-skipping server unless a file needs what only the real one does (parent-close policies). */
  server?: () => Promise<TestWorkflowEnvironment>;
}

/**
 * The file's server and worker. The worker also serves the copy worker's queues under the same
 * name (oVirt runs are started with `copyTaskQueue: taskQueue`).
 */
export async function startStubServer(taskQueue: string, base: Stubs, { detail, server = startTimeSkippingTemporal }: StubServerOptions = {}): Promise<StubServer> {
  const env = await server();
  const world = new StubWorld();
  const bundle = await workflowBundle();
  const activities = { ...world.alerts.stubs(), ...world.activities(base, detail) };
  const workers = await Promise.all(
    [taskQueue, repositoryFilesTaskQueueFor(taskQueue)].map((queue) =>
      Worker.create({
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        taskQueue: queue,
        workflowBundle: bundle,
        activities,
        dataConverter: testDataConverter,
        // A cancel reaches an activity in a heartbeat's answer: within a fraction of a second here,
        // not the up to 48 s a 1-minute heartbeat timeout allows.
        maxHeartbeatThrottleInterval: '200 ms',
      }),
    ),
  );
  const running = workers.map((w) => w.run());
  return {
    env,
    world,
    taskQueue,
    stop: async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
      await env.teardown();
    },
  };
}

export interface RunEnd {
  status: 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED';
  result?: any;
  /** The failure a user sees: its type and message (for a failed run). */
  failure?: { type?: string; message: string };
}

/** Waits for the run's end with time skipping on (the environment's client, not the handle). */
export async function runEnd(env: TestWorkflowEnvironment, workflowId: string): Promise<RunEnd> {
  try {
    return { status: 'COMPLETED', result: await env.client.workflow.result(workflowId) };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    if (err.cause instanceof CancelledFailure) return { status: 'CANCELLED' };
    if (err.cause instanceof TerminatedFailure) return { status: 'TERMINATED' };
    const cause = err.cause;
    return { status: 'FAILED', failure: { type: cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined, message: cause?.message ?? err.message } };
  }
}

export async function progressOf(env: TestWorkflowEnvironment, workflowId: string): Promise<Progress> {
  return env.client.workflow.getHandle(workflowId).query<Progress>('progress');
}

/** The run's BackupOutcome search attribute, as `backupctl list` and the UI filter on it. */
export async function outcomeAttribute(env: TestWorkflowEnvironment, workflowId: string): Promise<string | undefined> {
  const description = await env.client.workflow.getHandle(workflowId).describe();
  return description.typedSearchAttributes.get(BackupOutcome);
}

/** BackupStep: set (with BackupOutcome) once a run fails, is cancelled or needs attention; absent on an ordinary run. */
export async function stepAttribute(env: TestWorkflowEnvironment, workflowId: string): Promise<string | undefined> {
  const description = await env.client.workflow.getHandle(workflowId).describe();
  return description.typedSearchAttributes.get(BackupStep);
}

export interface LeftoversView {
  needsAttention: boolean;
  leftovers: Array<{ label: string; error: string }>;
}

/**
 * Waits (real time) until the run waits for an operator: its `leftovers` query says so, and its
 * BackupOutcome search attribute (what `backupctl list` and the UI filter on) reads needs-attention.
 */
export async function needsAttention(env: TestWorkflowEnvironment, workflowId: string): Promise<LeftoversView> {
  const view = await eventually(
    () => env.client.workflow.getHandle(workflowId).query<LeftoversView>('leftovers'),
    (v) => v.needsAttention,
  );
  expect(await outcomeAttribute(env, workflowId)).toBe('needs-attention');
  expect((await progressOf(env, workflowId)).state).toBe('needs-attention');
  return view;
}

export interface StepFailureCase {
  /** The step the run names as failed. */
  step: string;
  /** The log entry of the failing call (its first occurrence). */
  failing: string;
  /** Log entries after the failing call: the undos, in the order they ran. */
  undos: string[];
  /** The undos' labels as the failure message and the progress query name them, newest first. */
  labels: Array<string | RegExp>;
}

/**
 * The run failed at `step` (BackupStepFailed, the step in the message), ran exactly `undos` after
 * the failing call, and says so in its failure message, progress query and BackupOutcome.
 */
export async function expectStepFailure(server: StubServer, workflowId: string, expected: StepFailureCase): Promise<void> {
  const end = await runEnd(server.env, workflowId);
  expect(end.status).toBe('FAILED');
  expect(end.failure?.type).toBe('BackupStepFailed');
  expect(end.failure?.message).toMatch(new RegExp(`^step "${expected.step}" failed: `));
  const log = server.world.log(workflowId);
  expect(log).toContain(expected.failing);
  expect(log.slice(log.indexOf(expected.failing) + 1)).toEqual(expected.undos);

  const progress = await progressOf(server.env, workflowId);
  const labels = expected.labels.map((l) => (typeof l === 'string' ? l : expect.stringMatching(l)));
  expect(progress).toMatchObject({ state: 'failed', step: expected.step, undone: labels });
  // A vendor may say what its undo answered before the summary (Altaro: the abort's answer).
  expect(end.failure?.message).toMatch(labels.length ? new RegExp(`— compensation: (.+; )?undone: ${escapeRegExp(progress.undone.join(', '))}$`) : /— compensation: nothing to undo$/);
  expect(await outcomeAttribute(server.env, workflowId)).toBe('failed');
  // Listable by the step it failed in (BackupStep="…" AND BackupOutcome="failed").
  expect(await stepAttribute(server.env, workflowId)).toBe(expected.step);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
