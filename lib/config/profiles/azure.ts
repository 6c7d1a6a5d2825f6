import { z } from 'zod';
import { profileBase, secretRef } from '../profile-parts';

/**
 * Azure Backup (Microsoft.RecoveryServices): `url` is the ARM endpoint (https://management.azure.com
 * for the public cloud); the vault is named by subscription, resource group and vault name. The
 * client secret is an env reference; the OAuth token is fetched and cached by the worker only.
 */
export const azureProfile = z.object({
  vendor: z.literal('azure'),
  ...profileBase,
  /** The `api-version` query parameter sent on every ARM call. */
  apiVersion: z.string().min(1).default('2023-06-01'),
  subscriptionId: z.string().min(1),
  resourceGroup: z.string().min(1),
  vaultName: z.string().min(1),
  auth: z.object({
    tenantId: z.string().min(1),
    clientId: z.string().min(1),
    clientSecret: secretRef,
    /** Default https://login.microsoftonline.com/{tenantId}/oauth2/v2.0/token. */
    tokenUrl: z.url().optional(),
    /** Default `${url}/.default`. */
    scope: z.string().min(1).optional(),
  }),
  /**
   * Worker-side folder where file-recovery scripts and their passwords are stored for the requester
   * (never in workflow history). Default: $AZURE_FILE_RECOVERY_DIR, else .data/azure-file-recovery.
   */
  fileRecoveryDir: z.string().min(1).optional(),
});
export type AzureProfile = z.infer<typeof azureProfile>;
