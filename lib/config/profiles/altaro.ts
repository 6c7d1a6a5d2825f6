import { z } from 'zod';
import { profileBase, secretRef } from '../profile-parts';

/**
 * The one version → base-path table of the Altaro / Hornetsecurity VM Backup REST API. The port is
 * part of the profile's `url` (the service's documented default port is shown for reference).
 */
export const ALTARO_API_LAYOUTS = [
  { versions: /^8\./, basePath: '/api', defaultPort: 35113, label: '8.x' },
  { versions: /^9\.0(\.|$)/, basePath: '/api', defaultPort: 36015, label: '9.0.x' },
  { versions: /^(9\.([1-9]\d*)|[1-9]\d+\.)/, basePath: '/api/rest', defaultPort: 36013, label: '9.1.x and later' },
] as const;

/** The REST base path for a product version ("8.5.0", "9.0", "9.1.2" …), or undefined if unknown. */
export function altaroBasePath(productVersion: string): string | undefined {
  return ALTARO_API_LAYOUTS.find((l) => l.versions.test(productVersion))?.basePath;
}

export const altaroProfile = z.object({
  vendor: z.literal('altaro'),
  ...profileBase,
  /**
   * The service's origin, e.g. "http://localhost:36013". The REST base path follows
   * `productVersion` (see ALTARO_API_LAYOUTS) unless the url already carries a path.
   */
  url: z.url(),
  productVersion: z
    .string()
    .regex(/^\d+\.\d+(\.\d+)*$/, 'productVersion must look like 8.6, 9.0.3 or 9.1.0')
    .refine((v) => altaroBasePath(v) !== undefined, 'productVersion must be 8.x, 9.0.x or 9.1.x or later')
    .default('9.1'),
  auth: z.object({
    username: z.string().min(1),
    password: secretRef,
    domain: z.string().default(''),
    /** The backup server the REST service talks to (the API's own default: this machine). */
    serverAddress: z.string().default('LOCALHOST'),
    serverPort: z.number().int().positive().default(35107),
  }),
  /**
   * Paths of the instructions whose routes are not public (restore, seed-to-disk, sandbox restore,
   * verification): override them per install, e.g. { "restore": "/instructions/restore-vm" }.
   */
  instructionPaths: z.record(z.string(), z.string().regex(/^\/[A-Za-z0-9/_-]+$/)).optional(),
});
export type AltaroProfile = z.infer<typeof altaroProfile>;

/** The full API base URL of a profile. */
export function altaroApiBase(profile: Pick<AltaroProfile, 'url' | 'productVersion'>): string {
  const url = new URL(profile.url);
  const path = url.pathname.replace(/\/+$/, '');
  if (path) return `${url.origin}${path}`;
  return `${url.origin}${altaroBasePath(profile.productVersion) ?? '/api/rest'}`;
}
