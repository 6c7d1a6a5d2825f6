/**
 * History events of every workflow while its vendor job runs for a day (Azure: a week), on
 * Temporal's time-skipping test server with stubbed activities. A stub stands for its real activity
 * and for the vendor: it answers as the activity would after the job has run as long as the
 * workflow lets the activity run (a wait inside one activity returns at the job's end; a sliced
 * follow returns after the slice the workflow asked for; a single status read answers for the
 * server's time, which the workflow's own timers move). So a workflow whose history grows with the
 * job's length shows it here in seconds of real time, and one that does not shows the same count
 * for a minute's job and a week's. Used by test/history/long-jobs.test.ts and `npm run bench` (c).
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { allSearchAttributes } from '../contracts/search-attributes';
import { resolveTemporalTestServer } from '../lib/temporal/test-server-path';
import type { DataConverter } from '@temporalio/common';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import proto from '@temporalio/proto';
import {
  OVIRT_PROXY,
  OVIRT_VM,
  VendorJob,
  altaroStubs,
  azureStubs,
  manageiqStubs,
  onappStubs,
  ovirtRestoreStubs,
  ovirtStubs,
  ovirtIncrementalStubs,
  reaperStubs,
  restoreBackupFixture,
  type Stubs,
} from '../test/helpers/stub-activities';

export const HOUR_MS = 3_600_000;

/** Temporal's time-skipping test server (resolved like the CLI), with the project's search attributes. */
export async function startTimeSkippingServer(dataConverter?: DataConverter): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    client: { dataConverter },
    server: { executable: { type: 'existing-path', path: resolveTemporalTestServer() } },
  });
  // Every run tags itself; the server refuses attributes it does not know.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(allSearchAttributes.map((key) => [key.name, proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
  });
  return env;
}
export const DAY_MS = 24 * HOUR_MS;

export interface LongJobScenario {
  workflowType: string;
  /** What runs long at the vendor. */
  job: string;
  input: Record<string, unknown>;
  stubs: (job: VendorJob) => Stubs;
  /** Child workflow types the scenario's workflow starts (their activities are stubbed too). */
  children?: string[];
  /** The long job's length: a day, or the longest the workflow's input allows when that is more. */
  longMs: number;
}

