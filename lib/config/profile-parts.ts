/** Pieces every endpoint profile is made of. */
import { z } from 'zod';

/** A secret: inline in the worker's own (uncommitted) config file, or the name of an env variable. */
export const secretRef = z
  .object({
    value: z.string().min(1).optional(),
    env: z.string().min(1).optional(),
  })
  .refine((s) => s.value !== undefined || s.env !== undefined, 'give either "value" or "env"');
export type SecretRef = z.infer<typeof secretRef>;

export const tlsOptions = z.object({ caFile: z.string().optional(), insecure: z.boolean().optional() }).optional();

export const profileBase = {
  url: z.url(),
  tls: tlsOptions,
  timeoutMs: z.number().int().positive().optional(),
  description: z.string().optional(),
};
