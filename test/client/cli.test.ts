/** backupctl end to end: every exit code, the friendly backup command, list, follow, schedules and repository checks. */
import { ovirtTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { OvirtBackupManifest } from '../../contracts/ovirt/results';
import type { OvirtHarness } from '../helpers/ovirt-harness';
import { proxyAttachments } from '../helpers/ovirt-inspect';
import { eventually } from '../helpers/eventually';
import { runBackupctl } from '../helpers/backupctl';

let env: Record<string, string>;
let dir: string;

const test = ovirtTest({ copy: { maxBytesPerSecond: 1024 * 1024 } });
test.beforeAll(async ({ h }) => {
  dir = await mkdtemp(join(tmpdir(), 'cli-'));
  const endpoints = join(dir, 'endpoints.json');
  // The CLI only needs the profile names; the worker alone holds the secrets.
  await writeFile(endpoints, JSON.stringify({ endpoints: { 'ovirt-sim': { vendor: 'ovirt', url: h.simulator.apiUrl, auth: { username: 'admin@internal', password: { env: 'UNUSED_HERE' } } } } }));
  env = { TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: h.taskQueue, BACKUP_ENDPOINTS_FILE: endpoints };
});

const backupctl = (...args: string[]) => runBackupctl(env, ...args);

test('exit 0: backup ovirt with friendly flags, following progress as plain lines when piped', async ({ h }) => {
  const r = await backupctl('backup', 'ovirt', '--vm', h.demo.vmId, '--proxy-vm', h.demo.proxyVmId, '--follow');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).vm.id, h.demo.vmId);
  assert.match(r.stderr, /started ovirtSnapshotBackup as backup-ovirt-/);
  assert.match(r.stderr, /copy \(7\/9\)/, 'a plain progress line for the copy step');
  assert.doesNotMatch(r.stderr, /\x1b\[/, 'no terminal control codes when piped');
});

test('exit 2: bad input, with every problem named, and nothing started', async ({ h }) => {
  const r = await backupctl('backup', 'ovirt', '--vm', h.demo.vmId);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /proxyVmId: proxyVmId is required/);
  assert.equal((await backupctl('start', 'ovirtSnapshotBackup', '--input', '{not json')).code, 2);
  assert.equal((await backupctl('list', '--status', 'sleeping')).code, 2);
  assert.equal((await backupctl('frobnicate')).code, 2);
});

test('exit 2: a file given with @ or as a policy that is not there names its path', async () => {
  const missing = join(dir, 'no-such-input.json');
  const start = await backupctl('start', 'ovirtSnapshotBackup', '--input', `@${missing}`);
  assert.equal(start.code, 2, start.stderr);
  assert.match(start.stderr, new RegExp(`--input file ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no such file`));
  const apply = await backupctl('schedule', 'apply', join(dir, 'no-such-policy.yaml'));
  assert.equal(apply.code, 2, apply.stderr);
  assert.match(apply.stderr, /policy file \S+no-such-policy\.yaml: no such file/);
});

test('a server that does not answer: the message names the address and what set it', async () => {
  const r = await runBackupctl({ ...env, TEMPORAL_ADDRESS: '127.0.0.1:1' }, 'list');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot reach the Temporal server at 127\.0\.0\.1:1 \(from TEMPORAL_ADDRESS\)/);
});

test('exit 3: a run or schedule that does not exist', async ({ h }) => {
  assert.equal((await backupctl('status', 'no-such-run')).code, 3);
  assert.equal((await backupctl('result', 'no-such-run')).code, 3);
  assert.equal((await backupctl('schedule', 'describe', 'no-such-schedule')).code, 3);
});

test('exit 1: a failed run, with the vendor reason', async ({ h }) => {
  h.simulator.faults.add({
    method: 'POST',
    path: '/vms/:id/diskattachments',
    action: { kind: 'status', status: 400, message: 'Operation Failed', detail: '[Cannot attach Virtual Disk. Proxy is down.]' },
  });
  const r = await backupctl('start', 'ovirtSnapshotBackup', '--input', JSON.stringify(h.input()), '--wait');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /step "attach" failed: .*Proxy is down.* — compensation: undone: .*delete snapshot/);
  assert.match(r.stderr, /\n {2}undone: delete snapshot of VM \S+\n {2}left behind: nothing/, 'what was undone and what is left, a line each');
});

test('exit 130: a run cancelled while the CLI waits; a second start for the VM joins the running one', async ({ h }) => {
  // Hold the run in its attach step long enough for two more CLI calls on a busy machine.
  h.simulator.faults.add({ method: 'POST', path: '/vms/:id/diskattachments', times: 1, action: { kind: 'delay', ms: 15_000 } });
  const waiting = backupctl('backup', 'ovirt', '--vm', h.demo.vmId, '--proxy-vm', h.demo.proxyVmId, '--wait');
  const id = `backup-ovirt-${h.demo.vmId}`;
  await eventually(
    async () =>
      (
        await h.client.workflow
          .getHandle(id)
          .describe()
          .catch(() => undefined)
      )?.status.name,
    (s) => s === 'RUNNING',
    20_000,
  );
  const again = await backupctl('backup', 'ovirt', '--vm', h.demo.vmId, '--proxy-vm', h.demo.proxyVmId, '--json');
  assert.equal(again.code, 0);
  assert.match(again.stderr, /already running: backup-ovirt-/);
  assert.equal(JSON.parse(again.stdout).alreadyRunning, true);
  assert.equal((await backupctl('cancel', id)).code, 0);
  const r = await waiting;
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /cancelled/);
  // Later, `result` tells the step it was cancelled in, what was undone and what is left.
  const result = await backupctl('result', id);
  assert.equal(result.code, 130, result.stderr);
  assert.match(result.stderr, /run backup-ovirt-\S+ was cancelled during "attach"\n {2}undone: detach disk [\s\S]*\n {2}undone: delete snapshot of VM \S+\n {2}left behind: nothing/);
  // A cancel once the run has ended is too late, and says so.
  const late = await backupctl('cancel', id);
  assert.equal(late.code, 5, late.stderr);
  assert.match(late.stderr, /had already ended \(CANCELLED\): the cancel came too late; nothing was cancelled or undone/);
  // The attach that was in flight when the cancel came finished first, then was undone.
  await eventually(
    () => proxyAttachments(h),
    (a) => a.length === 0,
    20_000,
  );
  assert.deepEqual(await proxyAttachments(h), []);
});

