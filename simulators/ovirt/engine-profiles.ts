/**
 * Which engine the simulator plays. The API version an engine serves, and where, depends on its
 * release (oVirt engine's VersionFilter and release notes; see the oVirt part of
 * /work/shared/reference/vendor-apis.md):
 * - 3.6 serves v3 only, on the plain paths `/api` and `/ovirt-engine/api`; it knows nothing of a
 *   `Version` header (ignored) or a `/v3` prefix, and has no SSO service (Basic auth and sessions).
 * - 4.0–4.3 served v3 beside v4 (by `Version: 3` or `/v3`); 4.4 and later serve v4 only, and their
 *   VersionFilter answers any other requested version with a bare HTTP 400 before routing.
 */
export type EngineVersion = '4.5' | '3.6';
export const ENGINE_VERSIONS: readonly EngineVersion[] = ['4.5', '3.6'];

export interface EngineProfile {
  version: EngineVersion;
  product: { major: number; minor: number; build: number; revision: number; fullVersion: string };
  /** Path prefixes the API answers under; the first is the one `simulator.apiUrl` names. */
  apiPrefixes: [string, ...string[]];
  /** API versions the engine serves; the first is the default when a request names none. */
  apiVersions: [3] | [4];
  /** Whether a request can pick the API version (`Version` header, `/vN` path prefix). */
  versionSelection: boolean;
  /** The SSO token service (`/ovirt-engine/sso/oauth/token`) exists (4.0 and later). */
  sso: boolean;
}

export const ENGINE_PROFILES: Record<EngineVersion, EngineProfile> = {
  '4.5': {
    version: '4.5',
    product: { major: 4, minor: 5, build: 4, revision: 0, fullVersion: '4.5.4-1.el8' },
    apiPrefixes: ['/ovirt-engine/api'],
    apiVersions: [4],
    versionSelection: true,
    sso: true,
  },
  '3.6': {
    version: '3.6',
    product: { major: 3, minor: 6, build: 7, revision: 5, fullVersion: '3.6.7.5-1.el7.centos' },
    apiPrefixes: ['/api', '/ovirt-engine/api'],
    apiVersions: [3],
    versionSelection: false,
    sso: false,
  },
};
