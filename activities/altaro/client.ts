/**
 * Altaro / Hornetsecurity VM Backup REST client on the shared HTTP layer. The session token is a
 * path segment of every call: it stays inside this class. Every error describes the path with
 * "{token}" in its place, so no token reaches an activity failure, the history or a log.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { MalformedResponseError, VendorError } from '../../lib/errors';
import { httpClientFor, type HttpClient, type HttpRequest, type HttpResponse } from '../../lib/http/http-client';
import { parseVendorBody } from '../../lib/schema';
import { resolveSecret, type AltaroProfile } from '../../lib/config/endpoints';
import { altaroApiBase } from '../../lib/config/profiles/altaro';
import type { AltaroInstructionKind } from '../../contracts/altaro/instruction-kinds';
import { ABORT_OPERATION_PATH, ALTARO_INSTRUCTIONS, instructionPath } from './instructions';
import { SessionLedger } from './session-ledger';
import {
  backupReportsBody,
  envelope,
  instructionBody,
  operationStatusBody,
  restoreReportsBody,
  sessionStartBody,
  vmListBody,
  type AltaroOperationStatus,
  type AltaroReport,
  type AltaroVm,
} from './schemas';

const VENDOR = 'altaro';
const TOKEN = '{token}';

/** "Invalid Token": the session expired or was ended; one new session and one more try. */
class InvalidTokenError extends VendorError {}

function isInvalidToken(message: string | null | undefined): boolean {
  return /invalid token/i.test(message ?? '');
}

/** Session-start refusals that pass with time (the API caps open sessions). */
function isTransientRefusal(message: string | null | undefined): boolean {
  return /(too many|maximum|limit).*(session)|session.*(limit|maximum)/i.test(message ?? '');
}

export interface CallSpec {
  method: 'GET' | 'POST';
  /** Path below the API base with "{token}" where the token goes, e.g. "/vms/list/{token}". */
  path: string;
  body?: unknown;
}

export class AltaroSession {
  constructor(
    private readonly client: AltaroClient,
    private token: string,
  ) {}

  /** One call with the session's token; "Invalid Token" opens a new session and retries once. */
  async call<S extends z.ZodType>(spec: CallSpec, schema: S): Promise<z.output<S>> {
    try {
      return await this.client.send(spec, this.token, schema);
    } catch (err) {
      if (!(err instanceof InvalidTokenError)) throw err;
      await this.client.forget(this.token);
      this.token = await this.client.startSession();
      return this.client.send(spec, this.token, schema);
    }
  }

  /** Ends the session; an already invalid token counts as ended. */
  async end(): Promise<void> {
    await this.client.endSession(this.token);
  }
}

/** Backoff of the logout retries: about 15 s in all, Retry-After honoured up to 5 s. */
const LOGOUT_DELAYS_MS = [250, 500, 1_000, 2_000, 4_000, 5_000];

async function endWithRetry(session: AltaroSession): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await session.end();
    } catch (err) {
      const delay = LOGOUT_DELAYS_MS[attempt];
      if (delay === undefined || !(err instanceof VendorError) || !err.retryable) return;
      await sleep(Math.min(5_000, Math.max(delay, err.retryAfterMs ?? 0)));
    }
  }
}

export class AltaroClient {
  private readonly http: HttpClient;
  private orphansEnded?: Promise<void>;