test('update, signal and query: without a name they list what the run accepts; a wrong name is refused naming the right ones; an ended run is too late', async ({ h }) => {
  const handle = await h.start('ovirtSnapshotBackup', h.input(), 'cli-actions');
  await handle.result();
  const { workflowId } = handle;
  const listed = await backupctl('update', workflowId);
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok(listed.stdout.startsWith(`${workflowId} (ovirtSnapshotBackup, COMPLETED) accepts:`), listed.stdout);
  assert.match(listed.stdout, new RegExp(`update \\(or signal\\)\\s+cleanup\\s+backupctl cleanup ${workflowId} --retry\\|--give-up`));
  assert.ok(listed.stdout.includes(`backupctl query ${workflowId} progress`), listed.stdout);
  const wrong = await backupctl('signal', workflowId, 'done');
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /ovirtSnapshotBackup runs take no signal "done"; they take: cleanup/);
  const late = await backupctl('cleanup', workflowId, '--give-up');
  assert.equal(late.code, 5, late.stderr);
  assert.match(late.stderr, /had already ended \(COMPLETED\): the "cleanup" update was not sent/);
  const progress = await backupctl('query', workflowId, 'progress');
  assert.equal(progress.code, 0, progress.stderr);
  assert.equal(JSON.parse(progress.stdout).state, 'completed');
});

test('list, endpoints and workflows, as tables and as JSON', async ({ h }) => {
  const listed = await backupctl('list', '--provider', 'ovirt', '--json');
  assert.equal(listed.code, 0);
  const runs = JSON.parse(listed.stdout) as Array<{ provider: string; status: string }>;
  assert.ok(runs.length >= 3 && runs.every((r) => r.provider === 'ovirt'));
  assert.match((await backupctl('list', '--status', 'failed')).stdout, /WORKFLOW ID\s+TYPE\s+STATUS[\s\S]*FAILED/);
  const endpoints = await backupctl('endpoints', '--json');
  assert.deepEqual(
    JSON.parse(endpoints.stdout).map((e: { name: string }) => e.name),
    ['ovirt-sim'],
  );
  assert.match((await backupctl('workflows')).stdout, /ovirtSnapshotBackup\s+ovirt/);
});

test('schedule apply twice: created, then unchanged; list and delete', async ({ h }) => {
  const file = join(dir, 'policy.yaml');
  await writeFile(file, `schedules:\n  - id: cli-nightly\n    workflow: ovirtSnapshotBackup\n    input: ${JSON.stringify(h.input())}\n    cron: "0 2 * * *"\n    paused: true\n`);
  const first = await backupctl('schedule', 'apply', file);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /created\s+cli-nightly/);
  assert.match((await backupctl('schedule', 'apply', file)).stdout, /unchanged\s+cli-nightly/);
  assert.match((await backupctl('schedule', 'list')).stdout, /cli-nightly\s+true/);
  assert.equal((await backupctl('schedule', 'delete', 'cli-nightly')).code, 0);
  await writeFile(file, 'schedules:\n  - id: broken\n    workflow: nope\n');
  const bad = await backupctl('schedule', 'apply', file);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /policy\.yaml:3: schedules\.0\.workflow: unknown workflow/);
});

test('verify and backups ovirt: a good repository checks out (exit 0), a flipped byte fails the check naming the file (exit 1), the table shows the verdict', async ({ h }) => {
  const backup = await h.execute<OvirtBackupManifest>('ovirtSnapshotBackup', h.input());
  const proxy = ['--proxy', h.demo.proxyVmId];
  const all = await backupctl('verify', '--all', ...proxy);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, new RegExp(`^ok\\s+${backup.repository.dir}\\s+3 file\\(s\\) match$`, 'm'));
  assert.doesNotMatch(all.stdout, /FAILED/);

  const image = join(h.dirs.repository, backup.repository.dir, basename(backup.disks[0]!.path));
  const bytes = await readFile(image);
  bytes[7] = bytes[7]! ^ 0x01;
  await writeFile(image, bytes);
  const failed = await backupctl('verify', 'latest', '--vm', h.demo.vmId, ...proxy);
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stdout, new RegExp(`^FAILED\\s+${backup.repository.dir}\\s+${basename(image)} has sha256 [0-9a-f]{64}, the manifest says ${backup.disks[0]!.sha256}$`, 'm'));
  assert.match(failed.stderr, /backup check failed: /);

  const listed = await backupctl('backups', 'ovirt', '--vm', h.demo.vmId, ...proxy);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^FOLDER\s+VM\s+COMPLETED\s+AGE\s+SIZE\s+DISKS\s+VERIFIED/);
  assert.match(listed.stdout, new RegExp(`^${backup.repository.dir}\\s.*\\s2\\s+FAILED by check, \\d+s ago$`, 'm'));

  assert.equal((await backupctl('verify', ...proxy)).code, 2, 'nothing to check named');
  const noProxy = await backupctl('verify', '--all');
  assert.equal(noProxy.code, 2);
  assert.match(noProxy.stderr, /--proxy is required/);
});
