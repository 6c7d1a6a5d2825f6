/**
 * (f) Peak RSS of a real main-worker process (workers/main-worker.ts, configured through env as in
 * production) with N backups in flight: every run is parked at its first copy-worker activity
 * (no copy worker polls that queue): the repository preflight, right after the engine's preflight,
 * with its workflow in the worker's cache. Read from /proc/<pid>/status (VmHWM).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startBenchOvirt } from './lib/env';

const root = resolve(new URL('..', import.meta.url).pathname);

export interface RssResult {
  runsInFlight: number;
  idleRssMiB: number;
  peakRssMiB: number;
  perRunKiB: number;
  maxCachedWorkflows: number;
  secondsToPark: number;
}

async function procStatus(pid: number): Promise<Record<string, number>> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(Vm\w+):\s+(\d+) kB$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolvePromise, reject) => {
    const tick = async () => {
      try {
        if (await check()) return resolvePromise();
        if (Date.now() > until) return reject(new Error(`timed out waiting for ${what}`));
        setTimeout(() => void tick(), 200); // tick settles the promise itself, errors included
      } catch (err) {
        reject(err);
      }
    };
    void tick();
  });
}

export async function benchRss(env: TestWorkflowEnvironment, options: { runs: number; bundlePath: string; tmp: string }, log: (line: string) => void): Promise<RssResult> {
  const sim = await startBenchOvirt(options.runs);
  const suffix = Math.random().toString(36).slice(2, 8);
  const queue = `bench-rss-${suffix}`;
  const endpointsFile = join(options.tmp, 'rss-endpoints.json');
  await writeFile(endpointsFile, JSON.stringify({ endpoints: sim.endpoints }));
  const maxCachedWorkflows = options.runs + 100;
  let child: ChildProcess | undefined;
  let output = '';
  try {
    child = spawn(process.execPath, ['--import', 'tsx', join(root, 'workers/main-worker.ts')], {
      cwd: root,
      env: {
        ...process.env,
        ...sim.secrets,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: env.namespace ?? 'default',
        TEMPORAL_TASK_QUEUE: queue,
        BACKUP_ENDPOINTS_FILE: endpointsFile,
        WORKFLOW_BUNDLE_PATH: options.bundlePath,
        WORKER_MAX_CACHED_WORKFLOWS: String(maxCachedWorkflows),
        LOG_LEVEL: 'ERROR',
        METRICS_PORT: '',
        METRICS_BIND_ADDRESS: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((r) => child!.once('exit', r));
    await Promise.race([
      waitFor(() => output.includes('main worker polling'), 60_000, 'the worker to start'),
      exited.then((code) => Promise.reject(new Error(`worker exited (${code}): ${output.slice(-2000)}`))),
    ]);
    const pid = child.pid!;
    await new Promise((r) => setTimeout(r, 1000));
    const idle = await procStatus(pid);

    const t0 = Date.now();
    // A run's engine preflight lists its VM's disks last; the repository preflight it then waits on is never taken.
    const parked = () => new Set(sim.simulator.calls.all().flatMap((c) => (c.method === 'GET' ? (/^\/vms\/([^/]+)\/diskattachments$/.exec(c.path)?.[1] ?? []) : []))).size;
    await Promise.all(
      sim.vmIds.map((vmId, i) =>
        env.client.workflow.start('ovirtSnapshotBackup', {
          taskQueue: queue,
          workflowId: `bench-rss-${suffix}-${i}`,
          args: [{ endpoint: 'ovirt-bench', vmId, proxyVmId: sim.proxyVmId, copyTaskQueue: `${queue}-nobody-polls`, pollIntervalMs: 50 }],
        }),
      ),
    );
    await waitFor(() => parked() >= options.runs, 10 * 60_000, `${options.runs} runs to reach the copy queue`);
    const secondsToPark = (Date.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 2000));
    const peak = await procStatus(pid);
    const result: RssResult = {
      runsInFlight: options.runs,
      idleRssMiB: Math.round((idle.VmRSS ?? 0) / 1024),
      peakRssMiB: Math.round((peak.VmHWM ?? 0) / 1024),
      perRunKiB: Math.round(((peak.VmHWM ?? 0) - (idle.VmRSS ?? 0)) / options.runs),
      maxCachedWorkflows,
      secondsToPark: Math.round(secondsToPark * 10) / 10,
    };
    log(`  ${options.runs} runs in flight after ${result.secondsToPark} s: peak RSS ${result.peakRssMiB} MiB (idle ${result.idleRssMiB} MiB, ~${result.perRunKiB} KiB per run)`);
    return result;
  } finally {
    if (child && child.exitCode === null) {
      const gone = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child!.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    await sim.stop();
  }
}