  constructor(
    private readonly profile: AltaroProfile,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly ledger: SessionLedger = SessionLedger.forEnv(env),
  ) {
    this.http = httpClientFor(VENDOR, profile, altaroApiBase(profile));
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /**
   * Opens a session, runs `fn`, and ends the session whatever happens. The API caps open sessions,
   * so a logout refused for a passing reason (5xx, 429, a timeout) is retried with backoff; after
   * that, only the vendor's idle expiry ends it.
   */
  async withSession<T>(fn: (session: AltaroSession) => Promise<T>): Promise<T> {
    await (this.orphansEnded ??= this.endOrphanedSessions());
    const session = new AltaroSession(this, await this.startSession());
    try {
      return await fn(session);
    } finally {
      await endWithRetry(session);
    }
  }

  async startSession(): Promise<string> {
    const { username, password, domain, serverAddress, serverPort } = this.profile.auth;
    const body = {
      ServerAddress: serverAddress,
      ServerPort: serverPort,
      Username: username,
      Password: resolveSecret(password, this.env),
      Domain: domain,
    };
    const res = await this.send({ method: 'POST', path: '/sessions/start', body }, undefined, sessionStartBody);
    await this.ledger.opened(this.baseUrl, res.Data);
    return res.Data;
  }

  /** Ends one session; an already invalid token counts as ended. */
  async endSession(token: string, pid?: number): Promise<void> {
    try {
      await this.send({ method: 'POST', path: `/sessions/end/${TOKEN}` }, token, envelope);
    } catch (err) {
      if (!(err instanceof InvalidTokenError)) throw err;
    }
    await this.ledger.ended(token, pid);
  }

  /** A session the API no longer knows: only its ledger entry is left. */
  async forget(token: string): Promise<void> {
    await this.ledger.ended(token);
  }

  /**
   * Once per client (i.e. per worker process and profile): ends the sessions that worker processes
   * killed on this host left open. One that cannot be ended now stays in the ledger for the next.
   */
  private async endOrphanedSessions(): Promise<void> {
    try {
      for (const orphan of await this.ledger.orphans(this.baseUrl)) await this.endSession(orphan.token, orphan.pid).catch(() => undefined);
    } catch {
      // An unreadable ledger must not stop backups: the vendor's idle expiry still ends those sessions.
    }
  }

  /** Sends one call. Exposed to AltaroSession only; everything else goes through a session. */
  async send<S extends z.ZodType>(spec: CallSpec, token: string | undefined, schema: S): Promise<z.output<S>> {
    const operation = `${spec.method} ${spec.path}`;
    const scrub = (text: string) => (token ? text.split(token).join(TOKEN) : text);
    const req: HttpRequest = {
      method: spec.method,
      path: token ? spec.path.split(TOKEN).join(encodeURIComponent(token)) : spec.path,
      headers: { accept: 'application/json', ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: spec.body !== undefined ? JSON.stringify(spec.body) : undefined,
    };
    let res: HttpResponse;
    try {
      res = await this.http.request(req);
    } catch (err) {
      if (!(err instanceof VendorError)) throw err;
      // The HTTP layer names the request by its real path, token included: rename it.
      throw new VendorError({
        vendor: VENDOR,
        operation,
        vendorMessage: scrub(err.vendorMessage),
        retryable: err.retryable,
        code: err.code,
        status: err.status,
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.text);
    } catch {
      if (res.status !== 200) throw this.statusError(spec, res, scrub(res.text.trim().slice(0, 300)) || `HTTP ${res.status} with an empty body`);
      // A cut reply to /sessions/start may hold the new token, which scrub() does not know yet: not shown.
      const shown = spec.path === '/sessions/start' ? `(${res.text.length} characters, not shown)` : scrub(res.text.slice(0, 120));
      throw new MalformedResponseError(VENDOR, operation, `not JSON: ${shown}`, res.status);
    }
    const env = envelope.safeParse(parsed);
    if (res.status !== 200) {
      const message = env.success && env.data.ErrorMessage ? env.data.ErrorMessage : scrub(res.text.trim().slice(0, 300));
      if (env.success && isInvalidToken(message)) throw this.invalidToken(operation, res.status, message);
      throw this.statusError(spec, res, scrub(message) || `HTTP ${res.status}`, env.success ? env.data.ErrorCode : undefined);
    }
    const head = parseVendorBody(envelope, parsed, { vendor: VENDOR, operation, status: res.status });
    if (!head.Success) {
      const message = scrub(head.ErrorMessage || 'Success:false without an ErrorMessage');
      if (isInvalidToken(message)) throw this.invalidToken(operation, res.status, message);
      const details = head.ErrorAdditionalDetails ? ` (${scrub(typeof head.ErrorAdditionalDetails === 'string' ? head.ErrorAdditionalDetails : JSON.stringify(head.ErrorAdditionalDetails))})` : '';
      throw new VendorError({
        vendor: VENDOR,
        operation,
        vendorMessage: message + details,
        code: head.ErrorCode === null || head.ErrorCode === undefined ? undefined : String(head.ErrorCode),
        retryable: spec.path === '/sessions/start' && isTransientRefusal(message),
      });
    }
    return parseVendorBody(schema, parsed, { vendor: VENDOR, operation, status: res.status });
  }

  private invalidToken(operation: string, status: number, message: string): InvalidTokenError {
    return new InvalidTokenError({ vendor: VENDOR, operation, status: status === 200 ? undefined : status, vendorMessage: message, retryable: true });
  }

  /** The path with "{token}" in the token's place names the request: no token in the error. */
  private statusError(spec: CallSpec, res: HttpResponse, message: string, code?: string | number | null): VendorError {
    return this.http.statusError({ method: spec.method, path: spec.path }, res, message, code);
  }

  // --- the API ---------------------------------------------------------------------------------

  static async listVms(s: AltaroSession): Promise<AltaroVm[]> {
    return (await s.call({ method: 'GET', path: `/vms/list/${TOKEN}` }, vmListBody)).VirtualMachines;
  }

  /** Sends an instruction; returns the OperationGuid. Success:false is non-retryable (unknown VM …). */
  async sendInstruction(s: AltaroSession, kind: AltaroInstructionKind, vmRef: string, options?: Record<string, unknown>): Promise<string> {
    const path = `${instructionPath(kind, this.profile.instructionPaths)}/${TOKEN}/${encodeURIComponent(vmRef)}`;
    const body = options ?? (ALTARO_INSTRUCTIONS[kind].documented ? undefined : {});
    return (await s.call({ method: 'POST', path, body }, instructionBody)).Data;
  }

  /** The operation's status, or undefined once the API no longer lists it. */
  static async operationStatus(s: AltaroSession, guid: string): Promise<AltaroOperationStatus | undefined> {
    const res = await s.call({ method: 'GET', path: `/activity/operation-status/${TOKEN}/${encodeURIComponent(guid)}` }, operationStatusBody);
    const statuses = res.Statuses ?? [];
    return statuses.find((st) => st.OperationGuid === undefined || st.OperationGuid === guid);
  }

  /** Every operation the API lists (running, or finished moments ago). */
  static async allStatuses(s: AltaroSession): Promise<AltaroOperationStatus[]> {
    return (await s.call({ method: 'GET', path: `/activity/operation-status/${TOKEN}` }, operationStatusBody)).Statuses ?? [];
  }

  static async reports(s: AltaroSession, type: 'backup' | 'restore', vmRef: string): Promise<AltaroReport[]> {
    const path = `/reports/${type}/${TOKEN}/${encodeURIComponent(vmRef)}`;
    if (type === 'backup') return (await s.call({ method: 'GET', path }, backupReportsBody)).BackupReports ?? [];
    return (await s.call({ method: 'GET', path }, restoreReportsBody)).RestoreReports ?? [];
  }

  /** Asks the agent to abort; returns what the API said (Success:false is an answer, not an error). */
  static async abort(s: AltaroSession, guid: string): Promise<{ success: boolean; message: string }> {
    try {
      const res = await s.call({ method: 'POST', path: `${ABORT_OPERATION_PATH}/${TOKEN}/${encodeURIComponent(guid)}` }, envelope);
      return { success: true, message: res.ErrorMessage || 'abort accepted' };
    } catch (err) {
      if (err instanceof VendorError && !err.retryable && err.status === undefined) return { success: false, message: err.vendorMessage };
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}
