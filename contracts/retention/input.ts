/** The keep rules as inputs take them (pruneBackups, a schedule's repositoryRetention), and pruneBackups' input. */
import { z } from 'zod';
import { vendorId } from '../input-fields';
import { KEEP_RULES, type KeepRuleName } from './keep-rules';

const count = (rule: KeepRuleName) =>
  z
    .number({ error: `${rule} must be a whole number` })
    .int(`${rule} must be a whole number`)
    .min(0, `${rule} must be 0 or more`)
    .max(100_000)
    .optional();

/** keepLast … keepYearly: restic forget's --keep-* (contracts/retention/keep-rules.ts says what each keeps). */
export const keepRuleFields = Object.fromEntries(KEEP_RULES.map((rule) => [rule, count(rule)])) as { [R in KeepRuleName]: ReturnType<typeof count> };

/** The wall clock days, weeks and months are counted in (IANA name, default UTC). */
export const timeZoneField = z
  .string()
  .min(1)
  .max(100)
  .refine(
    (zone) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    },
    { message: 'timeZone must be an IANA time zone, e.g. "UTC" or "Europe/Berlin"' },
  );

/** Refuses rules that keep nothing: retention without a rule would remove every backup but the protected ones. */
export function needsKeepRule(rules: Partial<Record<KeepRuleName, number | undefined>>, ctx: z.RefinementCtx): void {
  if (!KEEP_RULES.some((r) => (rules[r] ?? 0) > 0)) {
    ctx.addIssue({ code: 'custom', path: ['keepLast'], message: `give at least one keep rule above 0: ${KEEP_RULES.join(', ')}` });
  }
}

export const pruneBackupsInput = z
  .strictObject({
    /** The backup-proxy VM whose copy worker holds the repository. */
    proxyVmId: vendorId('proxyVmId').optional(),
    /** Override the copy worker's queue (default: backup-copy-<proxyVmId>). */
    copyTaskQueue: z.string().min(1).max(200).optional(),
    /** This VM's backups. */
    vmId: vendorId('vmId').optional(),
    /** Every VM's backups, each VM by itself. */
    all: z.literal(true, { error: 'all must be true (or left out)' }).optional(),
    ...keepRuleFields,
    timeZone: timeZoneField.optional(),
    /** Decide and report, remove nothing. */
    dryRun: z.boolean().optional(),
  })
  .superRefine((i, ctx) => {
    if (i.proxyVmId === undefined && i.copyTaskQueue === undefined) {
      ctx.addIssue({ code: 'custom', path: ['proxyVmId'], message: 'proxyVmId is required (the proxy VM whose copy worker holds the repository), or copyTaskQueue' });
    }
    if (i.all && i.vmId !== undefined) ctx.addIssue({ code: 'custom', path: ['all'], message: 'all prunes every VM: give it without vmId' });
    else if (!i.all && i.vmId === undefined) ctx.addIssue({ code: 'custom', path: ['vmId'], message: 'say whose backups to prune: vmId, or all: true' });
    needsKeepRule(i, ctx);
  });
export type PruneBackupsInput = z.input<typeof pruneBackupsInput>;
