/**
 * The codec server the Temporal Web UI (and `temporal` CLI) call to show decoded payloads to people
 * who may see them: POST /decode and /encode with {"payloads":[…]} in the proto-JSON shape
 * (metadata values and data base64). CORS is allowed only for the configured UI origins, and a
 * bearer token can be required.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';

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
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token?: string;
}

export class CodecServer {
  private server?: Server;
  url = '';

  constructor(private readonly options: CodecServerOptions) {}

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
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
    if (this.options.token && req.headers.authorization !== `Bearer ${this.options.token}`) return reply(401, { error: 'unauthorized' });
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
