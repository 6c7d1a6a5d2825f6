import { z } from 'zod';
import { profileBase, secretRef } from '../profile-parts';

/** Placeholder until the Manageiq client lands: the vendor issue gives this its real shape. */
export const manageiqProfile = z.object({
  vendor: z.literal('manageiq'),
  ...profileBase,
  apiVersion: z.string().optional(),
  auth: z.object({ username: z.string().min(1), password: secretRef }).optional(),
});
export type ManageiqProfile = z.infer<typeof manageiqProfile>;
