import { z } from 'zod';
import { profileBase, secretRef } from '../profile-parts';

/** Placeholder until the Altaro client lands: the vendor issue gives this its real shape. */
export const altaroProfile = z.object({
  vendor: z.literal('altaro'),
  ...profileBase,
  apiVersion: z.string().optional(),
  auth: z.object({ username: z.string().min(1), password: secretRef }).optional(),
});
export type AltaroProfile = z.infer<typeof altaroProfile>;
