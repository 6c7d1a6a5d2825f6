/** The client library, method by method, against a real server, worker and simulator. */
import { ovirtTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { BackupClient, InvalidInputError, NotFoundError, RunCancelledError, RunFailedError, type RunStatus } from '../../client';
import type { OvirtBackupManifest } from '../../contracts/ovirt/results';
import type { OvirtHarness } from '../helpers/ovirt-harness';
import { assertClean, backupSnapshots } from '../helpers/ovirt-inspect';
import { eventually } from '../helpers/eventually';
import { projectRoot } from '../../lib/temporal/cli-path';

let client: BackupClient;
const test = ovirtTest({ copy: { maxBytesPerSecond: 1024 * 1024 } });
test.beforeAll(async ({ h }) => {
  client = new BackupClient(h.client, h.taskQueue);
});

const input = (h: OvirtHarness) => ({ endpoint: 'ovirt-sim', vmId: h.demo.vmId, proxyVmId: h.demo.proxyVmId, pollIntervalMs: 100 });

test('start names the run after the VM; a second start while it runs returns the running one', async ({ h }) => {
  const first = await client.start('ovirtSnapshotBackup', input(h));
  assert.equal(first.workflowId, `backup-ovirt-${h.demo.vmId}`);
  assert.equal(first.alreadyRunning, false);
  const second = await client.start('ovirtSnapshotBackup', input(h));
  assert.deepEqual(second, { workflowId: first.workflowId, runId: first.runId, alreadyRunning: true });

  const seen: RunStatus[] = [];
  for await (const status of client.follow(first.workflowId, 200)) seen.push(status);
  assert.equal(seen.at(-1)!.status, 'COMPLETED');
  assert.ok(
    seen.some((s) => s.progress?.step === 'copy'),
    'follow showed the copy step',
  );
  assert.ok(
    seen.some((s) => (s.liveBytes ?? 0) > 0),
    'follow showed live bytes from the copy heartbeat',
  );
  const manifest = await client.result<OvirtBackupManifest>(first.workflowId);
  assert.equal(manifest.vm.id, h.demo.vmId);
  const status = await client.status(first.workflowId);
  assert.equal(status.progress?.state, 'completed');
  const description = await client.handle(first.workflowId).describe();
  assert.match((await description.staticSummary()) ?? '', new RegExp(`ovirtSnapshotBackup of ${h.demo.vmId} on ovirt-sim`));
});

test('execute starts and waits; list filters by provider, VM and status', async ({ h }) => {
  const manifest = (await client.execute('ovirtSnapshotBackup', { ...input(h), diskIds: [h.demo.dataDiskId] })) as OvirtBackupManifest;
  assert.equal(manifest.disks.length, 1);
  const runs = await eventually(
    () => client.list({ provider: 'ovirt', vmId: h.demo.vmId, status: 'completed' }),
    (r) => r.length >= 2,
    20_000,
  );
  assert.ok(runs.every((r) => r.provider === 'ovirt' && r.vmId === h.demo.vmId && r.status === 'COMPLETED' && r.outcome === 'completed'));
  assert.deepEqual(await client.list({ provider: 'altaro' }), []);
  await assert.rejects(client.list({ status: 'sleeping' }), InvalidInputError);
});

test('cancel ends the run as cancelled; result says so with its own error class', async ({ h }) => {
  const run = await client.start('ovirtSnapshotBackup', input(h));
  await eventually(
    async () => (await client.status(run.workflowId)).progress?.step,
    (s) => s === 'copy',
    20_000,
  );
  await client.cancel(run.workflowId);
  await assert.rejects(client.result(run.workflowId), (err: RunCancelledError) => err instanceof RunCancelledError && err.exitCode === 130);
  await eventually(
    () => backupSnapshots(h),
    (s) => s.length === 0,
  );
  await assertClean(h);
});

test('errors: bad input before any call, unknown runs, failed runs with the vendor reason', async ({ h }) => {
  assert.throws(
    () => client.validate('ovirtSnapshotBackup', { endpoint: 'ovirt-sim' }),
    (err: InvalidInputError) => err.exitCode === 2 && err.problems.length === 2,
  );
  await assert.rejects(client.start('noSuchWorkflow', {}), InvalidInputError);
  await assert.rejects(client.status('no-such-run'), NotFoundError);
  await assert.rejects(client.result('no-such-run'), NotFoundError);
  await assert.rejects(client.cancel('no-such-run'), NotFoundError);
  h.simulator.faults.add({ method: 'POST', path: '/vms/:id/snapshots', action: { kind: 'status', status: 400, message: 'Operation Failed', detail: '[Cannot create Snapshot. Low disk space.]' } });
  await assert.rejects(client.execute('ovirtSnapshotBackup', input(h)), (err: RunFailedError) => {
    assert.ok(err instanceof RunFailedError);
    assert.match(err.message, /step "snapshot" failed: .*Low disk space/);
    return true;
  });
  // The client reads the vendor's words; the server stores them encrypted, stack traces too.
  const [failed] = await client.list({ status: 'failed', limit: 1 });
  const history = JSON.stringify(await h.client.workflow.getHandle(failed!.workflowId).fetchHistory());
  assert.ok(!history.includes('Low disk space'), 'the vendor message is not in the history as text');
  assert.ok(!history.includes(projectRoot), "the worker's file paths are not in the history as text");
  assert.match(history, /"message":"Encoded failure"/);
});

test('status of a run no worker can run says so instead of running forever: a type no worker knows, a queue no worker polls', async ({ h }) => {
  // The Web UI and the plain CLI start any type name on any queue.
  const unknown = await h.client.workflow.start('ovirtSnapshotBackupp', { taskQueue: h.taskQueue, workflowId: 'status-unknown-type', args: [input(h)] });
  const stuck = await eventually(
    () => client.status(unknown.workflowId),
    (s) => s.problem !== undefined,
    30_000,
  );
  assert.equal(stuck.status, 'RUNNING');
  assert.match(stuck.problem!, /^no worker on task queue \S+ can run it: .*ovirtSnapshotBackupp/);
  assert.match(stuck.problem!, /no workflow of this project is called "ovirtSnapshotBackupp"/);
  await unknown.terminate('test done');

  const unpolled = await h.client.workflow.start('ovirtSnapshotBackup', { taskQueue: 'nobody-polls-this', workflowId: 'status-no-worker', args: [input(h)] });
  const waiting = await client.status(unpolled.workflowId);
  assert.equal(waiting.problem, 'no worker polls task queue nobody-polls-this: the run waits until one does (is the worker running, on this queue?)');
  await unpolled.terminate('test done');
});
