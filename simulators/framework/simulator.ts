/**
 * The one simulator framework: an HTTP(S) server with a vendor router, the vendor's error body,
 * fault injection, a call log, and a small control API under /__sim for the demo and tests.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { CallLog } from './call-log';
import { FaultInjector, type FaultAction } from './faults';
import type { Router } from './router';
import type { SimClock } from './clock';
import type { SimState } from './state';
import type { ErrorRenderer, SimRequest, SimResponse } from './types';

export interface SimulatorOptions {
  /** Shown in logs and the control API. */
  name: string;
  /** Path prefix of the vendor API, e.g. "/ovirt-engine/api"; routes are matched below it. */
  apiPrefix: string;
  /** Further prefixes the same API answers under (an old engine serves both "/api" and "/ovirt-engine/api"). */
  alsoServedAt?: string[];
  router: Router;
  renderError: ErrorRenderer;
  /** Checks credentials; returns the response to send instead when they are missing or wrong. */
  authenticate?: (req: SimRequest) => SimResponse | undefined;
  /** Routes outside the API prefix that need no auth (token endpoints). */
  publicRouter?: Router;
  tls?: { key: string; cert: string };
  /** The vendor's state: reset with the simulator, on the clock the simulator reports. */
  state: Pick<SimState, 'reset' | 'clock'>;
  /**
   * Servers the vendor runs beside its API (oVirt's imageio daemon), each a Simulator of its own
   * (its faults, its call log): started on a port of their own, stopped and reset with this one.
   */
  companions?: Simulator[];
}

const CONTROL_PREFIX = '/__sim';

export class Simulator {
  readonly faults = new FaultInjector();
  readonly calls = new CallLog();
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  url = '';

  constructor(private readonly options: SimulatorOptions) {
    options.state.reset();
  }

  get name(): string {
    return this.options.name;
  }

  /** The simulated time its vendor state runs on. */
  get clock(): SimClock {
    return this.options.state.clock;
  }

  /** No faults, an empty call log, and the vendor back at its demo inventory. */
  reset(): void {
    this.faults.clear();
    this.calls.clear();
    for (const companion of this.options.companions ?? []) companion.reset();
    this.options.state.reset();
  }

  /** The vendor API's base URL (origin + prefix). */
  get apiUrl(): string {
    return this.url + this.options.apiPrefix;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.server = this.options.tls ? createHttpsServer(this.options.tls, handler) : createHttpServer(handler);
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    this.url = `${this.options.tls ? 'https' : 'http'}://${host}:${address.port}`;
    for (const companion of this.options.companions ?? []) await companion.start(0, host);
    return this.url;
  }

  async stop(): Promise<void> {
    for (const companion of this.options.companions ?? []) await companion.stop();
    if (!this.server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  private async readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = (req.method ?? 'GET').toUpperCase();
    const body = await this.readBody(req);
    if (url.pathname.startsWith(CONTROL_PREFIX)) return this.control(method, url.pathname.slice(CONTROL_PREFIX.length), body, res);

    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    const host = headers.host ?? '127.0.0.1';
    const origin = `${this.options.tls ? 'https' : 'http'}://${host}`;
    const prefix = [this.options.apiPrefix, ...(this.options.alsoServedAt ?? [])].find((p) => url.pathname === p || url.pathname.startsWith(p + '/'));
    const inApi = prefix !== undefined;
    const path = inApi ? url.pathname.slice(prefix.length) || '/' : url.pathname;
    const simReq: SimRequest = { method, path, query: url.searchParams, headers, body, params: {}, origin };

    const { seq, startedAt } = this.calls.begin();
    const fault = this.faults.take(method, path, url.search);
    const finish = (status: number | 'dropped', note?: string) =>
      this.calls.end({ seq, method, path, query: url.search, status, fault: fault?.kind, startedAt, ...(note !== undefined ? { note } : {}) });

    try {
      if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
      if (fault?.kind === 'drop' && !fault.afterHandling) {
        finish('dropped');
        req.socket.destroy();
        return;
      }
      let response: SimResponse;
      if (fault?.kind === 'status') {
        response = this.options.renderError(fault.status, fault.message, fault.detail);
        if (fault.retryAfterSeconds !== undefined) response.headers = { ...response.headers, 'retry-after': String(fault.retryAfterSeconds) };
      } else {
        response = await this.route(simReq, inApi);
      }
      if (fault?.kind === 'drop') {
        finish('dropped');
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'malformed') response = garble(response);
      this.send(res, response);
      finish(response.status, response.note);
    } catch (err) {
      const response = this.options.renderError(500, 'simulator error', (err as Error).stack ?? String(err));
      this.send(res, response);
      finish(500);
    }
  }

  private async route(req: SimRequest, inApi: boolean): Promise<SimResponse> {
    if (!inApi) {
      const publicMatch = this.options.publicRouter?.match(req.method, req.path);
      if (publicMatch && 'handler' in publicMatch) return publicMatch.handler({ ...req, params: publicMatch.params });
      return this.options.renderError(404, 'Not Found', `no such path ${req.path}`);
    }
    const denied = this.options.authenticate?.(req);
    if (denied) return denied;
    const match = this.options.router.match(req.method, req.path);
    if ('error' in match) return this.options.renderError(match.error, match.error === 404 ? 'Not Found' : 'Method Not Allowed');
    return match.handler({ ...req, params: match.params });
  }

  private send(res: ServerResponse, response: SimResponse): void {
    res.writeHead(response.status, response.headers);
    res.end(response.body ?? '');
  }

  private control(method: string, path: string, body: string, res: ServerResponse): void {
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    try {
      if (method === 'GET' && path === '/calls') return json(200, { calls: this.calls.all(), peakConcurrency: this.calls.peakConcurrency });
      if (method === 'GET' && path === '/faults') return json(200, { faults: this.faults.list() });
      if (method === 'POST' && path === '/faults') return json(201, { id: this.faults.add(JSON.parse(body)) });
      if (method === 'DELETE' && path === '/faults') {
        this.faults.clear();
        return json(200, { cleared: true });
      }
      if (method === 'POST' && path === '/reset') {
        this.reset();
        return json(200, { reset: true });
      }
      json(404, { error: `no control endpoint ${method} ${path}` });
    } catch (err) {
      json(400, { error: (err as Error).message });
    }
  }
}

function garble(response: SimResponse): SimResponse {
  const body = Buffer.from(response.body ?? '');
  return { status: response.status < 400 ? response.status : 200, headers: response.headers, body: body.subarray(0, Math.floor(body.length / 2)) };
}

export type { FaultAction };
