import { z } from 'zod';
import { profileBase, secretRef } from '../profile-parts';

/**
 * ManageIQ / CloudForms REST API: `url` is the API root (https://miq.example.com/api). `basic` sends
 * the credentials on every call; `token` (default) trades them once at GET /api/auth for an
 * X-Auth-Token, renewed when the appliance says it expired.
 */
export const manageiqProfile = z.object({
  vendor: z.literal('manageiq'),
  ...profileBase,
  auth: z.object({
    type: z.enum(['token', 'basic']).default('token'),
    username: z.string().min(1),
    password: secretRef,
    /** X-MIQ-Group: the group to act as, when the user belongs to several. */
    group: z.string().min(1).optional(),
  }),
});
export type ManageiqProfile = z.infer<typeof manageiqProfile>;
