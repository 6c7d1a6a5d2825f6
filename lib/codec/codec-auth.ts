/**
 * Who may ask the codec server to decrypt: a caller with the shared bearer token
 * (CODEC_SERVER_TOKEN / CODEC_SERVER_TOKEN_FILE, for the CLI and scripts), or a Web UI user whose
 * OIDC access token the UI forwards (its "pass access token" setting sends it as
 * `Authorization: Bearer …`), checked here as a JWT: signature against the issuer's JWKS
 * (CODEC_SERVER_JWKS_URL) or a public key file (CODEC_SERVER_JWT_PUBLIC_KEY_FILE), then expiry,
 * audience and issuer. node:crypto only. Nothing configured = nobody admitted: the codec server
 * refuses to start.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { constants, createHash, createPublicKey, randomBytes, timingSafeEqual, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { dataDir } from '../config/data-dir';
import { HttpClient } from '../http/http-client';

export class CodecAuthConfigError extends Error {}

/** Why a request was not admitted: said to the caller in the 401, never the token itself. */
export class CodecAuthRefused extends Error {}

export interface JwtCheck {
  /** The issuer's JWKS (e.g. https://idp.example.com/.well-known/jwks.json), fetched and cached. */
  jwksUrl?: string;
  /** A PEM public key (SPKI or certificate) instead of a JWKS. */
  publicKeyPem?: string;
  /** Required: the `aud` the UI's access tokens carry for this deployment. */
  audience: string;
  /** When set, `iss` must equal it. */
  issuer?: string;
  /** Seconds of clock skew allowed on exp/nbf (default 60). */
  clockToleranceSec?: number;
}

export interface CodecAuthOptions {
  /** Shared bearer tokens (one normally; two while rotating). */
  tokens?: string[];
  jwt?: JwtCheck;
}

const ALGORITHMS: Record<string, { hash: string | null; keyTypes: string[]; pss?: boolean; ecdsa?: boolean }> = {
  RS256: { hash: 'sha256', keyTypes: ['rsa'] },
  RS384: { hash: 'sha384', keyTypes: ['rsa'] },
  RS512: { hash: 'sha512', keyTypes: ['rsa'] },
  PS256: { hash: 'sha256', keyTypes: ['rsa', 'rsa-pss'], pss: true },
  PS384: { hash: 'sha384', keyTypes: ['rsa', 'rsa-pss'], pss: true },
  PS512: { hash: 'sha512', keyTypes: ['rsa', 'rsa-pss'], pss: true },
  ES256: { hash: 'sha256', keyTypes: ['ec'], ecdsa: true },
  ES384: { hash: 'sha384', keyTypes: ['ec'], ecdsa: true },
  ES512: { hash: 'sha512', keyTypes: ['ec'], ecdsa: true },
  EdDSA: { hash: null, keyTypes: ['ed25519', 'ed448'] },
};

/** How long fetched JWKS keys are trusted before they are fetched again; an unknown `kid` refetches sooner. */
const JWKS_TTL_MS = 10 * 60_000;
const JWKS_REFETCH_MIN_MS = 30_000;

function b64urlJson(part: string, what: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new CodecAuthRefused(`the bearer token is not a JWT (bad ${what})`);
}

export class CodecAuth {
  private readonly tokenDigests: Buffer[];
  private readonly staticKey?: KeyObject;
  private jwks?: { keys: Array<{ kid?: string; key: KeyObject }>; at: number };
  private jwksFetch?: Promise<void>;
  private readonly http?: HttpClient;

  constructor(
    private readonly options: CodecAuthOptions,
    private readonly now: () => number = Date.now,
  ) {
    // Compared as digests of equal length, in constant time.
    this.tokenDigests = (options.tokens ?? []).filter(Boolean).map((t) => createHash('sha256').update(t).digest());
    if (options.jwt?.publicKeyPem) this.staticKey = createPublicKey(options.jwt.publicKeyPem);
    if (options.jwt?.jwksUrl) this.http = new HttpClient({ vendor: 'codec-server JWKS', baseUrl: options.jwt.jwksUrl, timeoutMs: 10_000 });
    if (!this.tokenDigests.length && !options.jwt) throw new CodecAuthConfigError('no credential configured');
    if (options.jwt && !options.jwt.jwksUrl && !options.jwt.publicKeyPem) throw new CodecAuthConfigError('a JWT check needs a JWKS URL or a public key');
  }

