import { z } from 'zod';
import { profileBase, secretRef } from '../profile-parts';

export const ovirtProfile = z.object({
  vendor: z.literal('ovirt'),
  ...profileBase,
  /** v4 uses diskattachments; v3 uses the seed's /vms/{id}/disks paths. */
  apiVersion: z.enum(['v4', 'v3']).default('v4'),
  auth: z.object({
    type: z.enum(['sso', 'basic']).default('sso'),
    username: z.string().min(1),
    password: secretRef,
  }),
});
export type OvirtProfile = z.infer<typeof ovirtProfile>;
