/**
 * Upgrading workers while a backup runs (docs/production.md, "Upgrading workers while backups
 * run"): a long oVirt backup starts on v1 workers (PINNED); v2 workers, whose ovirtSnapshotBackup
 * has a step before its copy that v1 histories cannot replay (test/versioning/v2-workflows.ts),
 * start beside them and are ramped to 100 %, then made current. The v1 run finishes on v1 with no
 * workflow task failed (no non-determinism), a new run starts and finishes on v2 with its extra
 * step, and v1 drains (the deployment says so) before its workers stop. The same v1 history
 * replayed on the v2 code does fail: pinning is what kept it safe.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import proto from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import { decodeVersioningBehavior } from '@temporalio/common';
import { EndpointRegistry } from '../../lib/config/endpoints';
import { failureConverterPath } from '../../lib/codec/keys';
import { createMainWorker } from '../../workers/worker-factory';
import { bundlerLogger, workflowPreloadModules } from '../../workers/workflow-bundle';
import { describeDeployment, setCurrentVersion, setRampingVersion, versionString, workerDeploymentOptions, type DeploymentVersion } from '../../lib/temporal/worker-deployment';
import { OVIRT_DEMO } from '../../simulators/ovirt';
import { eventually } from '../helpers/eventually';
import { ovirtTest } from '../helpers/fixtures';
import { SIM_PASSWORD } from '../helpers/ovirt-harness';
import { testDataConverter, workflowBundle } from '../helpers/temporal';

const EventType = proto.temporal.api.enums.v1.EventType;
const v2Path = fileURLToPath(new URL('./v2-workflows.ts', import.meta.url));

// The copy is throttled (64 KiB/s: the OS disk takes ~50 s) so that the v1 run is still copying
// while v2 is deployed and ramped; drainage is refreshed every second instead of every 3 minutes.
const test = ovirtTest({
  copy: { maxBytesPerSecond: 64 * 1024 },
  serverArgs: ['--dynamic-config-value', 'matching.wv.VersionDrainageStatusRefreshInterval="1s"', '--dynamic-config-value', 'matching.wv.VersionDrainageStatusVisibilityGracePeriod="1s"'],
});

async function versioningOf(client: Client, workflowId: string) {
  const info = (await client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.versioningInfo;
  return {
    behavior: decodeVersioningBehavior(info?.behavior),
    version: info?.deploymentVersion ? `${info.deploymentVersion.deploymentName}:${info.deploymentVersion.buildId}` : undefined,
  };
}

/** The build ids of the workers that completed each workflow task, and how many tasks failed. */
async function workflowTasks(client: Client, workflowId: string) {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  return {
    history,
    completedBy: [...new Set(events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).map((e) => e.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId ?? '?'))],
    failed: events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED).map((e) => e.workflowTaskFailedEventAttributes?.failure?.message),
    timers: events.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED).length,
  };
}