  /** What callers must bring, for the startup line (no secret). */
  describe(): string {
    const parts: string[] = [];
    if (this.tokenDigests.length) parts.push('the bearer token');
    if (this.options.jwt) {
      const j = this.options.jwt;
      parts.push(`a JWT signed by ${j.jwksUrl ? `the keys at ${j.jwksUrl}` : 'the configured public key'} for audience ${j.audience}${j.issuer ? ` from ${j.issuer}` : ''}`);
    }
    return parts.join(' or ');
  }

  /** Resolves when `authorization` admits the caller; rejects with CodecAuthRefused saying why. */
  async check(authorization: string | undefined): Promise<void> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new CodecAuthRefused('a bearer token is required (Authorization: Bearer …)');
    const presented = match[1]!;
    const digest = createHash('sha256').update(presented).digest();
    if (this.tokenDigests.some((d) => timingSafeEqual(d, digest))) return;
    if (!this.options.jwt) throw new CodecAuthRefused('wrong token');
    if (presented.split('.').length !== 3) throw new CodecAuthRefused(this.tokenDigests.length ? 'wrong token' : 'the bearer token is not a JWT');
    await this.checkJwt(presented, this.options.jwt);
  }

  private async checkJwt(jwt: string, check: JwtCheck): Promise<void> {
    const [h, p, s] = jwt.split('.') as [string, string, string];
    const header = b64urlJson(h, 'header');
    const alg = typeof header.alg === 'string' ? header.alg : '';
    const spec = Object.hasOwn(ALGORITHMS, alg) ? ALGORITHMS[alg] : undefined;
    if (!spec) throw new CodecAuthRefused(`JWT algorithm ${alg || '(none)'} is not accepted`);
    const key = await this.keyFor(typeof header.kid === 'string' ? header.kid : undefined);
    if (!spec.keyTypes.includes(key.asymmetricKeyType ?? '')) throw new CodecAuthRefused(`JWT algorithm ${alg} does not fit the key`);
    const data = Buffer.from(`${h}.${p}`);
    const signature = Buffer.from(s, 'base64url');
    const verifyKey = spec.pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } : spec.ecdsa ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
    let valid = false;
    try {
      valid = verify(spec.hash, data, verifyKey, signature);
    } catch {
      valid = false;
    }
    if (!valid) throw new CodecAuthRefused('JWT signature does not verify');
    const claims = b64urlJson(p, 'claims');
    const nowSec = Math.floor(this.now() / 1000);
    const skew = check.clockToleranceSec ?? 60;
    if (typeof claims.exp !== 'number') throw new CodecAuthRefused('JWT has no expiry (exp)');
    if (claims.exp + skew <= nowSec) throw new CodecAuthRefused('JWT expired');
    if (typeof claims.nbf === 'number' && claims.nbf - skew > nowSec) throw new CodecAuthRefused('JWT not valid yet (nbf)');
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(check.audience)) throw new CodecAuthRefused(`JWT audience is not ${check.audience}`);
    if (check.issuer !== undefined && claims.iss !== check.issuer) throw new CodecAuthRefused(`JWT issuer is not ${check.issuer}`);
  }

  private async keyFor(kid: string | undefined): Promise<KeyObject> {
    if (this.staticKey) return this.staticKey;
    const find = () => {
      const keys = this.jwks?.keys ?? [];
      return kid === undefined ? (keys.length === 1 ? keys[0]?.key : undefined) : keys.find((k) => k.kid === kid)?.key;
    };
    const age = this.jwks ? this.now() - this.jwks.at : Infinity;
    let key = age < JWKS_TTL_MS ? find() : undefined;
    if (!key && age >= JWKS_REFETCH_MIN_MS) {
      await this.fetchJwks();
      key = find();
    }
    if (!key) throw new CodecAuthRefused(kid === undefined ? 'JWT names no key (kid) and the JWKS has several' : `JWT key ${kid} is not in the issuer's JWKS`);
    return key;
  }

  private fetchJwks(): Promise<void> {
    this.jwksFetch ??= (async () => {
      try {
        const res = await this.http!.request({ method: 'GET', path: this.options.jwt!.jwksUrl!, headers: { accept: 'application/json' } });
        if (res.status !== 200) throw new CodecAuthRefused(`the issuer's JWKS answered ${res.status}`);
        const body = JSON.parse(res.text) as { keys?: Array<JsonWebKey & { kid?: string; use?: string }> };
        const keys = (body.keys ?? [])
          .filter((k) => k.use === undefined || k.use === 'sig')
          .flatMap((k) => {
            try {
              return [{ kid: k.kid, key: createPublicKey({ key: k, format: 'jwk' }) }];
            } catch {
              return [];
            }
          });
        this.jwks = { keys, at: this.now() };
      } catch (err) {
        if (err instanceof CodecAuthRefused) throw err;
        throw new CodecAuthRefused(`the issuer's JWKS could not be read: ${(err as Error).message}`);
      } finally {
        this.jwksFetch = undefined;
      }
    })();
    return this.jwksFetch;
  }

  async close(): Promise<void> {
    await this.http?.close();
  }
}

