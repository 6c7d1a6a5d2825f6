/**
 * (d)'s CPU by what it pays for: reads `perf script` output of a process that ran copies (perf
 * record -g -p <pid>, see docs/benchmarks.md, #20) and prints CPU-seconds per GiB copied by
 * category, from each sample's stack: the SHA-256 itself, the read and write syscalls (the
 * write's copy into the page cache apart), fdatasync/fsync, thread wake-ups (libuv's pool, the hash
 * thread's messages), page faults, JavaScript and the event loop, the rest of the kernel.
 *   perf record -F 999 -g -p <pid of a process copying 4 GiB> -o copy.data
 *   perf script -i copy.data | npx tsx bench/copy-profile.ts --gib 4
 */
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { samplesOf } from './perf-breakdown';

/** The first rule whose pattern any frame of the sample (leaf first) matches names its category. */
const RULES: Array<[string, RegExp]> = [
  ['SHA-256 (the hash itself)', /sha256_block_data_order/],
  ['write: copy into the page cache', /copy_folio_from_iter_atomic|copy_page_from_iter/],
  ['write: the rest (file system, page allocation, direct I/O)', /sys_pwrite64|sys_write\b/],
  ['read: copy out of the page cache', /_copy_to_iter|copy_page_to_iter/],
  ['read: the rest', /sys_pread64|sys_read\b/],
  ['fdatasync / fsync', /sys_fdatasync|sys_fsync/],
  ['bench harness (deletes, sync, spawns)', /sys_unlinkat|do_truncate|sys_sync\b|copy_process|sys_execve|sys_exit_group/],
  ['thread wake-ups and waits (futex, epoll, eventfd)', /sys_futex|sys_epoll|ep_poll|eventfd|schedule\b|__schedule/],
  ['page faults', /exc_page_fault|handle_mm_fault/],
  ['JavaScript, V8, the event loop', /Builtins_|v8::|node::|uv_|\/tmp\/perf-\d+\.map|libnode|\(\/usr\/bin\/node\)/],
];

export function categoryOf(frames: string[]): string {
  for (const [name, pattern] of RULES) if (frames.some((f) => pattern.test(f))) return name;
  return frames.some((f) => f.includes('[kernel.kallsyms]')) ? 'kernel, other' : 'other';
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { gib: { type: 'string' }, hz: { type: 'string', default: '999' }, comm: { type: 'string', default: 'node' } } });
  const gib = Number(values.gib);
  if (!(gib > 0)) throw new Error('--gib N: how many GiB the profiled copies copied');
  const lines: string[] = [];
  for await (const line of createInterface({ input: process.stdin })) lines.push(line);
  const counts = new Map<string, number>();
  const samples = samplesOf(lines, values.comm!);
  for (const frames of samples) {
    const category = categoryOf(frames);
    counts.set(category, (counts.get(category) ?? 0) + 1);
  }
  const perGiB = (n: number) => (n / Number(values.hz) / gib).toFixed(3);
  console.log(`${samples.length} samples, ${perGiB(samples.length)} CPU s per GiB`);
  for (const [name, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`${perGiB(n).padStart(7)}  ${((n / samples.length) * 100).toFixed(1).padStart(5)} %  ${name}`);
}
