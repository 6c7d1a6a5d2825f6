/**
 * Checks a cron expression before it reaches the server, so a policy file's bad cron is reported
 * with file, line and field like its other problems. Standard 5-field cron (minute hour
 * day-of-month month day-of-week) and the @-shorthands; Temporal's extended forms (6 or 7 fields,
 * L/W/#) are left for the server to judge.
 */

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
] as const;

const SHORTHANDS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** What is wrong with the expression, one sentence per problem; empty when it is fine (or extended, for the server). */
export function cronProblems(expression: string): string[] {
  const text = expression.replace(/^CRON_TZ=\S+\s+/, '').trim();
  if (text.startsWith('@')) {
    return SHORTHANDS.includes(text) || /^@every\s+\S+/.test(text) ? [] : [`"${text}" is not a cron shorthand (${SHORTHANDS.join(', ')}, @every <duration>)`];
  }
  const parts = text.split(/\s+/).filter(Boolean);
  if (parts.length === 6 || parts.length === 7 || /[LW#?]/.test(text)) return [];
  if (parts.length !== 5) return [`"${text}" has ${parts.length} field${parts.length === 1 ? '' : 's'}; a cron has 5: minute hour day-of-month month day-of-week (e.g. "0 2 * * *")`];
  return parts.flatMap((part, i) => fieldProblems(part, FIELDS[i]!, i + 1));
}

function fieldProblems(part: string, field: (typeof FIELDS)[number], position: number): string[] {
  const where = `field ${position} (${field.name}) "${part}"`;
  const value = (token: string): number | undefined => {
    if (/^\d+$/.test(token)) return Number(token);
    const named = 'names' in field ? (field.names as readonly string[]).indexOf(token.toUpperCase()) : -1;
    return named >= 0 ? named + (field.name === 'month' ? 1 : 0) : undefined;
  };
  for (const item of part.split(',')) {
    const match = /^(\*|[^-/]+(?:-[^-/]+)?)(?:\/(\d+))?$/.exec(item);
    if (!match) return [`${where} is not a number, range (a-b), list (a,b) or step (*/n)`];
    const [, range, step] = match;
    if (step !== undefined && Number(step) < 1) return [`${where} has a step of 0`];
    if (range === '*') continue;
    for (const bound of range!.split('-')) {
      const n = value(bound);
      if (n === undefined) return [`${where}: "${bound}" is not a ${field.name}`];
      if (n < field.min || n > field.max) return [`${where}: ${n} is out of range ${field.min}-${field.max}`];
    }
  }
  return [];
}