export const CODEC_AUTH_VARIABLES =
  "CODEC_SERVER_TOKEN or CODEC_SERVER_TOKEN_FILE (a bearer token), or CODEC_SERVER_JWKS_URL or CODEC_SERVER_JWT_PUBLIC_KEY_FILE with CODEC_SERVER_JWT_AUDIENCE (the Web UI forwarding its users' access tokens)";

/** The codec server's credentials from its environment; none at all is an error naming the variables. */
export function codecAuthFromEnv(env: NodeJS.ProcessEnv = process.env): CodecAuthOptions {
  const tokens: string[] = [];
  if (env.CODEC_SERVER_TOKEN) tokens.push(env.CODEC_SERVER_TOKEN);
  if (env.CODEC_SERVER_TOKEN_FILE) {
    let text: string;
    try {
      text = readFileSync(env.CODEC_SERVER_TOKEN_FILE, 'utf8');
    } catch (err) {
      throw new CodecAuthConfigError(`CODEC_SERVER_TOKEN_FILE ${env.CODEC_SERVER_TOKEN_FILE}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    // One token a line: two while rotating.
    tokens.push(
      ...text
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean),
    );
  }
  for (const t of tokens) if (t.length < 16) throw new CodecAuthConfigError('the codec server token must be at least 16 characters (e.g. `openssl rand -hex 32`)');
  let jwt: JwtCheck | undefined;
  if (env.CODEC_SERVER_JWKS_URL || env.CODEC_SERVER_JWT_PUBLIC_KEY_FILE) {
    if (!env.CODEC_SERVER_JWT_AUDIENCE)
      throw new CodecAuthConfigError("CODEC_SERVER_JWT_AUDIENCE is required with CODEC_SERVER_JWKS_URL or CODEC_SERVER_JWT_PUBLIC_KEY_FILE: the audience of the Web UI's access tokens");
    let publicKeyPem: string | undefined;
    if (env.CODEC_SERVER_JWT_PUBLIC_KEY_FILE) {
      try {
        publicKeyPem = readFileSync(env.CODEC_SERVER_JWT_PUBLIC_KEY_FILE, 'utf8');
        createPublicKey(publicKeyPem);
      } catch (err) {
        throw new CodecAuthConfigError(`CODEC_SERVER_JWT_PUBLIC_KEY_FILE ${env.CODEC_SERVER_JWT_PUBLIC_KEY_FILE}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    if (env.CODEC_SERVER_JWKS_URL && !/^https?:\/\//.test(env.CODEC_SERVER_JWKS_URL)) throw new CodecAuthConfigError('CODEC_SERVER_JWKS_URL must be an http(s) URL');
    jwt = {
      ...(publicKeyPem ? { publicKeyPem } : { jwksUrl: env.CODEC_SERVER_JWKS_URL }),
      audience: env.CODEC_SERVER_JWT_AUDIENCE,
      ...(env.CODEC_SERVER_JWT_ISSUER ? { issuer: env.CODEC_SERVER_JWT_ISSUER } : {}),
    };
  }
  if (!tokens.length && !jwt) throw new CodecAuthConfigError(`the codec server admits nobody without a credential: set ${CODEC_AUTH_VARIABLES}`);
  return { ...(tokens.length ? { tokens } : {}), ...(jwt ? { jwt } : {}) };
}

/** Where `npm start` keeps its codec server token (0600), next to the local codec key. */
export function localCodecTokenFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(dataDir(env), 'codec-server.token');
}

/** For `npm start`: a random token made once and kept in .data/ (0600); returns it. */
export function ensureLocalCodecToken(path: string): string {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  }
  return readFileSync(path, 'utf8').trim();
}

/** Whether the environment configures the codec server's credentials itself. */
export function codecAuthConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.CODEC_SERVER_TOKEN || env.CODEC_SERVER_TOKEN_FILE || env.CODEC_SERVER_JWKS_URL || env.CODEC_SERVER_JWT_PUBLIC_KEY_FILE);
}
