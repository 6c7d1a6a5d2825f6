/**
 * The one HTTP layer: undici with connect/header/body timeouts. Network failures become retryable
 * VendorErrors; a status the client did not expect becomes one through `statusError`, with the
 * message the vendor client reads from its error body.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { VendorError, isRetryableStatus, parseRetryAfter } from '../errors';
import { readCaFile } from '../config/endpoints';

/** How long a vendor call may take when its endpoint profile does not say. */
export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;

export interface HttpClientOptions {
  vendor: string;
  baseUrl: string;
  /** Whole-request budget for headers and for the body, each. */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  /** PEM CA bundle, for self-signed engines; `insecure` skips verification (labs only). */
  tls?: { ca?: string; insecure?: boolean };
  defaultHeaders?: Record<string, string>;
}

export type Query = Record<string, string | number | boolean | undefined | string[]>;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';
  /** A path under baseUrl, or an absolute URL (async-operation links point anywhere). */
  path: string;
  query?: Query;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | undefined>;
  text: string;
}

export class HttpClient {
  readonly vendor: string;
  readonly baseUrl: string;
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private readonly defaultHeaders: Record<string, string>;

  constructor(options: HttpClientOptions) {
    this.vendor = options.vendor;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
    this.defaultHeaders = options.defaultHeaders ?? {};
    this.agent = new Agent({
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connect: options.tls ? { ca: options.tls.ca, rejectUnauthorized: !options.tls.insecure } : undefined,
    });
  }

  url(path: string, query?: Query): URL {
    const url = /^https?:\/\//.test(path) ? new URL(path) : new URL(this.baseUrl + (path.startsWith('/') ? path : `/${path}`));
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) url.searchParams.append(key, v);
      else url.searchParams.set(key, String(value));
    }
    return url;
  }

  describe(req: Pick<HttpRequest, 'method' | 'path'>): string {
    const path = /^https?:\/\//.test(req.path) ? new URL(req.path).pathname : req.path;
    return `${req.method} ${path}`;
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const { status, headers, body } = await this.send(req, (res) => res.body.text());
    return { status, headers, text: body };
  }

  /** As `request`, with the body as bytes (an image range). */
  async requestBytes(req: HttpRequest): Promise<{ status: number; headers: Record<string, string | undefined>; body: Buffer }> {
    return this.send(req, async (res) => Buffer.from(await res.body.arrayBuffer()));
  }

  private async send<B>(req: HttpRequest, read: (res: Dispatcher.ResponseData) => Promise<B>): Promise<{ status: number; headers: Record<string, string | undefined>; body: B }> {
    const url = this.url(req.path, req.query);
    const timeout = req.timeoutMs ?? this.timeoutMs;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: req.method,
        headers: { ...this.defaultHeaders, ...req.headers },
        body: req.body,
        dispatcher: this.agent,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
    } catch (err) {
      throw this.networkError(req, err);
    }
    let body: B;
    try {
      body = await read(res);
    } catch (err) {
      throw this.networkError(req, err);
    }
    const headers: Record<string, string | undefined> = {};
    for (const [key, value] of Object.entries(res.headers)) {
      headers[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    return { status: res.statusCode, headers, body };
  }

  /**
   * Sends `req` with the headers `headersFor()` makes (credentials among them). When the answer
   * is a 401 and `forgetCredentials` is given (a cached token the vendor may have dropped: it ran
   * out, or the service restarted), forgets them and sends once more with fresh ones. A second 401
   * is the caller's to report: then the credentials themselves are refused.
   */
  async requestRenewingOnce(req: HttpRequest, headersFor: () => Promise<Record<string, string>>, forgetCredentials?: () => void): Promise<HttpResponse> {
    const send = async () => this.request({ ...req, headers: { ...(await headersFor()), ...req.headers } });
    const res = await send();
    if (res.status !== 401 || !forgetCredentials) return res;
    forgetCredentials();
    return send();
  }

  /**
   * The one error for an HTTP status: whether a retry can help and how long to wait come from the
   * status and Retry-After; the message and code are the vendor client's reading of its error body.
   */
  statusError(req: Pick<HttpRequest, 'method' | 'path'>, res: Pick<HttpResponse, 'status' | 'headers'>, vendorMessage: string, code?: string | number | null): VendorError {
    return new VendorError({
      vendor: this.vendor,
      operation: this.describe(req),
      status: res.status,
      vendorMessage,
      code: code === null || code === undefined ? undefined : String(code),
      retryable: isRetryableStatus(res.status),
      retryAfterMs: parseRetryAfter(res.headers['retry-after']),
    });
  }

  private networkError(req: HttpRequest, err: unknown): VendorError {
    const e = err as { code?: string; message?: string };
    return new VendorError({
      vendor: this.vendor,
      operation: this.describe(req),
      vendorMessage: `no answer (${e.code ?? 'network error'}: ${e.message ?? String(err)})`,
      retryable: true,
      code: e.code,
      cause: err,
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** The HTTP client of a vendor endpoint as its profile describes it (URL, timeout, CA bundle). */
export function httpClientFor(vendor: string, profile: { url: string; timeoutMs?: number; tls?: { caFile?: string; insecure?: boolean } }, baseUrl = profile.url): HttpClient {
  return new HttpClient({ vendor, baseUrl, timeoutMs: profile.timeoutMs, tls: readCaFile(profile) });
}
