/**
 * The production engine under a running oVirt backup: the Temporal server SIGKILLed mid-copy and
 * started again, PostgreSQL restarted mid-run, two main workers and two copy workers with one of
 * each SIGKILLed. Each time the backup completes, its disks are what the engine holds, and the
 * vendor saw one snapshot (created, then removed) and one attachment per disk (detached after).
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { CreationCounter } from '../../chaos/targets/count';
import type { Progress } from '../../contracts/progress';
import { projectRoot } from '../../lib/temporal/cli-path';
import { copyTaskQueueFor } from '../../lib/temporal/task-queues';
import { createOvirtSimulator, OVIRT_DEMO, type OvirtState } from '../../simulators/ovirt';
import { engineSkipReason, startTestEngine, type TestEngine } from '../helpers/engine';
import { SIM_PASSWORD, startOvirtHarness } from '../helpers/ovirt-harness';
import { assertClean } from '../helpers/ovirt-inspect';

const skip = engineSkipReason();
let e: TestEngine;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  if (!skip) e = await startTestEngine('crashes');
}, 300_000);
afterAll(async () => e?.stop());

/** Snapshots and attachments the simulated engine really made, by key: each must be made once. */
function countCreations(state: OvirtState): CreationCounter {
  const created = new CreationCounter();
  created.watch(state, 'createSnapshot', (vmId: string) => `snapshot of VM ${vmId}`);
  created.watch(state, 'attachDisk', (vmId: string, input: { diskId?: string }) => `attachment of disk ${input?.diskId ?? '?'} to VM ${vmId}`);
  return created;
}

/** Waits until the run is copying and has copied some bytes (so a crash lands mid-copy). */
async function midCopy(handle: WorkflowHandle, timeoutMs = 120_000): Promise<Progress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const progress = await handle.query<Progress>('progress').catch(() => undefined);
    if (progress?.step === 'copy' && progress.bytesCopied > 0) return progress;
    if (Date.now() > deadline) throw new Error(`the run did not reach the copy in time (last: ${JSON.stringify(progress)})`);
    await sleep(200);
  }
}

interface Manifest {
  disks: Array<{ id: string; path: string; sha256: string }>;
}

async function assertDisksAsTheEngineHasThem(manifest: Manifest, state: OvirtState): Promise<void> {
  assert.equal(manifest.disks.length, 2);
  for (const disk of manifest.disks) {
    const copied = createHash('sha256')
      .update(await readFile(disk.path))
      .digest('hex');
    assert.equal(copied, disk.sha256, `${disk.path} holds what the manifest says`);
    assert.equal(disk.sha256, await state.diskContentSha256(disk.id), `disk ${disk.id} is backed up as the engine has it`);
  }
}