/** One scenario per registered workflow; `fleetBackup` and `scheduledBackup` run oVirt children. */
export const LONG_JOB_SCENARIOS: LongJobScenario[] = [
  {
    workflowType: 'ovirtSnapshotBackup',
    job: 'snapshot ready and disk copy',
    input: { endpoint: 'ovirt-sim', vmId: OVIRT_VM, proxyVmId: OVIRT_PROXY, snapshotReadyTimeoutSeconds: 86_400 },
    stubs: ovirtStubs,
    longMs: DAY_MS,
  },
  {
    workflowType: 'ovirtIncrementalBackup',
    job: 'the engine preparing the backup, and the image transfer',
    input: { endpoint: 'ovirt-sim', vmId: OVIRT_VM, proxyVmId: OVIRT_PROXY, backupReadyTimeoutSeconds: 86_400 },
    stubs: ovirtIncrementalStubs,
    longMs: DAY_MS,
  },
  { workflowType: 'altaroBackup', job: 'backup operation', input: { endpoint: 'altaro-sim', vmRef: 'a1b2c3d4-0001-4000-8000-000000000001' }, stubs: altaroStubs, longMs: DAY_MS },
  {
    workflowType: 'altaroOperation',
    job: 'offsite copy operation',
    input: { endpoint: 'altaro-sim', vmRef: 'a1b2c3d4-0001-4000-8000-000000000001', kind: 'take-offsitecopy' },
    stubs: altaroStubs,
    longMs: DAY_MS,
  },
  {
    workflowType: 'azureProtectVm',
    job: 'enable protection',
    input: { endpoint: 'azure-sim', vmName: 'app-02', policyName: 'DefaultPolicy' },
    stubs: (j) => azureStubs(j, 'ConfigureBackup'),
    longMs: DAY_MS,
  },
  { workflowType: 'azureVmBackup', job: 'backup job', input: { endpoint: 'azure-sim', vmName: 'web-01', jobTimeoutMinutes: 7 * 24 * 60 }, stubs: (j) => azureStubs(j, 'Backup'), longMs: 7 * DAY_MS },
  {
    workflowType: 'azureRestore',
    job: 'restore job',
    input: {
      endpoint: 'azure-sim',
      vmName: 'db-01',
      recoveryPoint: 'latest',
      restoreType: 'RestoreDisks',
      storageAccountId: '/subscriptions/s/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/a',
      region: 'westeurope',
      jobTimeoutMinutes: 7 * 24 * 60,
    },
    stubs: (j) => azureStubs(j, 'Restore'),
    longMs: 7 * DAY_MS,
  },
  {
    workflowType: 'azureFileRecovery',
    job: 'provision, then the session open until its time limit',
    input: { endpoint: 'azure-sim', vmName: 'db-01', recoveryPoint: 'latest', timeLimitSeconds: 43_200 },
    stubs: (j) => azureStubs(j, 'Restore'),
    longMs: DAY_MS,
  },
  { workflowType: 'onappBackup', job: 'backup build', input: { endpoint: 'onapp-sim', virtualServerId: 101, buildTimeoutSeconds: 86_400 }, stubs: onappStubs, longMs: DAY_MS },
  { workflowType: 'onappListBackups', job: 'listing', input: { endpoint: 'onapp-sim', virtualServerId: 102 }, stubs: onappStubs, longMs: DAY_MS },
  {
    workflowType: 'manageiqSnapshot',
    job: 'snapshot task',
    input: { endpoint: 'manageiq-sim', collection: 'vms', resourceId: '10', taskTimeoutSeconds: 86_400 },
    stubs: manageiqStubs,
    longMs: DAY_MS,
  },
  {
    workflowType: 'manageiqRevert',
    job: 'revert task',
    input: { endpoint: 'manageiq-sim', collection: 'vms', resourceId: '10', snapshotName: 'before-upgrade', taskTimeoutSeconds: 86_400 },
    stubs: manageiqStubs,
    longMs: DAY_MS,
  },
  {
    workflowType: 'manageiqDeleteSnapshots',
    job: 'delete tasks',
    input: { endpoint: 'manageiq-sim', collection: 'vms', resourceId: '11', snapshotIds: ['1002', '1003'] },
    stubs: manageiqStubs,
    longMs: DAY_MS,
  },
  {
    workflowType: 'fleetBackup',
    job: 'each child backup (oVirt)',
    input: { workflowType: 'ovirtSnapshotBackup', defaults: { endpoint: 'ovirt-sim', proxyVmId: OVIRT_PROXY, snapshotReadyTimeoutSeconds: 86_400 }, query: { filter: 'name=web-*' } },
    stubs: (j) => ({ ...ovirtStubs(j), fleetRecordOutcomes: async ({ rows }) => ({ recorded: rows.length }) }),
    children: ['ovirtSnapshotBackup'],
    longMs: DAY_MS,
  },
  {
    workflowType: 'scheduledBackup',
    job: 'the child backup (oVirt), then retention',
    input: {
      scheduleId: 'nightly-web-01',
      workflowType: 'ovirtSnapshotBackup',
      input: { endpoint: 'ovirt-sim', vmId: OVIRT_VM, proxyVmId: OVIRT_PROXY, snapshotReadyTimeoutSeconds: 86_400 },
      retention: { keep: 3 },
    },
    stubs: ovirtStubs,
    children: ['ovirtSnapshotBackup'],
    longMs: DAY_MS,
  },
  { workflowType: 'reaper', job: 'removing a leftover snapshot', input: { endpoints: ['ovirt-sim'] }, stubs: reaperStubs, longMs: DAY_MS },
  {
    workflowType: 'ovirtRestore',
    job: 'disk create and image write',
    input: { endpoint: 'ovirt-sim', backup: 'latest', vmId: OVIRT_VM, proxyVmId: OVIRT_PROXY, cluster: 'Default', diskReadyTimeoutSeconds: 86_400 },
    stubs: restoreStubs,
    longMs: DAY_MS,
  },
  {
    workflowType: 'ovirtRestoreDrill',
    job: 'disk create, image write and read-back',
    input: { endpoint: 'ovirt-sim', backup: 'latest', vmId: OVIRT_VM, proxyVmId: OVIRT_PROXY, cluster: 'Default', boot: true, diskReadyTimeoutSeconds: 86_400 },
    stubs: restoreStubs,
    longMs: DAY_MS,
  },
  {
    workflowType: 'onappRestore',
    job: 'restore until the server is unlocked',
    input: { endpoint: 'onapp-sim', virtualServerId: 101, backupId: 'latest', restoreTimeoutSeconds: 86_400 },
    stubs: onappStubs,
    longMs: DAY_MS,
  },
  { workflowType: 'verifyBackups', job: 're-reading the repository', input: { all: true }, stubs: repositoryStubs, longMs: DAY_MS },
  { workflowType: 'ovirtListBackups', job: 'listing the repository', input: {}, stubs: repositoryStubs, longMs: DAY_MS },
  { workflowType: 'pruneBackups', job: 'removing a backup folder', input: { all: true, keepLast: 1 }, stubs: pruneStubs, longMs: DAY_MS },
  {
    workflowType: 'rpoWatch',
    job: 'reading visibility for every VM',
    input: { targets: [{ provider: 'ovirt', vmId: OVIRT_VM, expectedIntervalMinutes: 60 }] },
    stubs: (job) => ({
      rpoScheduleTargets: async () => [],
      lastSuccessfulBackup: async () => (job.waitToEnd(), { closeTime: new Date().toISOString(), workflowId: `backup-ovirt-${OVIRT_VM}`, runId: 'r1' }),
      sendAlert: async () => ({ sent: false, reason: 'no webhook configured' }),
    }),
    longMs: DAY_MS,
  },
];

