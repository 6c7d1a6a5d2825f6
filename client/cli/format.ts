/** How runs look on a terminal (a progress bar that rewrites itself) and when piped (plain lines). */
import type { RunListing, RunStatus } from '../backup-client';
import type { FleetTable } from '../fleet-table';
import type { OperatorAction } from '../../contracts/operator-actions';

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

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** Turns successive statuses into lines with a transfer rate and an ETA. */
export class ProgressView {
  private samples: Array<{ at: number; bytes: number }> = [];

  constructor(private readonly now: () => number = Date.now) {}

  line(status: RunStatus, bar: boolean): string {
    const p = status.progress;
    if (status.problem) return `${status.workflowId}: ${status.status} but STUCK: ${status.problem}`;
    if (!p) return `${status.workflowId}: ${status.status}`;
    const bytes = Math.max(p.bytesCopied, status.liveBytes ?? 0);
    const at = this.now();
    this.samples.push({ at, bytes });
    // Rate over the last ~10 s, so a stall shows quickly and a burst does not dominate.
    this.samples = this.samples.filter((s) => at - s.at <= 10_000);
    const first = this.samples[0]!;
    const rate = at > first.at ? (bytes - first.bytes) / ((at - first.at) / 1000) : 0;
    const parts = [`${p.step} (${p.stepIndex + 1}/${p.steps.length})`];
    if (bar) {
      const width = 24;
      const filled = Math.round((p.percent / 100) * width);
      parts.unshift(`[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(p.percent).padStart(3)}%`);
    } else {
      parts.unshift(`${status.workflowId} ${p.state} ${p.percent}%`);
    }
    if (p.disksTotal) parts.push(`disks ${p.disksDone}/${p.disksTotal}`);
    if (p.bytesTotal) {
      parts.push(`${formatBytes(bytes)}/${formatBytes(p.bytesTotal)}`);
      if (rate > 0) parts.push(`${formatBytes(rate)}/s`, `ETA ${formatDuration((p.bytesTotal - bytes) / rate)}`);
    }
    if (status.live) parts.push(`${status.live} (live)`);
    else if (p.message) parts.push(p.message);
    return parts.join('  ');
  }
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function listTable(runs: RunListing[]): string {
  return table([
    ['WORKFLOW ID', 'TYPE', 'STATUS', 'PROVIDER', 'VM', 'STEP', 'STARTED'],
    ...runs.map((r) => [r.workflowId, r.type, r.status, r.provider ?? '', r.vmId ?? '', r.step ?? '', r.startTime.toISOString()]),
  ]);
}

/** The OnApp backup catalogue (onappListBackups' result) as a table. */
export function onappBackupsTable(result: {
  backups: Array<{ id: number; backupType: string; targetType: string; targetId: number; built: boolean; backupSizeKb: number | null; createdAt: string; builtAt: string | null; note: string | null }>;
}): string {
  if (!result.backups.length) return 'no backups';
  return table([
    ['ID', 'TYPE', 'TARGET', 'BUILT', 'SIZE', 'CREATED', 'BUILT AT', 'NOTE'],
    ...result.backups.map((b) => [
      String(b.id),
      b.backupType,
      `${b.targetType} ${b.targetId}`,
      b.built ? 'yes' : 'no',
      b.backupSizeKb === null ? '' : formatBytes(b.backupSizeKb * 1024),
      b.createdAt,
      b.builtAt ?? '',
      b.note ?? '',
    ]),
  ]);
}

/** A fleet's per-VM table (BackupClient.fleetTable), with a line of counts under it. */
export function fleetTable(fleet: FleetTable, rows = fleet.rows): string {
  const counts = Object.entries(fleet.counts)
    .filter(([, n]) => n > 0)
    .map(([outcome, n]) => `${n} ${outcome}`)
    .join(', ');
  const summary = `${fleet.workflowId}: ${fleet.status}, ${fleet.rows.length} VMs${counts ? ` (${counts})` : ''}, ${fleet.runs} run(s)`;
  if (!rows.length) return `${summary}\nno rows`;
  return `${table([['VM', 'OUTCOME', 'WORKFLOW ID', 'REASON'], ...rows.map((r) => [r.vm, r.outcome, r.workflowId, r.reason ?? ''])])}\n${summary}`;
}

/** What a run accepts from a person (BackupClient.actions), with the command that sends each. */
export function actionsTable(accepted: { workflowId: string; type: string; status: string; actions: OperatorAction[] }): string {
  const { workflowId, type, status, actions } = accepted;
  const send = (a: OperatorAction) => a.command?.replace('<id>', workflowId) ?? `backupctl ${a.kind} ${workflowId} ${a.name}${a.argument ? ` '${a.argument}'` : ''}`;
  const rows = actions.map((a) => [a.kind === 'update' && a.signal ? 'update (or signal)' : a.kind, a.name, send(a), a.summary]);
  const ended = status === 'RUNNING' ? '' : `\n(the run has ended: it answers queries only)`;
  return `${workflowId} (${type}, ${status}) accepts:\n${table([['KIND', 'NAME', 'SEND WITH', 'WHAT IT DOES'], ...rows])}${ended}`;
}
