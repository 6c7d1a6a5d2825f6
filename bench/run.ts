/**
 * `npm run bench [-- --quick] [--n 200] [--runs 3] [--copy-samples 3] [--only a,c,d] [--drill-runs 5] [--out file.json]`
 * Measures against its own dev server and zero-latency simulators, prints a table and writes JSON
 * (bench/results/bench-<time>.json unless --out). See docs/benchmarks.md for the method.
 * --quick: tiny sizes and the sections side by side, to check the harness works (test/bench/).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { bundles, startDevServer, tempDir } from './lib/env';
import { benchThroughput } from './throughput';
import { benchHistoryEvents } from './history-events';
import { benchCopy } from './copy';
import { benchPolling } from './polling';
import { benchRss } from './rss';
import { benchRestore } from './restore';
import { benchRestic } from './restic';
import { benchIncremental } from './incremental';
import { formatTable } from './lib/table';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    n: { type: 'string' },
    runs: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
    'copy-mib': { type: 'string' },
    'copy-samples': { type: 'string' },
    'rss-runs': { type: 'string' },
    'poll-job-seconds': { type: 'string' },
    'drill-runs': { type: 'string' },
    'incremental-mib': { type: 'string' },
  },
});

const quick = values.quick!;
const config = {
  quick,
  n: Number(values.n ?? (quick ? 3 : 200)),
  runs: Number(values.runs ?? (quick ? 1 : 3)),
  // (d): samples of the activity and cat + fsync in each run (their medians are the run's figures).
  copySamples: Number(values['copy-samples'] ?? (quick ? 1 : 3)),
  sequential: quick ? 1 : 10,
  copyMiB: Number(values['copy-mib'] ?? (quick ? 8 : 1024)),
  rssRuns: Number(values['rss-runs'] ?? (quick ? 5 : 1000)),
  pollJobSeconds: Number(values['poll-job-seconds'] ?? (quick ? 20 : 60)),
  drillRuns: Number(values['drill-runs'] ?? (quick ? 1 : 5)),
  // The drill's VM: the demo VM's two disks, at sizes a drill's bytes show in its time.
  drillDiskMiB: quick ? { os: 1, data: 1 } : { os: 128, data: 32 },
  // (i): a chain of ten backups of a 1 GiB disk, 1 % rewritten between runs; --quick: four of a 4 MiB disk, three points restored.
  incremental: { diskMiB: Number(values['incremental-mib'] ?? (quick ? 4 : 1024)), points: quick ? 4 : 10, fulls: quick ? 1 : 3, rewritePercent: quick ? 6.25 : 1, restoreAll: !quick },
  sections: new Set((values.only ?? 'a,b,c,d,e,f,g,h,i').split(',').map((s) => s.trim())),
};
const out = resolve(values.out ?? `bench/results/bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
const log = (line: string) => console.error(line);

Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });

const startedAt = new Date().toISOString();
const tmp = await tempDir('bench-');
// The workflows bundle while the dev server starts.
const bundling = bundles(tmp);
bundling.catch(() => undefined);
const env = await startDevServer();
const results: Record<string, unknown> = {};
const sectionSeconds: Record<string, number> = {};
async function section<T>(name: string, title: string, fn: () => Promise<T>): Promise<T> {
  log(title);
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    sectionSeconds[name] = Math.round((performance.now() - t0) / 100) / 10;
  }
}
try {
  log(`bench: ${JSON.stringify({ ...config, sections: [...config.sections] })}`);
  const b = await section('bundle', 'bundling the workflows', () => bundling);
  const tasks: Array<() => Promise<void>> = [];
  if (config.sections.has('a') || config.sections.has('b')) {
    tasks.push(async () => void (results.throughput = await section('throughput', '(a, b) throughput and orchestration overhead', () => benchThroughput(env, b, config, log))));
  }
  if (config.sections.has('c')) {
    tasks.push(async () => void (results.historyEvents = await section('historyEvents', '(c) history events', () => benchHistoryEvents(env, b, { quick, tmp }, log))));
  }
  if (config.sections.has('d')) {
    tasks.push(
      async () =>
        void (results.copy = await section('copy', '(d) copy throughput', () =>
          benchCopy({ mib: config.copyMiB, runs: config.runs, samples: config.copySamples, tmp, drainCapMs: quick ? 0 : undefined }, log),
        )),
    );
  }
  if (config.sections.has('e')) {
    tasks.push(async () => void (results.polling = await section('polling', '(e) polling efficiency', () => benchPolling({ jobSeconds: config.pollJobSeconds, quick }, log))));
  }
  if (config.sections.has('f')) {
    tasks.push(async () => void (results.rss = await section('rss', '(f) worker peak RSS', () => benchRss(env, { runs: config.rssRuns, bundlePath: b.mainPath, tmp }, log))));
  }
  if (config.sections.has('g')) {
    tasks.push(
      async () =>
        void (results.restore = await section('restore', '(g) restore write throughput and drill time', () =>
          benchRestore(env, b.main, { mib: config.copyMiB, runs: config.runs, drillRuns: config.drillRuns, drillDiskMiB: config.drillDiskMiB, tmp, settleSeconds: quick ? 0 : 2 }, log),
        )),
    );
  }
  if (config.sections.has('h')) {
    tasks.push(
      async () =>
        void (results.restic = await section('restic', '(h) restic repository vs directory: throughput and growth', () =>
          benchRestic({ mib: config.copyMiB, runs: Math.max(config.runs, quick ? 1 : 5), tmp }, log),
        )),
    );
  }
  if (config.sections.has('i')) {
    tasks.push(async () => void (results.incremental = await section('incremental', '(i) incremental chain', () => benchIncremental(env, b.main, { ...config.incremental, tmp }, log))));
  }
  // --quick is a smoke test of the harness (its numbers mean nothing): sections run side by side.
  // A real run measures one section at a time.
  if (quick) await Promise.all(tasks.map((t) => t()));
  else for (const t of tasks) await t();
} finally {
  await env.teardown();
  await rm(tmp, { recursive: true, force: true });
}

const report = {
  startedAt,
  finishedAt: new Date().toISOString(),
  config: { ...config, sections: [...config.sections] },
  machine: { cpus: (await import('node:os')).cpus().length, loadAverage: (await import('node:os')).loadavg(), node: process.version },
  sectionSeconds,
  results,
};
await mkdir(dirname(out), { recursive: true });
await writeFile(out, JSON.stringify(report, null, 2));
console.log(formatTable(report));
console.log(`\nJSON: ${out}`);
