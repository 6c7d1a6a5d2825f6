import { z } from 'zod';
import { profileBase, secretRef } from '../profile-parts';

/** Placeholder until the Azure client lands: the vendor issue gives this its real shape. */
export const azureProfile = z.object({
  vendor: z.literal('azure'),
  ...profileBase,
  apiVersion: z.string().optional(),
  auth: z.object({ username: z.string().min(1), password: secretRef }).optional(),
});
export type AzureProfile = z.infer<typeof azureProfile>;