async function backupThrough(crash: (e: TestEngine) => Promise<void>, name: string) {
  // About 4 MiB at 384 KiB/s: a copy of ten seconds or so, long enough to land a crash in it.
  const h = await startOvirtHarness({ temporal: () => e.testEnv(), copy: { maxBytesPerSecond: 384 * 1024 } });
  try {
    const created = countCreations(h.state);
    const handle = await h.start('ovirtSnapshotBackup', h.input({ description: name }), `engine-${name}`);
    const before = await midCopy(handle);
    await crash(e);
    const manifest = (await handle.result()) as Manifest;
    const after = await handle.query<Progress>('progress');
    console.log(`${name}: crashed at ${before.bytesCopied}/${before.bytesTotal} bytes; completed (${after.state}, ${after.bytesCopied} bytes)`);
    await assertDisksAsTheEngineHasThem(manifest, h.state);
    await assertClean(h);
    assert.deepEqual(created.duplicates(), [], 'nothing was created twice');
    const events = (await handle.fetchHistory()).events ?? [];
    assert.ok(events.length > 0);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- engine log ---\n${e.log()}`, { cause: err });
  } finally {
    await h.stop();
  }
}

describe.skipIf(skip)(`an oVirt backup on the PostgreSQL engine${skip ? ` (skipped: ${skip})` : ''}`, () => {
  test('the Temporal server SIGKILLed mid-copy and started again: the backup completes, nothing duplicated', async () => {
    await backupThrough(async (t) => {
      await t.engine.killServer();
      await sleep(2_000);
      await t.engine.startServer();
    }, 'server-kill');
  });

  test('PostgreSQL restarted mid-copy (pg_ctl restart -m fast): the backup completes, nothing duplicated', async () => {
    await backupThrough(async (t) => {
      await t.engine.restartPostgres();
    }, 'postgres-restart');
  });

  test('PostgreSQL SIGKILLed mid-copy and started again: the backup completes, nothing duplicated', async () => {
    await backupThrough(async (t) => {
      const pid = t.engine.postgresPid();
      assert.ok(pid, 'postmaster.pid');
      process.kill(pid, 'SIGKILL');
      while (await isAlive(pid)) await sleep(100);
      await sleep(2_000);
      // A killed postmaster leaves its backends to finish dying and a stale pid file: pg_ctl start copes with both.
      await t.engine.startPostgres();
    }, 'postgres-kill');
  });

  test('two main workers and two copy workers side by side, one of each SIGKILLed mid-copy: the others take over, 0 leftovers', async () => {
    const tmp = await mkdtemp(join('/tmp', 'engine-workers-'));
    const { simulator, state } = await createOvirtSimulator({
      dataDir: join(tmp, 'sim-data'),
      deviceRoot: join(tmp, 'devices'),
      password: SIM_PASSWORD,
      snapshotCreateMs: 300,
      snapshotDeleteMs: 200,
      diskSizes: { os: 3 * 1024 * 1024, data: 1024 * 1024 },
    });
    await simulator.start(0);
    const created = countCreations(state);
    const endpointsFile = join(tmp, 'endpoints.json');
    await writeFile(
      endpointsFile,
      JSON.stringify({
        endpoints: { 'ovirt-sim': { vendor: 'ovirt', url: simulator.apiUrl, apiVersion: 'v4', auth: { type: 'sso', username: 'admin@internal', password: { env: 'ENGINE_OVIRT_PASSWORD' } } } },
      }),
    );
    const taskQueue = `engine-workers-${Math.random().toString(36).slice(2, 8)}`;
    const children: ChildProcess[] = [];
    // The real entry points, as each host runs them, with the engine's client certificate (TEMPORAL_TLS_*).
    const startWorker = async (kind: 'main' | 'copy'): Promise<ChildProcess> => {
      const env = {
        ...process.env,
        ...e.engine.clientEnv(),
        ENGINE_OVIRT_PASSWORD: SIM_PASSWORD,
        BACKUP_ENDPOINTS_FILE: endpointsFile,
        BACKUP_DATA_DIR: join(tmp, `data-${children.length}`),
        TEMPORAL_TASK_QUEUE: taskQueue,
        COPY_TASK_QUEUE: copyTaskQueueFor(OVIRT_DEMO.proxyVmId),
        COPY_DEVICE_BY_ID_DIR: join(tmp, 'devices', 'by-id'),
        COPY_DEVICE_DIR: join(tmp, 'devices'),
        BACKUP_REPOSITORY_DIR: join(tmp, 'repository'),
        // The copy is slowed down so that a kill lands in it.
        COPY_MAX_BYTES_PER_SECOND: String(384 * 1024),
        LOG_LEVEL: 'WARN',
      };
      const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, `workers/${kind}-worker.ts`)], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const seen = (d: Buffer) => {
          output += d;
          if (output.includes(`${kind} worker polling`)) resolve();
        };
        child.stdout!.on('data', seen);
        child.stderr!.on('data', seen);
        child.once('exit', (code, signal) => reject(new Error(`${kind} worker exited before it polled (${code ?? signal}):\n${output}`)));
      });
      return child;
    };
    const env = await e.testEnv();
    try {
      const mainA = await startWorker('main');
      await startWorker('main');
      const copyA = await startWorker('copy');
      const handle = await env.client.workflow.start('ovirtSnapshotBackup', {
        taskQueue,
        workflowId: `engine-workers-${Date.now()}`,
        args: [{ endpoint: 'ovirt-sim', vmId: OVIRT_DEMO.vmId, proxyVmId: OVIRT_DEMO.proxyVmId, pollIntervalMs: 100, description: 'two of each' }],
      });
      const before = await midCopy(handle);
      // The second copy worker joins while the first one copies: the copy can only move to it.
      await startWorker('copy');
      for (const child of [mainA, copyA]) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
      const manifest = (await handle.result()) as Manifest;
      console.log(`two of each: killed one main and one copy worker at ${before.bytesCopied}/${before.bytesTotal} bytes; the others completed the run`);
      await assertDisksAsTheEngineHasThem(manifest, state);
      await assertClean({ simulator, demo: OVIRT_DEMO });
      assert.deepEqual(created.duplicates(), [], 'nothing was created twice');
    } finally {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : once(c, 'exit'))));
      await env.teardown();
      await simulator.stop();
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
