/**
 * Reads `perf script` output (from bench/perf-side.sh) and prints the bench process's CPU per
 * backup by where it was spent: the package or project file of the innermost JavaScript frame,
 * else the native library (V8's compiler and GC threads, libc, the kernel, the SDK's bridge).
 *   perf script -i bench/results/perf-ours.data | npx tsx bench/perf-breakdown.ts --backups 200
 */
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

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

/** Samples of one command (`node`: the bench process's threads) by place; a sample is a block of lines. */
export function breakdown(lines: Iterable<string>, comm: string, root: string): { samples: number; byPlace: Map<string, number> } {
  const byPlace = new Map<string, number>();
  let samples = 0;
  let block: string[] = [];
  const flush = () => {
    if (block[0]?.trim().split(/\s+/)[0] === comm) {
      samples++;
      const frames = block.slice(1);
      const dso = frames[0] ? /\(([^)]+)\)\s*$/.exec(frames[0])?.[1] : undefined;
      const place = frames.map((f) => placeOf(f, root)).find((p) => p !== undefined) ?? `native: ${dso?.split('/').pop() ?? 'unknown'}`;
      byPlace.set(place, (byPlace.get(place) ?? 0) + 1);
    }
    block = [];
  };
  for (const line of lines) {
    if (line.trim() === '') flush();
    else block.push(line);
  }
  flush();
  return { samples, byPlace };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { backups: { type: 'string' }, hz: { type: 'string', default: '499' }, comm: { type: 'string', default: 'node' }, top: { type: 'string', default: '30' } } });
  const backups = Number(values.backups);
  if (!(backups > 0)) throw new Error("--backups N: how many backups the profiled side ran (the bench's --n)");
  const lines: string[] = [];
  for await (const line of createInterface({ input: process.stdin })) lines.push(line);
  const { samples, byPlace } = breakdown(lines, values.comm!, `${process.cwd()}/`);
  const ms = (n: number) => ((n * 1000) / Number(values.hz) / backups).toFixed(2).padStart(8);
  console.log(`${values.comm}: ${samples} samples, ${ms(samples).trim()} ms of CPU per backup`);
  for (const [place, n] of [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`${ms(n)} ms  ${place}`);
}
