/**
 * Whether a copy's buffers land on transparent huge pages. It matters for direct writes: the kernel
 * builds a direct write's requests from the buffer's physical pages, at most `max_segments` of them
 * per request. From 4 KiB pages scattered in memory an 8 MiB write left as up to 16 requests
 * (0.5 MiB and up, as the pages fell); from 2 MiB pages, as two requests of `max_sectors_kb` (4 MiB
 * on a virtio disk). A virtual disk whose host charged more per request then took 1.2–1.5 s per GiB
 * instead of 0.7–0.9 for the same copy (docs/benchmarks.md, (d)).
 *
 * Node cannot ask for huge pages itself (no madvise). Linux gives them to anonymous memory when
 * transparent huge pages are `always`, or `madvise` and the allocator asks: glibc does for the
 * memory it maps when the process starts with GLIBC_TUNABLES=glibc.malloc.hugetlb=1, which is why
 * the copy worker's launchers set it. Whether it took effect is measured, not assumed: allocate and
 * touch a few MiB of shared memory (as the copy's buffers are) and see whether the process's
 * AnonHugePages grew.
 */
import { readFileSync } from 'node:fs';

export const HUGE_PAGE_TUNABLE = 'glibc.malloc.hugetlb=1';

const PROBE_BYTES = 8 * 1024 * 1024;

function anonHugeKiB(): number | undefined {
  try {
    const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
    const kib = /^AnonHugePages:\s+(\d+) kB/m.exec(rollup)?.[1];
    return kib === undefined ? undefined : Number(kib);
  } catch {
    return undefined;
  }
}

function thpMode(): string | undefined {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

export interface HugePageCheck {
  /** The copy's buffers, allocated now, would be on huge pages. */
  onHugePages: boolean;
  /** One line for the worker's start-up log. */
  notice: string;
}

export function checkHugePageBuffers(env: NodeJS.ProcessEnv = process.env): HugePageCheck {
  const before = anonHugeKiB();
  const mode = thpMode();
  if (before === undefined || mode === undefined)
    return { onHugePages: false, notice: 'copy buffers: this kernel does not report transparent huge pages; direct writes leave in requests as small as its pages' };
  const memory = new Uint8Array(new SharedArrayBuffer(PROBE_BYTES));
  for (let i = 0; i < memory.length; i += 4096) memory[i] = 1;
  const grew = (anonHugeKiB() ?? 0) > before;
  if (grew) return { onHugePages: true, notice: `copy buffers on huge pages (transparent huge pages: ${mode}${mode === 'always' ? '' : `, GLIBC_TUNABLES=${env.GLIBC_TUNABLES ?? ''}`})` };
  const hint =
    mode === 'never'
      ? 'transparent huge pages are off on this host (/sys/kernel/mm/transparent_hugepage/enabled: never)'
      : `start the copy worker with GLIBC_TUNABLES=${HUGE_PAGE_TUNABLE} (transparent huge pages: ${mode})`;
  return { onHugePages: false, notice: `copy buffers on 4 KiB pages: direct writes may leave in many small requests, which some virtual disks serve slowly; ${hint}` };
}

/** GLIBC_TUNABLES for a copy worker's process: what `env` has, with the huge-page tunable added. */
export function hugePageTunables(env: NodeJS.ProcessEnv = process.env): string {
  const current = env.GLIBC_TUNABLES;
  if (current?.split(':').includes(HUGE_PAGE_TUNABLE)) return current;
  return current ? `${current}:${HUGE_PAGE_TUNABLE}` : HUGE_PAGE_TUNABLE;
}