/** The restore's stubs, with the long waits (a disk being created, an image being written) taking the job's length. */
function restoreStubs(job: VendorJob): Stubs {
  const { stubs } = ovirtRestoreStubs();
  const stretched =
    (name: string): Stubs[string] =>
    async (input) => (job.waitToEnd(), stubs[name]!(input));
  return { ...stubs, ovirtWaitDiskReady: stretched('ovirtWaitDiskReady'), writeImageToDevice: stretched('writeImageToDevice'), hashDevice: stretched('hashDevice') };
}

/** The copy worker's repository activities over one stored backup; a check reads it for the job's length. */
function repositoryStubs(job: VendorJob): Stubs {
  const backup = restoreBackupFixture();
  const summary = {
    dir: backup.dir,
    provider: 'ovirt',
    vm: backup.manifest.vm,
    workflowId: backup.manifest.workflowId,
    runId: backup.manifest.runId,
    completedAt: backup.manifest.completedAt,
    bytes: 3 << 20,
    disks: 2,
  };
  return {
    listBackups: async () => [summary],
    verifyBackup: async ({ dir }: { dir: string }) => (
      job.waitToEnd(),
      { dir, ok: true, files: backup.images.map((i) => ({ file: i.fileName, expectedBytes: i.bytes, bytes: i.bytes, expectedSha256: i.sha256, sha256: i.sha256, ok: true })) }
    ),
    recordVerification: async ({ verification }: { verification: unknown }) => [verification],
    // A directory repository, as the demo's: its own check is the re-reading above.
    repositoryIntegrityCheck: async () => ({ kind: 'directory', ok: true, command: 'none', summary: 'a directory repository is checked by re-reading its backups (verifyBackup)' }),
  };
}

