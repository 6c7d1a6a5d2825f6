/**
 * oVirt authentication: the SSO token endpoint (OAuth password grant, JSON answers), Bearer tokens
 * on API calls, legacy Basic auth, and the JSESSIONID session that `Prefer: persistent-auth` asks for.
 */
import { randomBytes } from 'node:crypto';
import type { SimClock } from '../framework/clock';
import { Router } from '../framework/router';
import type { SimRequest, SimResponse } from '../framework/types';
import { faultResponse } from './xml-views';

export const SSO_TOKEN_PATH = '/ovirt-engine/sso/oauth/token';
export const SSO_LOGOUT_PATH = '/ovirt-engine/services/sso-logout';
export const API_SCOPE = 'ovirt-app-api';

export interface Credentials {
  username: string;
  password: string;
}

interface Grant {
  user: string;
  expiresAt: number;
}

/** Issued SSO tokens and API sessions. */
export class TokenStore {
  private readonly tokens = new Map<string, Grant>();
  private readonly sessions = new Map<string, Grant>();
  /** Every bearer token ever handed out, so tests can look for them where they must not be. */
  readonly issuedTokens: string[] = [];

  constructor(
    private readonly ttlSeconds: number,
    private readonly clock: SimClock,
  ) {}

  issue(user: string): { token: string; expiresAt: number } {
    const token = randomBytes(48).toString('base64url');
    const expiresAt = this.clock.now() + this.ttlSeconds * 1000;
    this.tokens.set(token, { user, expiresAt });
    this.issuedTokens.push(token);
    return { token, expiresAt };
  }

  valid(token: string): boolean {
    return this.isLive(this.tokens.get(token));
  }

  revoke(token: string): boolean {
    return this.tokens.delete(token);
  }

  openSession(user: string): string {
    const id = randomBytes(24).toString('hex');
    this.sessions.set(id, { user, expiresAt: this.clock.now() + this.ttlSeconds * 1000 });
    return id;
  }

  validSession(id: string): boolean {
    return this.isLive(this.sessions.get(id));
  }

  private isLive(grant: Grant | undefined): boolean {
    return grant !== undefined && grant.expiresAt > this.clock.now();
  }

  /** Every token and session now answers 401 (a restarted engine, or a TTL that ran out). */
  expireAll(): void {
    const past = this.clock.now() - 1;
    for (const grant of this.tokens.values()) grant.expiresAt = past;
    for (const grant of this.sessions.values()) grant.expiresAt = past;
  }
}

function json(status: number, value: unknown): SimResponse {
  return { status, headers: { 'content-type': 'application/json;charset=UTF-8' }, body: JSON.stringify(value) };
}

/** Form fields from the body (application/x-www-form-urlencoded), falling back to the query string. */
function formFields(req: SimRequest): URLSearchParams {
  const fields = new URLSearchParams(req.query);
  const type = req.headers['content-type'] ?? '';
  if (req.body && !type.includes('json')) for (const [k, v] of new URLSearchParams(req.body)) fields.set(k, v);
  if (req.body && type.includes('json')) {
    try {
      for (const [k, v] of Object.entries(JSON.parse(req.body) as Record<string, unknown>)) fields.set(k, String(v));
    } catch {
      /* treated as missing fields */
    }
  }
  return fields;
}

function parseBasic(header: string | undefined): Credentials | undefined {
  const m = /^Basic\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function bearer(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

export interface OvirtAuth {
  authenticate: (req: SimRequest) => SimResponse | undefined;
  ssoRouter: Router;
  /** The Set-Cookie value to add to a reply when a Basic-auth call asked for `Prefer: persistent-auth`. */
  sessionCookie: (req: SimRequest) => string | undefined;
}

export function createAuth(tokens: TokenStore, credentials: Credentials): OvirtAuth {
  const rightCredentials = (c: Credentials | undefined) => c !== undefined && c.username === credentials.username && c.password === credentials.password;

  const ssoRouter = new Router()
    .post(SSO_TOKEN_PATH, (req) => {
      const fields = formFields(req);
      const grantType = fields.get('grant_type');
      const scope = fields.get('scope');
      const username = fields.get('username') ?? '';
      if (grantType !== 'password') {
        return json(400, { error: 'unsupported_grant_type', error_description: `The grant type '${grantType ?? ''}' is not supported.` });
      }
      if (!scope || !scope.split(/\s+/).includes(API_SCOPE)) {
        return json(400, { error: 'invalid_scope', error_description: `The scope must include '${API_SCOPE}'.` });
      }
      if (!rightCredentials({ username, password: fields.get('password') ?? '' })) {
        return json(400, {
          error: 'access_denied',
          error_description: `Cannot authenticate user '${username}': The username or password is incorrect.`,
        });
      }
      const { token, expiresAt } = tokens.issue(username);
      return json(200, { access_token: token, token_type: 'bearer', scope: API_SCOPE, exp: String(expiresAt) });
    })
    .post(SSO_LOGOUT_PATH, (req) => {
      const token = formFields(req).get('token') ?? bearer(req.headers.authorization);
      if (token) tokens.revoke(token);
      return json(200, {});
    });

  const authenticate = (req: SimRequest): SimResponse | undefined => {
    const header = req.headers.authorization;
    const token = bearer(header);
    if (token !== undefined) {
      if (tokens.valid(token)) return undefined;
      return unauthorized('The access token is invalid or has expired.');
    }
    if (header !== undefined && /^Basic\s/i.test(header)) {
      if (rightCredentials(parseBasic(header))) return undefined;
      return unauthorized('The username or password is incorrect.');
    }
    const session = cookie(req.headers.cookie, 'JSESSIONID');
    if (session !== undefined && tokens.validSession(session)) return undefined;
    return unauthorized('Authentication required.');
  };

  const sessionCookie = (req: SimRequest): string | undefined => {
    const basic = parseBasic(req.headers.authorization);
    if (!basic || !/persistent-auth/i.test(req.headers.prefer ?? '')) return undefined;
    return `JSESSIONID=${tokens.openSession(basic.username)}; Path=/ovirt-engine/api; HttpOnly`;
  };

  return { authenticate, ssoRouter, sessionCookie };
}

function unauthorized(detail: string): SimResponse {
  const response = faultResponse(401, 'Unauthorized', detail);
  response.headers = { ...response.headers, 'www-authenticate': 'Bearer realm="RESTAPI", Basic realm="RESTAPI"' };
  return response;
}
