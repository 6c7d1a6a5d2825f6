/** `backupctl schedule …`: Temporal Schedules managed from policy files. */
import { InvalidInputError } from '../errors';
import type { BackupClient } from '../backup-client';
import { overlapPolicies, readPolicy } from '../schedules/policy';
import { ScheduleManager } from '../schedules/schedule-manager';
import { table } from './format';

export const SCHEDULE_USAGE = `  backupctl schedule apply <policy.yaml|json>       create or update every schedule in the file (idempotent)
  backupctl schedule create <policy.yaml|json> [--id ID]
  backupctl schedule list | describe <id> | delete <id>
  backupctl schedule pause <id> [--note TEXT] | unpause <id> [--note TEXT]
  backupctl schedule trigger <id> [--overlap skip|allowAll|…]
  backupctl schedule backfill <id> --start ISO --end ISO [--overlap allowAll|skip|…]`;

type Values = { json: boolean; note?: string; id?: string; start?: string; end?: string; overlap?: string };

function out(json: boolean, value: unknown, text: () => string): void {
  if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else console.log(text());
}

function overlapOf(value: string | undefined): keyof typeof overlapPolicies | undefined {
  if (value === undefined) return undefined;
  if (!(value in overlapPolicies)) throw new InvalidInputError([`--overlap must be one of ${Object.keys(overlapPolicies).join(', ')}`], 'schedule');
  return value as keyof typeof overlapPolicies;
}

function date(value: string | undefined, flag: string): Date {
  const d = value ? new Date(value) : undefined;
  if (!d || Number.isNaN(d.getTime())) throw new InvalidInputError([`${flag} must be an ISO date-time`], 'schedule backfill');
  return d;
}

export async function runScheduleCommand(client: BackupClient, sub: string | undefined, args: string[], values: Values): Promise<number> {
  const schedules = new ScheduleManager(client.client, client.taskQueue);
  const [target] = args;
  const need = (what: string) => {
    if (!target) throw new InvalidInputError([`schedule ${sub} needs ${what}`], 'schedule');
    return target;
  };
  switch (sub) {
    case 'apply': {
      const result = await schedules.apply(await readPolicy(need('a policy file')));
      out(values.json, result, () => result.map((r) => `${r.outcome.padEnd(9)} ${r.id}`).join('\n'));
      return 0;
    }
    case 'create': {
      const entries = (await readPolicy(need('a policy file'))).filter((e) => !values.id || e.id === values.id);
      if (!entries.length) throw new InvalidInputError([`no schedule ${values.id} in ${target}`], 'schedule create');
      for (const e of entries) await schedules.create(e);
      out(
        values.json,
        entries.map((e) => ({ id: e.id, outcome: 'created' })),
        () => entries.map((e) => `created   ${e.id}`).join('\n'),
      );
      return 0;
    }
    case 'list': {
      const list = await schedules.list();
      out(values.json, list, () =>
        list.length
          ? table([['ID', 'PAUSED', 'NEXT RUN', 'RECENT RUNS', 'NOTE'], ...list.map((s) => [s.id, String(s.paused), s.nextActionTimes[0]?.toISOString() ?? '', String(s.recentActions), s.note ?? ''])])
          : 'no schedules',
      );
      return 0;
    }
    case 'describe': {
      const d = await schedules.describe(need('a schedule id'));
      const summary = {
        id: d.scheduleId,
        paused: d.state.paused,
        note: d.state.note,
        spec: d.spec,
        policies: d.policies,
        action: d.action,
        numActionsTaken: d.info.numActionsTaken,
        numActionsSkippedOverlap: d.info.numActionsSkippedOverlap,
        numActionsMissedCatchupWindow: d.info.numActionsMissedCatchupWindow,
        recentActions: d.info.recentActions,
        runningActions: d.info.runningActions,
        nextActionTimes: d.info.nextActionTimes,
      };
      out(values.json, summary, () => JSON.stringify(summary, null, 2));
      return 0;
    }
    case 'pause':
      await schedules.pause(need('a schedule id'), values.note);
      out(values.json, { id: target, paused: true }, () => `paused ${target}`);
      return 0;
    case 'unpause':
      await schedules.unpause(need('a schedule id'), values.note);
      out(values.json, { id: target, paused: false }, () => `unpaused ${target}`);
      return 0;
    case 'trigger':
      await schedules.trigger(need('a schedule id'), overlapOf(values.overlap));
      out(values.json, { id: target, triggered: true }, () => `triggered ${target}`);
      return 0;
    case 'backfill': {
      const start = date(values.start, '--start');
      const end = date(values.end, '--end');
      await schedules.backfill(need('a schedule id'), start, end, overlapOf(values.overlap));
      out(values.json, { id: target, backfill: { start, end } }, () => `backfill of ${target} from ${start.toISOString()} to ${end.toISOString()} requested`);
      return 0;
    }
    case 'delete':
      await schedules.delete(need('a schedule id'));
      out(values.json, { id: target, deleted: true }, () => `deleted ${target}`);
      return 0;
    default:
      throw new InvalidInputError([`unknown schedule command "${sub ?? ''}"`, SCHEDULE_USAGE], 'schedule');
  }
}