/** The repository with an older second backup, which a prune removes for the job's length. */
function pruneStubs(job: VendorJob): Stubs {
  const stubs = repositoryStubs(job);
  return {
    ...stubs,
    listBackups: async () => {
      const [newest] = (await stubs.listBackups!({})) as Array<{ dir: string; completedAt: string }>;
      return [newest, { ...newest, dir: `${newest!.dir}-older`, runId: 'older-run', completedAt: new Date(Date.parse(newest!.completedAt) - 86_400_000).toISOString() }];
    },
    openRunIds: async () => [],
    removeBackup: async ({ dir }: { dir: string }) => (job.waitToEnd(), { dir, removed: true }),
    // No incremental chain here: no engine checkpoint is waiting to be removed.
    pendingChainCheckpoints: async () => [],
    forgetChainCheckpoints: async () => ({ forgotten: [], left: 0 }),
  };
}

export interface LongJobRun {
  workflowType: string;
  jobMs: number;
  status: string;
  /** Events of the workflow's own history (of every run of a continued chain: the largest). */
  events: number;
  /** Set when the run was stopped because its history passed the limit. */
  exceeded?: number;
  error?: string;
}

/**
 * Runs one scenario with a vendor job of `jobMs` and counts the workflow's history events. A run
 * whose history passes `stopAbove` is terminated and reported as exceeded (an unbounded poll loop
 * would otherwise take as long as it takes the server to reach its own limit).
 */
