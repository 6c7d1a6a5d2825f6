/**
 * The Prometheus endpoints of the real worker processes (workers/main-worker.ts and
 * workers/copy-worker.ts, configured through env as in production): after a completed and a failed
 * oVirt backup they show the SDK's own metrics and the project's: runs by provider and outcome,
 * step durations, activity durations, bytes copied, and the VM's last good backup.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { createOvirtSimulator, OVIRT_DEMO } from '../../simulators/ovirt';
import type { Simulator } from '../../simulators/framework/simulator';
import { freePort } from '../helpers/ports';
import { startTemporal, workflowBundle } from '../helpers/temporal';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PASSWORD = 'metrics-test-Pa55word';
let env: TestWorkflowEnvironment;
let simulator: Simulator;
let tmp: string;
const children: Array<{ name: string; child: ChildProcess; output: () => string }> = [];
const metricsUrl = { main: '', copy: '' };
const queue = `metrics-${Math.random().toString(36).slice(2, 8)}`;
const copyQueue = `${queue}-copy`;

function startWorker(name: string, script: string, extraEnv: Record<string, string>): Promise<void> {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, script)], { cwd: root, env: { ...process.env, LOG_LEVEL: 'WARN', ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  children.push({ name, child, output: () => output });
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (output.includes('polling')) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`${name} exited (${code}): ${output}`));
    });
  });
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return res.text();
}

/** The value of the first sample whose name and labels match, polling until it shows (workflow metrics arrive through a sink). */
async function sample(url: string, name: string, labels: Record<string, string>, timeoutMs = 15_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const text = await scrape(url);
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.trim().split(/\s+/).pop());
    }
    if (Date.now() > until) {
      const names = [
        ...new Set(
          text
            .split('\n')
            .filter((l) => l && !l.startsWith('#'))
            .map((l) => l.split(/[{ ]/)[0]),
        ),
      ];
      assert.fail(
        `${name} ${JSON.stringify(labels)} not on ${url}; it has: ${names.join(', ')}\n${text
          .split('\n')
          .filter((l) => l.startsWith(name))
          .slice(0, 5)
          .join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'metrics-test-'));
  env = await startTemporal();
  const created = await createOvirtSimulator({
    dataDir: join(tmp, 'sim'),
    deviceRoot: join(tmp, 'devices'),
    password: PASSWORD,
    snapshotCreateMs: 100,
    snapshotDeleteMs: 50,
    diskSizes: { os: 1024 * 1024 + 4096, data: 512 * 1024 },
  });
  simulator = created.simulator;
  await simulator.start(0);
  const endpointsFile = join(tmp, 'endpoints.json');
  await writeFile(
    endpointsFile,
    JSON.stringify({
      endpoints: { 'ovirt-metrics': { vendor: 'ovirt', url: simulator.apiUrl, apiVersion: 'v4', auth: { type: 'sso', username: 'admin@internal', password: { env: 'METRICS_TEST_OVIRT_PASSWORD' } } } },
    }),
  );
  let bundlePath = process.env.WORKFLOW_BUNDLE_PATH;
  if (!bundlePath) {
    bundlePath = join(tmp, 'workflow-bundle.js');
    await writeFile(bundlePath, (await workflowBundle()).code);
  }
  const [mainPort, copyPort] = [await freePort(), await freePort()];
  metricsUrl.main = `http://127.0.0.1:${mainPort}/metrics`;
  metricsUrl.copy = `http://127.0.0.1:${copyPort}/metrics`;
  const common = { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default' };
  await Promise.all([
    startWorker('main worker', 'workers/main-worker.ts', {
      ...common,
      TEMPORAL_TASK_QUEUE: queue,
      BACKUP_ENDPOINTS_FILE: endpointsFile,
      METRICS_TEST_OVIRT_PASSWORD: PASSWORD,
      WORKFLOW_BUNDLE_PATH: bundlePath,
      METRICS_BIND_ADDRESS: `127.0.0.1:${mainPort}`,
    }),
    startWorker('copy worker', 'workers/copy-worker.ts', {
      ...common,
      COPY_TASK_QUEUE: copyQueue,
      BACKUP_REPOSITORY_DIR: join(tmp, 'repository'),
      COPY_DEVICE_BY_ID_DIR: join(tmp, 'devices', 'by-id'),
      COPY_CHUNK_BYTES: String(256 * 1024),
      METRICS_BIND_ADDRESS: `127.0.0.1:${copyPort}`,
    }),
  ]);
});

afterAll(async () => {
  for (const { child } of children) {
    if (child.exitCode !== null) continue;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
  await env?.teardown();
  await simulator?.stop();
  await rm(tmp, { recursive: true, force: true });
});

test('worker metrics endpoints show runs by provider and outcome, step and activity durations, bytes copied, and the SDK metrics', async () => {
  const input = { endpoint: 'ovirt-metrics', vmId: OVIRT_DEMO.vmId, proxyVmId: OVIRT_DEMO.proxyVmId, copyTaskQueue: copyQueue, pollIntervalMs: 50 };
  const manifest = (await env.client.workflow.execute('ovirtSnapshotBackup', { taskQueue: queue, workflowId: `${queue}-ok`, args: [input] })) as { disks: Array<{ bytes: number }> };
  const bytes = manifest.disks.reduce((n, d) => n + d.bytes, 0);
  assert.ok(bytes > 0);

  // A VM the engine does not know: the run fails at preflight.
  await assert.rejects(
    env.client.workflow.execute('ovirtSnapshotBackup', { taskQueue: queue, workflowId: `${queue}-fail`, args: [{ ...input, vmId: '6f2a0d3e-5b1c-4c8e-9a10-0000000dead0' }] }),
    (err: unknown) => err instanceof WorkflowFailedError,
  );

  const main = metricsUrl.main;
  assert.equal(await sample(main, 'backup_runs_total', { provider: 'ovirt', outcome: 'completed', workflowType: 'ovirtSnapshotBackup' }), 1);
  assert.equal(await sample(main, 'backup_runs_total', { provider: 'ovirt', outcome: 'failed' }), 1);
  // Every step of the completed run was timed once; preflight twice (the failed run ended there).
  assert.equal(await sample(main, 'backup_step_duration_milliseconds_count', { provider: 'ovirt', step: 'snapshot' }), 1);
  assert.equal(await sample(main, 'backup_step_duration_milliseconds_count', { provider: 'ovirt', step: 'delete' }), 1);
  assert.equal(await sample(main, 'backup_step_duration_milliseconds_count', { provider: 'ovirt', step: 'preflight' }), 2);
  assert.ok((await sample(main, 'backup_activity_duration_milliseconds_count', { activityType: 'ovirtCreateSnapshot', result: 'ok' })) >= 1);
  assert.ok((await sample(main, 'backup_activity_duration_milliseconds_count', { activityType: 'ovirtPreflight', result: 'error' })) >= 1);
  // The VM's last good backup, in Unix seconds (not the failed run's VM).
  const lastSuccess = await sample(main, 'backup_last_success_timestamp_seconds', { provider: 'ovirt', vm_id: OVIRT_DEMO.vmId });
  assert.ok(Math.abs(lastSuccess - Date.now() / 1000) < 600, `backup_last_success_timestamp_seconds ${lastSuccess}`);
  assert.ok(!(await scrape(main)).includes('vm_id="6f2a0d3e-5b1c-4c8e-9a10-0000000dead0"'));
  // The SDK's own.
  assert.ok((await sample(main, 'temporal_workflow_completed_total', { workflow_type: 'ovirtSnapshotBackup' })) >= 1);
  assert.ok((await sample(main, 'temporal_activity_execution_latency_milliseconds_count', { activity_type: 'ovirtCreateSnapshot' })) >= 1);
  // The quick engine calls run as local activities (patch ovirt-fewer-actions): the SDK times them apart.
  assert.ok((await sample(main, 'temporal_local_activity_execution_latency_milliseconds_count', { activity_type: 'ovirtPreflight' })) >= 1);

  const copy = metricsUrl.copy;
  assert.equal(await sample(copy, 'backup_copied_bytes_total', { taskQueue: copyQueue }), bytes);
  assert.ok((await sample(copy, 'backup_activity_duration_milliseconds_count', { activityType: 'copyDisk', result: 'ok' })) >= 2);

  // No secret on either endpoint.
  for (const url of [main, copy]) assert.ok(!(await scrape(url)).includes(PASSWORD));
});
