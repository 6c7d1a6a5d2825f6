/** Inputs of the Azure Backup workflows; shared by the workflows, the client library and the CLI. */
import { z } from 'zod';
import { endpointName, vendorId } from '../input-fields';

const vmSelector = {
  endpoint: endpointName,
  /** The VM's name as the vault lists it (friendlyName)… */
  vmName: vendorId('vmName').optional(),
  /** …or its ARM resource id (wins when both are given). */
  vmResourceId: z
    .string()
    .regex(
      /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/virtualMachines\/[^/]+$/i,
      'vmResourceId must be a VM resource id (/subscriptions/…/providers/Microsoft.Compute/virtualMachines/<name>)',
    )
    .optional(),
};
const needVm = (i: { vmName?: string; vmResourceId?: string }) => Boolean(i.vmName || i.vmResourceId);
const needVmMessage = { message: 'give vmName or vmResourceId', path: ['vmName'] };

/** How often the workflow looks at a running job or async operation (ms). */
const pollIntervalMs = z.number().int().min(50).max(300_000).default(5_000);
const policyName = z.string().trim().min(1).max(150).default('DefaultPolicy');

export const azureProtectVmInput = z.strictObject({ ...vmSelector, policyName, pollIntervalMs }).refine(needVm, needVmMessage);

export const azureVmBackupInput = z
  .strictObject({
    ...vmSelector,
    /** Enable protection first when the VM is not protected yet (with policyName). */
    protectIfNeeded: z.boolean().default(false),
    policyName,
    /** Recovery point expiry: days from now (default 30), or an explicit UTC time. */
    recoveryPointExpiryDays: z
      .number()
      .int()
      .min(1)
      .max(99 * 365)
      .default(30),
    recoveryPointExpiryTime: z.iso.datetime({ message: 'recoveryPointExpiryTime must be an ISO-8601 UTC date-time' }).optional(),
    /** Give up (and cancel the Azure job) after this long. */
    jobTimeoutMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(24 * 60),
    pollIntervalMs,
  })
  .refine(needVm, needVmMessage);

export const azureRestoreInput = z
  .strictObject({
    ...vmSelector,
    /** "latest" (default) or a recovery point name. */
    recoveryPoint: z.string().trim().min(1).default('latest'),
    /** RestoreDisks: disks into a resource group via a staging storage account; AlternateLocation: a new VM. */
    restoreType: z.enum(['RestoreDisks', 'AlternateLocation']),
    /** Staging storage account (resource id), required by both kinds. */
    storageAccountId: z.string().regex(/\/providers\/Microsoft\.Storage\/storageAccounts\/[^/]+$/i, 'storageAccountId must be a storage account resource id'),
    /** The vault's region (restores stay in it). */
    region: z.string().trim().min(1),
    /** Resource group (resource id) for the restored disks or the new VM. */
    targetResourceGroupId: z
      .string()
      .regex(/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+$/i, 'targetResourceGroupId must be a resource group id (/subscriptions/…/resourceGroups/<name>)')
      .optional(),
    /** AlternateLocation: name of the new VM, its virtual network and subnet (resource ids). */
    targetVmName: z.string().trim().min(1).max(64).optional(),
    virtualNetworkId: z.string().min(1).optional(),
    subnetId: z.string().min(1).optional(),
    jobTimeoutMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(24 * 60),
    pollIntervalMs,
  })
  .refine(needVm, needVmMessage)
  .superRefine((i, ctx) => {
    if (i.restoreType !== 'AlternateLocation') return;
    for (const key of ['targetVmName', 'targetResourceGroupId', 'virtualNetworkId', 'subnetId'] as const) {
      if (!i[key]) ctx.addIssue({ code: 'custom', path: [key], message: `${key} is required when restoreType is AlternateLocation` });
    }
  });

export const azureFileRecoveryInput = z
  .strictObject({
    ...vmSelector,
    recoveryPoint: z.string().trim().min(1).default('latest'),
    /** iSCSI initiator name of the machine that will run the script (default: derived from the run). */
    initiatorName: z.string().trim().min(1).max(223).optional(),
    /** The connection is revoked after this long even without a "done" signal. */
    timeLimitSeconds: z
      .number()
      .int()
      .min(1)
      .max(12 * 3600)
      .default(3600),
    pollIntervalMs,
  })
  .refine(needVm, needVmMessage);

export type AzureProtectVmInput = z.input<typeof azureProtectVmInput>;
export type AzureVmBackupInput = z.input<typeof azureVmBackupInput>;
export type AzureRestoreInput = z.input<typeof azureRestoreInput>;
export type AzureFileRecoveryInput = z.input<typeof azureFileRecoveryInput>;
