/**
 * How every caller of ours reaches the Temporal frontend: workers (NativeConnection), backupctl and
 * the client library (Connection), npm start and the chaos harness. One schema for the address, the
 * namespace and the credentials (TLS, a client certificate, an API key), one function that turns
 * them into connection options, one line that says which credential is in use (never the secret).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** A boolean setting as an environment variable may spell it. */
export const envBoolean = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v))]);

export const temporalConnectionSchema = z
  .strictObject({
    address: z.string().min(1).default('127.0.0.1:7233'),
    namespace: z.string().min(1).default('default'),
    /** TLS to the frontend: on with a client certificate, a CA, an API key, or `tls: true`. */
    tls: envBoolean.optional(),
    tlsCertFile: z.string().min(1).optional(),
    tlsKeyFile: z.string().min(1).optional(),
    tlsCaFile: z.string().min(1).optional(),
    tlsServerName: z.string().min(1).optional(),
    /** Temporal Cloud API key (env TEMPORAL_API_KEY only is recommended). */
    apiKey: z.string().min(1).optional(),
  })
  .prefault({})
  .refine((t) => !t.tlsCertFile === !t.tlsKeyFile, { message: 'tlsCertFile and tlsKeyFile go together (TEMPORAL_TLS_CERT_FILE, TEMPORAL_TLS_KEY_FILE)' });

export type TemporalConnectionSettings = z.output<typeof temporalConnectionSchema>;
type Field = keyof TemporalConnectionSettings;

/** Environment variable → setting; the same names as the Temporal CLI's where it has one. */
export const TEMPORAL_CONNECTION_ENV: Record<string, Field> = {
  TEMPORAL_ADDRESS: 'address',
  TEMPORAL_NAMESPACE: 'namespace',
  TEMPORAL_TLS: 'tls',
  TEMPORAL_TLS_CERT_FILE: 'tlsCertFile',
  TEMPORAL_TLS_KEY_FILE: 'tlsKeyFile',
  TEMPORAL_TLS_CA_FILE: 'tlsCaFile',
  TEMPORAL_TLS_SERVER_NAME: 'tlsServerName',
  TEMPORAL_API_KEY: 'apiKey',
};

/** The variables that choose a credential: a harness talking to a server it started itself clears them. */
export const TEMPORAL_CREDENTIAL_ENV = ['TEMPORAL_TLS', 'TEMPORAL_TLS_CERT_FILE', 'TEMPORAL_TLS_KEY_FILE', 'TEMPORAL_TLS_CA_FILE', 'TEMPORAL_TLS_SERVER_NAME', 'TEMPORAL_API_KEY'] as const;

export class ConnectionSettingsError extends Error {}

/** The settings from the TEMPORAL_* variables (empty ones ignored); `overrides` win (e.g. an address found elsewhere). */
export function temporalConnectionFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<Field, string>> = {}): TemporalConnectionSettings {
  const raw: Record<string, string> = {};
  for (const [name, field] of Object.entries(TEMPORAL_CONNECTION_ENV)) if (env[name]) raw[field] = env[name]!;
  const parsed = temporalConnectionSchema.safeParse({ ...raw, ...overrides });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const name = Object.entries(TEMPORAL_CONNECTION_ENV).find(([, f]) => f === i.path[0])?.[0];
      return `${name ?? (i.path.join('.') || 'temporal')}: ${i.message}`;
    });
    throw new ConnectionSettingsError(`invalid Temporal connection settings: ${problems.join('; ')}`);
  }
  return parsed.data;
}

function readSetting(path: string, variable: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConnectionSettingsError(`${variable} ${path}: cannot read the ${what} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/**
 * Options for Connection.connect (client) and NativeConnection.connect (workers): both take the
 * address, `tls` and `apiKey` in this shape. Certificate files are read here; a missing one is named
 * with its variable.
 */
export function temporalConnectionOptions(t: TemporalConnectionSettings) {
  const wantsTls = t.tls ?? Boolean(t.tlsCertFile || t.tlsCaFile || t.apiKey || t.tlsServerName);
  const tls = wantsTls
    ? {
        ...(t.tlsServerName ? { serverNameOverride: t.tlsServerName } : {}),
        ...(t.tlsCaFile ? { serverRootCACertificate: readSetting(t.tlsCaFile, 'TEMPORAL_TLS_CA_FILE', 'CA certificate') } : {}),
        ...(t.tlsCertFile && t.tlsKeyFile
          ? { clientCertPair: { crt: readSetting(t.tlsCertFile, 'TEMPORAL_TLS_CERT_FILE', 'client certificate'), key: readSetting(t.tlsKeyFile, 'TEMPORAL_TLS_KEY_FILE', 'client key') } }
          : {}),
      }
    : undefined;
  return { address: t.address, ...(tls ? { tls } : {}), ...(t.apiKey ? { apiKey: t.apiKey } : {}) };
}

/** The credential in use, for --help, logs and errors: never the API key, never key material. */
export function describeTemporalAuth(t: TemporalConnectionSettings): string {
  const ca = t.tlsCaFile ? `, server checked against ${t.tlsCaFile}` : ', server checked against the system CAs';
  const name = t.tlsServerName ? ` as ${t.tlsServerName}` : '';
  if (t.apiKey && t.tlsCertFile) return `mTLS, client certificate ${t.tlsCertFile}, and an API key${ca}${name}`;
  if (t.apiKey) return `API key over TLS${ca}${name}`;
  if (t.tlsCertFile) return `mTLS, client certificate ${t.tlsCertFile}${ca}${name}`;
  if (t.tls ?? Boolean(t.tlsCaFile || t.tlsServerName)) return `TLS without a client certificate${ca}${name}`;
  return 'plaintext, no client certificate';
}

/**
 * A hint under a failed connection: what the credential in use makes likely. TLS handshake
 * failures come back from gRPC as a bare "UNAVAILABLE"; this says what to check.
 */
export function connectionFailureHint(t: TemporalConnectionSettings, message: string): string {
  const usesTls = t.tls ?? Boolean(t.tlsCertFile || t.tlsCaFile || t.apiKey || t.tlsServerName);
  if (!usesTls && /ECONNRESET|Connection dropped|socket hang up|closed|GOAWAY|protocol/i.test(message)) {
    return 'the server may require TLS and a client certificate: set TEMPORAL_TLS_CA_FILE, TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE';
  }
  if (usesTls && !t.tlsCertFile && !t.apiKey) return 'if the server requires a client certificate, set TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE';
  if (usesTls && t.tlsCertFile) return `the server may not accept ${t.tlsCertFile} (signed by a CA it does not trust?), or ${t.tlsCaFile ?? 'the system CAs'} may not have signed its certificate`;
  return '';
}
