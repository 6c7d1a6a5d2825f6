import { z } from 'zod';
import { profileBase, secretRef } from '../profile-parts';

/** Placeholder until the Onapp client lands: the vendor issue gives this its real shape. */
export const onappProfile = z.object({
  vendor: z.literal('onapp'),
  ...profileBase,
  apiVersion: z.string().optional(),
  auth: z.object({ username: z.string().min(1), password: secretRef }).optional(),
});
export type OnappProfile = z.infer<typeof onappProfile>;
