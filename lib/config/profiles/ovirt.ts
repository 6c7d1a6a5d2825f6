import { z } from 'zod';
import { profileBase, secretRef } from '../profile-parts';

export const ovirtProfile = z
  .object({
    vendor: z.literal('ovirt'),
    ...profileBase,
    /** v4 uses diskattachments; v3 uses the seed's /vms/{id}/disks paths. */
    apiVersion: z.enum(['v4', 'v3']).default('v4'),
    auth: z.object({
      type: z.enum(['sso', 'basic']).default('sso'),
      username: z.string().min(1),
      password: secretRef,
    }),
  })
  .refine((p) => p.apiVersion !== 'v3' || !/\/v\d+\/?$/.test(new URL(p.url).pathname), {
    // A 3.x engine serves v3 on the plain path and has no /v3 (nor /v4) below it; 4.0–4.3 engines
    // also answer v3 there, as the client asks for it with the Version header they honour.
    message: 'apiVersion v3 needs the plain API path (https://engine/api or https://engine/ovirt-engine/api), not one ending in /v3 or /v4',
    path: ['url'],
  });
export type OvirtProfile = z.infer<typeof ovirtProfile>;
