/** Inputs of the repository's own workflows: checks of stored backups and their listing, on a proxy's copy worker. */
import { z } from 'zod';
import { vendorId } from '../input-fields';

/** The copy worker whose repository is meant: the proxy VM it runs on, or its queue. */
const copyWorker = {
  /** The backup-proxy VM whose copy worker holds the repository. */
  proxyVmId: vendorId('proxyVmId').optional(),
  /** Override the copy worker's queue (default: backup-copy-<proxyVmId>). */
  copyTaskQueue: z.string().min(1).max(200).optional(),
};

const needsCopyWorker = (i: { proxyVmId?: string; copyTaskQueue?: string }, ctx: z.RefinementCtx) => {
  if (i.proxyVmId === undefined && i.copyTaskQueue === undefined) {
    ctx.addIssue({ code: 'custom', path: ['proxyVmId'], message: 'proxyVmId is required (the proxy VM whose copy worker holds the repository), or copyTaskQueue' });
  }
};

/** "N/T": the N-th of T slices of the backups' files, so that T runs read every file once. */
const subset = z
  .string({ error: 'subset must be a string "N/T", e.g. "1/7"' })
  .regex(/^\d{1,4}\/\d{1,4}$/, 'subset must be "N/T" with whole numbers, e.g. "1/7"')
  .transform((s) => {
    const [n, t] = s.split('/').map(Number) as [number, number];
    return { n, t };
  })
  .refine(({ n, t }) => t >= 1 && n >= 1 && n <= t, 'subset "N/T" needs 1 ≤ N ≤ T');

export const verifyBackupsInput = z
  .strictObject({
    ...copyWorker,
    /** One backup: its repository folder, the workflow id of its backup run, or `latest` (with vmId). */
    backup: z.string().trim().min(1, 'backup must not be empty').max(500).optional(),
    /** Every backup of this VM (or, with backup `latest`, its newest). */
    vmId: vendorId('vmId').optional(),
    /** Every backup in the repository. */
    all: z.literal(true, { error: 'all must be true (or left out)' }).optional(),
    subset: subset.optional(),
  })
  .superRefine((i, ctx) => {
    needsCopyWorker(i, ctx);
    if (i.all && (i.backup !== undefined || i.vmId !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['all'], message: 'all checks every backup: give it without backup or vmId' });
    } else if (!i.all && i.backup === undefined && i.vmId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['backup'], message: 'say what to check: backup (a folder, a run id or latest), vmId (all backups of a VM) or all: true' });
    }
    if (i.backup === 'latest' && i.vmId === undefined) ctx.addIssue({ code: 'custom', path: ['vmId'], message: 'backup "latest" needs vmId: the VM whose newest backup is meant' });
  });
export type VerifyBackupsInput = z.input<typeof verifyBackupsInput>;

export const ovirtListBackupsInput = z
  .strictObject({
    ...copyWorker,
    /** Only this VM's backups. */
    vmId: vendorId('vmId').optional(),
  })
  .superRefine(needsCopyWorker);
export type OvirtListBackupsInput = z.input<typeof ovirtListBackupsInput>;
