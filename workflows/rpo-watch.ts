/**
 * rpoWatch: for each VM a backup schedule covers (or each target given), finds the newest good
 * backup in visibility and, when it is older than the expected interval plus the grace, alerts
 * "VM X missed its RPO". The event id is the VM and the due time, so a watch scheduled every few
 * minutes alerts once per miss, and again only after a good backup has come and gone stale.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { RpoActivities } from '../activities/alerts/rpo';
import { rpoWatchInput, watchesSchedules, type RpoTarget } from '../contracts/alerts/input';
import type { RpoCheck, RpoWatchResult } from '../contracts/alerts/results';
import { quickCall } from './shared/activity-options';
import { sendAlert } from './shared/alert';
import { openRun } from './shared/workflow-run';

const rpo = proxyActivities<RpoActivities>({ ...quickCall, heartbeatTimeout: '1 minute' });

export const RPO_WATCH_STEPS = ['targets', 'check'] as const;

export async function rpoWatch(rawInput: unknown): Promise<RpoWatchResult> {
  const run = openRun(
    {
      workflowType: 'rpoWatch',
      steps: RPO_WATCH_STEPS,
      input: rpoWatchInput,
      about: (i) => `RPO of ${[i.targets.length ? `${i.targets.length} VM(s)` : '', watchesSchedules(i) ? 'every scheduled VM' : ''].filter(Boolean).join(' and ')}`,
    },
    rawInput,
  );
  const { input, progress, workflowId, runId } = run;

  return run.steps(async () => {
    progress.enter('targets');
    const fromSchedules = watchesSchedules(input) ? await rpo.rpoScheduleTargets({ graceMinutes: input.graceMinutes }) : [];
    const seen = new Set<string>();
    const targets = [...input.targets, ...fromSchedules].filter((t) => {
      const key = `${t.provider}/${t.vmId}`;
      return !seen.has(key) && seen.add(key);
    });

    progress.enter('check');
    const checked: RpoCheck[] = [];
    for (const target of targets) checked.push(await check(target, input.graceMinutes, workflowId, runId));
    progress.finish('completed');
    return { checked, missed: checked.filter((c) => c.missed).length };
  });
}

async function check(target: RpoTarget, defaultGrace: number, workflowId: string, runId: string): Promise<RpoCheck> {
  const graceMinutes = target.graceMinutes ?? defaultGrace;
  const { provider, vmId, expectedIntervalMinutes } = target;
  const last = await rpo.lastSuccessfulBackup({ provider, vmId });
  const base: RpoCheck = { provider, vmId, expectedIntervalMinutes, graceMinutes, missed: true };
  // Never backed up: one alert until a first good backup (its event id has no due time).
  if (!last.closeTime) return { ...base, alert: await alert(base, `no good backup found, expected every ${every(expectedIntervalMinutes)}`, 'never', workflowId, runId) };
  const dueAt = new Date(Date.parse(last.closeTime) + (expectedIntervalMinutes + graceMinutes) * 60_000).toISOString();
  const seen = { ...base, lastSuccessAt: last.closeTime, dueAt };
  if (Date.now() <= Date.parse(dueAt)) return { ...seen, missed: false };
  return { ...seen, alert: await alert(seen, `last good backup at ${last.closeTime}, expected every ${every(expectedIntervalMinutes)} (grace ${every(graceMinutes)})`, dueAt, workflowId, runId) };
}

async function alert(c: RpoCheck, reason: string, dueAt: string, workflowId: string, runId: string): Promise<RpoCheck['alert']> {
  const result = await sendAlert({ kind: 'rpo-missed', provider: c.provider, vmId: c.vmId, workflowType: 'rpoWatch', workflowId, runId, step: 'check', reason, dueAt, at: new Date().toISOString() });
  return { sent: result.sent, eventId: result.eventId ?? '', ...(result.reason ? { reason: result.reason } : {}) };
}

function every(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}
