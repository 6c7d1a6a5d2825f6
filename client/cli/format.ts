/** How runs look on a terminal (a progress line that rewrites itself) and when piped (plain lines). */
import type { RunStatus } from '../backup-client';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function progressLine(status: RunStatus): string {
  const p = status.progress;
  if (!p) return `${status.workflowId}: ${status.status}`;
  const bytes = Math.max(p.bytesCopied, status.liveBytes ?? 0);
  const parts = [
    `${status.workflowId}`,
    `${p.state}`,
    `step ${p.stepIndex + 1}/${p.steps.length} ${p.step}`,
    `${p.percent}%`,
  ];
  if (p.disksTotal) parts.push(`disks ${p.disksDone}/${p.disksTotal}`);
  if (p.bytesTotal) parts.push(`${formatBytes(bytes)} / ${formatBytes(p.bytesTotal)}`);
  return parts.join('  ');
}
