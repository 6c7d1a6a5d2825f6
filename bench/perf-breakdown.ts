/**
 * Reads `perf script` output (from bench/perf-side.sh) and prints a command's CPU per backup by
 * where it was spent. For the bench process (`node`): the package or project file of the innermost
 * JavaScript frame, else the native library (V8's compiler and GC threads, libc, the kernel, the
 * SDK's bridge). For the dev server (`--comm temporal --go-binary <the CLI>`): the unit of work
 * the sample belongs to, a gRPC method or a history queue task, named from the binary's Go table.
 *   perf script -i bench/results/perf-ours.data | npx tsx bench/perf-breakdown.ts --backups 200
 *   perf script -i bench/results/perf-ours.data | npx tsx bench/perf-breakdown.ts --backups 200 --comm temporal --go-binary .tools/temporal/bin/temporal
 */
import { realpathSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { goFunctionNames } from './lib/go-symbols';

/** `JS:*name /repo/activities/ovirt/client.ts:12:3+0x1f (/tmp/perf-1.map)` → `activities/ovirt/client.ts`. */
export function placeOf(frame: string, root: string): string | undefined {
  const js = /\bJS:\S*\s+(\S+)/.exec(frame);
  if (!js) return undefined;
  const path = js[1]!.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1];
  if (path.startsWith('node:')) return path.replace(/:\d+:\d+.*$/, '').replace(/^node:internal\//, 'node:');
  if (/workflow-bundle|evalmachine/.test(path)) return 'workflow bundle';
  if (path.startsWith(root)) return path.slice(root.length).replace(/:\d+:\d+.*$/, '');
  return 'JavaScript, elsewhere';
}

/** The frames (leaf first, as printed) of each sample of one command; a sample is a block of lines. */
export function samplesOf(lines: Iterable<string>, comm: string): string[][] {
  const samples: string[][] = [];
  let block: string[] = [];
  const flush = () => {
    if (block[0]?.trim().split(/\s+/)[0] === comm) samples.push(block.slice(1));
    block = [];
  };
  for (const line of lines) {
    if (line.trim() === '') flush();
    else block.push(line);
  }
  flush();
  return samples;
}

function dsoOf(frame: string | undefined): string | undefined {
  return frame ? /\(([^)]+)\)\s*$/.exec(frame)?.[1] : undefined;
}

/** The file offset perf printed for a frame of a binary without symbols: `  21bcf0d [unknown] (/path)`. */
function offsetOf(frame: string): string | undefined {
  return /^\s*([0-9a-f]+)\s/.exec(frame)?.[1];
}

function count(places: Iterable<string>): { samples: number; byPlace: Map<string, number> } {
  const byPlace = new Map<string, number>();
  let samples = 0;
  for (const place of places) {
    samples++;
    byPlace.set(place, (byPlace.get(place) ?? 0) + 1);
  }
  return { samples, byPlace };
}

/** The bench process's samples by the place of their innermost JavaScript frame, else their native library. */
export function breakdown(lines: Iterable<string>, comm: string, root: string): { samples: number; byPlace: Map<string, number> } {
  return count(samplesOf(lines, comm).map((frames) => frames.map((f) => placeOf(f, root)).find((p) => p !== undefined) ?? `native: ${dsoOf(frames[0])?.split('/').pop() ?? 'unknown'}`));
}

const SERVICE_NAMES: Record<string, string> = { Workflow: 'frontend', History: 'history', Matching: 'matching', Admin: 'admin', Operator: 'operator' };

/**
 * The server's unit of work for one sample, from its Go function names (leaf first): the innermost
 * gRPC method handler or history queue task, else the Go GC's background work or gRPC's transport.
 */
export function serverUnitOf(functions: Array<string | undefined>): string {
  for (const f of functions) {
    if (!f) continue;
    const handler = /\._(\w+?)Service_(\w+)_Handler$/.exec(f);
    if (handler) return `${SERVICE_NAMES[handler[1]!] ?? handler[1]!.toLowerCase()} ${handler[2]}`;
    const task = /\(\*(\w+?)(?:Queue)?(Active|Standby)?TaskExecutor\)\.(process\w+)$/.exec(f);
    if (task) return `${task[1]} queue${task[2] ? ` (${task[2]!.toLowerCase()})` : ''} ${task[3]}`;
    if (/^runtime\.(gcBgMarkWorker|bgsweep|bgscavenge)$/.test(f)) return 'Go GC (background)';
  }
  if (functions.some((f) => f?.startsWith('google.golang.org/grpc'))) return 'gRPC (transport)';
  return functions.some((f) => f !== undefined) ? 'other' : 'unknown (outside the binary)';
}

/** The server's samples by unit of work; `binary` is the CLI that ran it, `names` its Go function names by file offset. */
export function serverBreakdown(samples: string[][], binary: string, names: Map<string, string>): { samples: number; byPlace: Map<string, number> } {
  return count(samples.map((frames) => serverUnitOf(frames.map((f) => (dsoOf(f) === binary ? names.get(offsetOf(f) ?? '') : undefined)))));
}

/** The file offsets perf printed for frames in `binary`. */
export function offsetsIn(samples: string[][], binary: string): Set<string> {
  const offsets = new Set<string>();
  for (const frames of samples) {
    for (const f of frames) {
      const offset = dsoOf(f) === binary ? offsetOf(f) : undefined;
      if (offset) offsets.add(offset);
    }
  }
  return offsets;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      backups: { type: 'string' },
      hz: { type: 'string', default: '499' },
      comm: { type: 'string', default: 'node' },
      top: { type: 'string', default: '30' },
      'go-binary': { type: 'string' },
    },
  });
  const backups = Number(values.backups);
  if (!(backups > 0)) throw new Error("--backups N: how many backups the profiled side ran (the bench's --n)");
  const lines: string[] = [];
  for await (const line of createInterface({ input: process.stdin })) lines.push(line);
  let result: { samples: number; byPlace: Map<string, number> };
  if (values['go-binary']) {
    // perf names the binary by the path it ran from: the CLI the project resolves, made absolute.
    const binary = realpathSync(values['go-binary']);
    const samples = samplesOf(lines, values.comm!);
    result = serverBreakdown(samples, binary, goFunctionNames(binary, offsetsIn(samples, binary)));
  } else {
    result = breakdown(lines, values.comm!, `${process.cwd()}/`);
  }
  const ms = (n: number) => ((n * 1000) / Number(values.hz) / backups).toFixed(2).padStart(8);
  console.log(`${values.comm}: ${result.samples} samples, ${ms(result.samples).trim()} ms of CPU per backup`);
  for (const [place, n] of [...result.byPlace].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`${ms(n)} ms  ${place}`);
}