test('a run started on v1 finishes on v1 after v2 is ramped to 100 % and made current; new runs go to v2', async ({ h }) => {
  const service = h.client.workflowService;
  const namespace = h.env.namespace ?? 'default';
  const taskQueue = `versioned-${Date.now()}`;
  const v1: DeploymentVersion = { deploymentName: 'backup-orchestrator-main', buildId: '0.1.0-v1' };
  const v2: DeploymentVersion = { deploymentName: 'backup-orchestrator-main', buildId: '0.2.0-v2' };
  const endpoints = EndpointRegistry.fromObject({
    endpoints: { 'ovirt-sim': { vendor: 'ovirt', url: h.simulator.apiUrl, apiVersion: 'v4', auth: { type: 'sso', username: 'admin@internal', password: { env: 'TEST_OVIRT_PASSWORD' } } } },
  });
  const [v1Bundle, v2Bundle] = [
    await workflowBundle(),
    await bundleWorkflowCode({ workflowsPath: v2Path, workflowInterceptorModules: [v2Path], preloadModules: workflowPreloadModules, failureConverterPath, logger: bundlerLogger }),
  ];
  const versionedWorker = (version: DeploymentVersion, bundle: typeof v1Bundle) =>
    createMainWorker({
      connection: h.env.nativeConnection,
      namespace,
      taskQueue,
      endpoints,
      env: { ...process.env, TEST_OVIRT_PASSWORD: SIM_PASSWORD },
      dataConverter: testDataConverter,
      workflowBundle: bundle,
      workerDeploymentOptions: workerDeploymentOptions(version, 'PINNED'),
    });

  // v1: the only version; made current as the first install's worker does (setCurrent if-none).
  const w1 = await versionedWorker(v1, v1Bundle);
  const w1Running = w1.worker.run();
  let w2: Awaited<ReturnType<typeof versionedWorker>> | undefined;
  let w2Running: Promise<void> | undefined;
  try {
    await setCurrentVersion(service, namespace, v1);

    // The long backup, of the OS disk only (the v2 run backs up the data disk: one disk is attached once at a time).
    const oldRun = await h.client.workflow.start('ovirtSnapshotBackup', { taskQueue, workflowId: `versioning-v1-${Date.now()}`, args: [h.input({ diskIds: [OVIRT_DEMO.osDiskId] })] });
    await eventually(
      async () => (await oldRun.query<{ step: string }>('progress')).step,
      (step) => step === 'copy',
      60_000,
    );
    assert.deepEqual(await versioningOf(h.client, oldRun.workflowId), { behavior: 'PINNED', version: versionString(v1) });

    // v2 beside v1: no run goes to it until it is ramped.
    w2 = await versionedWorker(v2, v2Bundle);
    w2Running = w2.worker.run();
    await setRampingVersion(service, namespace, v2, 100);
    const ramped = await describeDeployment(service, namespace, v1.deploymentName);
    assert.equal(ramped?.current?.buildId, v1.buildId);
    assert.deepEqual(ramped?.ramping, { ...v2, percentage: 100 });
    const newRun = await h.client.workflow.start('ovirtSnapshotBackup', { taskQueue, workflowId: `versioning-v2-${Date.now()}`, args: [h.input({ diskIds: [OVIRT_DEMO.dataDiskId] })] });
    const newVersioning = await eventually(
      () => versioningOf(h.client, newRun.workflowId),
      (v) => v.version !== undefined,
      30_000,
    );
    assert.deepEqual(newVersioning, { behavior: 'PINNED', version: versionString(v2) });

    // The old run has not moved: it is still copying, pinned to v1, while v2 takes the new runs.
    assert.equal((await oldRun.query<{ step: string }>('progress')).step, 'copy', 'the v1 run ended before v2 was ramped: the test proves nothing (a slower copy is needed)');
    await setCurrentVersion(service, namespace, v2);
    const switched = await describeDeployment(service, namespace, v1.deploymentName);
    assert.equal(switched?.current?.buildId, v2.buildId);
    assert.equal(switched?.ramping, undefined);
    assert.equal(switched?.versions.find((v) => v.buildId === v1.buildId)?.drainage, 'DRAINING', 'v1 has an open pinned run');

    const oldManifest = await oldRun.result();
    const newManifest = await newRun.result();
    assert.deepEqual(
      oldManifest.disks.map((d: { id: string }) => d.id),
      [OVIRT_DEMO.osDiskId],
    );
    assert.deepEqual(
      newManifest.disks.map((d: { id: string }) => d.id),
      [OVIRT_DEMO.dataDiskId],
    );

    const oldTasks = await workflowTasks(h.client, oldRun.workflowId);
    const newTasks = await workflowTasks(h.client, newRun.workflowId);
    assert.deepEqual(oldTasks.failed, [], 'no workflow task of the v1 run failed (no non-determinism)');
    assert.deepEqual(oldTasks.completedBy, [v1.buildId], 'every workflow task of the v1 run ran on v1');
    assert.equal(oldTasks.timers, 0, 'the v1 run has no v2 step');
    assert.deepEqual(newTasks.failed, []);
    assert.deepEqual(newTasks.completedBy, [v2.buildId]);
    assert.equal(newTasks.timers, 1, 'the v2 run took its step before the copy');
    assert.deepEqual(await versioningOf(h.client, oldRun.workflowId), { behavior: 'PINNED', version: versionString(v1) });

    // v1 drains once its last pinned run closed: then its workers can stop.
    const drained = await eventually(
      async () => (await describeDeployment(service, namespace, v1.deploymentName))?.versions.find((v) => v.buildId === v1.buildId)?.drainage,
      (d) => d === 'DRAINED',
      60_000,
    );

    // What pinning saved the v1 run from: its history on the v2 code is a non-determinism error.
    const onV2 = await Worker.runReplayHistory({ workflowBundle: v2Bundle, dataConverter: testDataConverter }, oldTasks.history, oldRun.workflowId).then(
      () => undefined,
      (err: Error) => err,
    );
    assert.match(String(onV2?.name), /DeterminismViolationError/);
    await Worker.runReplayHistory({ workflowBundle: v1Bundle, dataConverter: testDataConverter }, oldTasks.history, oldRun.workflowId);

    console.log(
      JSON.stringify({
        v1Run: { workflowId: oldRun.workflowId, runId: oldManifest.runId, version: versionString(v1), workflowTasksBy: oldTasks.completedBy, failedTasks: oldTasks.failed.length },
        v2Run: { workflowId: newRun.workflowId, runId: newManifest.runId, version: newVersioning.version, workflowTasksBy: newTasks.completedBy, stepTimers: newTasks.timers },
        v1Drainage: { afterSetCurrent: 'DRAINING', afterV1RunClosed: drained },
        v1HistoryOnV2Code: onV2?.name,
      }),
    );
  } finally {
    w1.worker.shutdown();
    if (w2?.worker.getState() === 'RUNNING') w2.worker.shutdown();
    await Promise.allSettled([w1Running, w2Running]);
    await Promise.all([w1.close(), w2?.close()]);
  }
});
