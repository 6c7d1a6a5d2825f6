/**
 * The codec server the Temporal Web UI (and `temporal` CLI) call to show decoded payloads to people
 * who may see them: POST /decode and /encode with {"payloads":[…]} in the proto-JSON shape
 * (metadata values and data base64). CORS is allowed only for the configured UI origins. Every
 * /encode and /decode needs a credential (lib/codec/codec-auth.ts): there is no open codec server.
 * CORS preflights (OPTIONS) are answered without one, as browsers send them without headers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { CodecAuth, CodecAuthRefused, type CodecAuthOptions } from './codec-auth';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

function fromJson(p: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
    data: p.data === undefined ? undefined : new Uint8Array(Buffer.from(p.data, 'base64')),
  };
}

function toJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: p.data ? Buffer.from(p.data).toString('base64') : undefined,
  };
}

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Origins allowed to call from a browser, e.g. the UI's http://127.0.0.1:8233. */
  allowedOrigins: string[];
  /** Who may call: a bearer token and/or the Web UI's forwarded access token (a JWT). Required. */
  auth: CodecAuthOptions;
  /**
   * `npm start` only: a browser call whose Origin is one of `allowedOrigins` is admitted without a
   * credential, as the dev server's UI cannot send one (docs/web-ui.md). Loopback only: start()
   * refuses any other address with this set. Never set in production (deploy/codec-server.ts).
   */
  demoAdmitUiOrigins?: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export class CodecServer {
  private server?: Server;
  url = '';
  private readonly auth: CodecAuth;

  constructor(private readonly options: CodecServerOptions) {
    this.auth = new CodecAuth(options.auth);
  }

  /** What callers must bring, for the startup line (no secret). */
  describeAuth(): string {
    return `${this.auth.describe()}${this.options.demoAdmitUiOrigins ? ` (browsers on ${this.options.allowedOrigins.join(', ')} without one: demo, loopback only)` : ''}`;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.options.demoAdmitUiOrigins && !LOOPBACK.has(host)) throw new Error(`the demo's codec server admits the UI's origin without a token, so it listens on loopback only, not ${host}`);
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    this.url = `http://${host}:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await this.auth.close();
  }

  private async admit(req: IncomingMessage): Promise<void> {
    const origin = req.headers.origin;
    if (this.options.demoAdmitUiOrigins && !req.headers.authorization && origin && this.options.allowedOrigins.includes(origin)) return;
    await this.auth.check(req.headers.authorization);
  }

  private cors(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin;
    if (origin && this.options.allowedOrigins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      res.setHeader('access-control-allow-headers', 'content-type, x-namespace, authorization');
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'origin');
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.cors(req, res);
    if (req.method === 'OPTIONS') {
      res.writeHead(200).end();
      return;
    }
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    if (req.method !== 'POST' || (path !== '/decode' && path !== '/encode')) return reply(404, { error: 'POST /encode or /decode' });
    try {
      await this.admit(req);
    } catch (err) {
      req.resume();
      if (!(err instanceof CodecAuthRefused)) return reply(500, { error: 'the credential could not be checked' });
      res.setHeader('www-authenticate', 'Bearer realm="codec"');
      return reply(401, { error: `unauthorized: ${err.message}` });
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payloads?: JsonPayload[] };
      const payloads = (body.payloads ?? []).map(fromJson);
      const out = path === '/decode' ? await this.options.codec.decode(payloads) : await this.options.codec.encode(payloads);
      reply(200, { payloads: out.map(toJson) });
    } catch (err) {
      reply(400, { error: (err as Error).message });
    }
  }
}