export async function runLongJob(
  env: TestWorkflowEnvironment,
  bundle: WorkflowBundleWithSourceMap,
  scenario: LongJobScenario,
  jobMs: number,
  options: { stopAbove: number; dataConverter?: DataConverter; taskQueuePrefix?: string; realTimeLimitMs?: number },
): Promise<LongJobRun> {
  const job = new VendorJob(jobMs);
  const taskQueue = `${options.taskQueuePrefix ?? 'long-job'}-${scenario.workflowType}-${Math.random().toString(36).slice(2, 8)}`;
  const activities = scenario.stubs(job);
  const copyQueue = `${taskQueue}-copy`;
  const input = withCopyQueue(scenario, copyQueue);
  const workers = await Promise.all(
    [taskQueue, copyQueue, `${copyQueue}-files`].map((queue) =>
      Worker.create({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue: queue, workflowBundle: bundle, activities, dataConverter: options.dataConverter }),
    ),
  );
  const workflowId = `${taskQueue}-run`;
  return runWorkersWhile(workers, async () => {
    const handle = await env.client.workflow.start(scenario.workflowType, { taskQueue, workflowId, args: [input] });
    let exceeded: number | undefined;
    let stalled = false;
    const giveUpAt = Date.now() + (options.realTimeLimitMs ?? 120_000);
    const watch = (async () => {
      for (;;) {
        if (Date.now() > giveUpAt) {
          // A stub missing or failing retries forever in skipped time; end it and say so.
          stalled = true;
          await handle.terminate('the scenario did not finish in real time').catch(() => undefined);
          return;
        }
        const events = await historyLength(env, workflowId);
        if (events > options.stopAbove) {
          exceeded = events;
          await handle.terminate(`history passed ${options.stopAbove} events`).catch(() => undefined);
          return;
        }
        if ((await handle.describe()).status.name !== 'RUNNING') return;
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    let status = 'COMPLETED';
    let error: string | undefined;
    try {
      // The environment's client (not the handle) lets the server skip time while it waits.
      await env.client.workflow.result(workflowId);
    } catch (err) {
      status = exceeded || stalled ? 'TERMINATED' : 'FAILED';
      error = err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err);
    }
    await watch;
    const events = await chainHistoryLength(env, workflowId);
    if (stalled) error = `did not finish within ${(options.realTimeLimitMs ?? 120_000) / 1000} s of real time (${error ?? 'no error'})`;
    return { workflowType: scenario.workflowType, jobMs, status, events: exceeded ?? events, exceeded, error };
  });
}

/** oVirt runs copy on their proxy's queue: the scenario's workers serve it under the test's name. */
function withCopyQueue(scenario: LongJobScenario, copyQueue: string): Record<string, unknown> {
  const { input } = scenario;
  if (['ovirtSnapshotBackup', 'ovirtIncrementalBackup', 'ovirtRestore', 'ovirtRestoreDrill', 'verifyBackups', 'ovirtListBackups', 'pruneBackups'].includes(scenario.workflowType))
    return { ...input, copyTaskQueue: copyQueue };
  if (scenario.children?.includes('ovirtSnapshotBackup')) {
    if ('defaults' in input) return { ...input, defaults: { ...(input.defaults as object), copyTaskQueue: copyQueue } };
    if ('input' in input) return { ...input, input: { ...(input.input as object), copyTaskQueue: copyQueue } };
  }
  return input;
}

async function runWorkersWhile<T>(workers: Worker[], fn: () => Promise<T>): Promise<T> {
  const running = workers.map((w) => w.run());
  try {
    return await fn();
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(running);
  }
}

async function historyLength(env: TestWorkflowEnvironment, workflowId: string, runId?: string): Promise<number> {
  const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
  return history.events?.length ?? 0;
}

/** A continued-as-new chain: the largest history of its runs (each is bounded on its own). */
async function chainHistoryLength(env: TestWorkflowEnvironment, workflowId: string): Promise<number> {
  let largest = 0;
  let runId: string | undefined;
  const seen = new Set<string>();
  // Follow the chain backwards from the latest run through each run's "continued from" link.
  for (;;) {
    const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    largest = Math.max(largest, history.events?.length ?? 0);
    const started = history.events?.find((e) => e.eventType === proto.temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
    const previous = started?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!previous || seen.has(previous)) return largest;
    seen.add(previous);
    runId = previous;
  }
}

/** What `npm run bench -- --quick` runs of (c): a sliced follow, a wait inside an activity, a child workflow. */
const QUICK_SCENARIOS = ['azureVmBackup', 'ovirtRestore', 'fleetBackup'];

export interface LongJobEventsRow {
  workflowType: string;
  job: string;
  longHours: number;
  eventsOneMinute: number;
  eventsLong: number;
  status: string;
}

/** (c) of `npm run bench`: every workflow's events for a one-minute and a day-long (Azure: week-long) vendor job. */
export async function benchLongJobEvents(
  bundle: WorkflowBundleWithSourceMap,
  dataConverter: DataConverter,
  log: (line: string) => void,
  options: { quick?: boolean } = {},
): Promise<LongJobEventsRow[]> {
  const env = await startTimeSkippingServer(dataConverter);
  const rows: LongJobEventsRow[] = [];
  // --quick checks that the harness works; every scenario runs in test/history/long-jobs.test.ts.
  const scenarios = options.quick ? LONG_JOB_SCENARIOS.filter((s) => QUICK_SCENARIOS.includes(s.workflowType)) : LONG_JOB_SCENARIOS;
  try {
    for (const scenario of scenarios) {
      const short = await runLongJob(env, bundle, scenario, 60_000, { stopAbove: 2_000, dataConverter, taskQueuePrefix: 'bench-long' });
      const long = await runLongJob(env, bundle, scenario, scenario.longMs, { stopAbove: 2_000, dataConverter, taskQueuePrefix: 'bench-long' });
      const status = short.status === 'COMPLETED' && long.status === 'COMPLETED' ? 'completed' : `${short.status}/${long.status}${long.error ? `: ${long.error}` : ''}`;
      rows.push({ workflowType: scenario.workflowType, job: scenario.job, longHours: scenario.longMs / HOUR_MS, eventsOneMinute: short.events, eventsLong: long.events, status });
      log(`  ${scenario.workflowType}: ${short.events} events (1 min job), ${long.events} (${scenario.longMs / HOUR_MS} h)`);
    }
  } finally {
    await env.teardown();
  }
  return rows;
}
