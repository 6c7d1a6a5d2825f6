/**
 * CPU time spent by this process (workers, workflow threads, client, in-process simulator) and by
 * the Temporal dev server it started. On a saturated machine throughput follows CPU per run, and
 * CPU time is far less noisy than wall time: the throughput section reports both per backup.
 */
import { readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export interface CpuSample {
  selfMs: number;
  serverMs: number;
}

function ticksOf(pid: number): number {
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** The dev server: a child of this process running `temporal server start-dev`; undefined if not found. */
export function findDevServerPid(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('start-dev')) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

export function sampleCpu(serverPid: number | undefined): CpuSample {
  const usage = process.cpuUsage();
  let serverMs = NaN;
  if (serverPid !== undefined) {
    try {
      serverMs = (ticksOf(serverPid) * 1000) / TICKS_PER_SECOND;
    } catch {
      // not readable: reported as NaN
    }
  }
  return { selfMs: (usage.user + usage.system) / 1000, serverMs };
}

export function cpuSince(start: CpuSample, serverPid: number | undefined): CpuSample {
  const now = sampleCpu(serverPid);
  return { selfMs: now.selfMs - start.selfMs, serverMs: now.serverMs - start.serverMs };
}
