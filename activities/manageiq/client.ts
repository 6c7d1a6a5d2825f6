/**
 * ManageIQ REST client for VM and instance snapshots: JSON over the shared HTTP layer, Basic auth
 * or an X-Auth-Token from GET /api/auth (renewed once when the appliance answers 401), paging that
 * follows `links.next`, single and bulk actions, and task reads (activities wait for tasks).
 */
import type { z } from 'zod';
import { UnsupportedRequestError, VendorError } from '../../lib/errors';
import { httpClientFor, type HttpClient, type HttpRequest, type HttpResponse, type Query } from '../../lib/http/http-client';
import { parseVendorBody } from '../../lib/schema';
import { resolveSecret, type ManageiqProfile } from '../../lib/config/endpoints';
import {
  actionResult,
  authBody,
  entryPointBody,
  errorBody,
  resourceBody,
  resultsBody,
  snapshotFields,
  snapshotsBody,
  taskBody,
  tasksBody,
  toResult,
  toSnapshot,
  type ManageiqActionResult,
  type ManageiqCollection,
  type ManageiqSnapshot,
  type ManageiqTask,
} from './schemas';

const VENDOR = 'manageiq';

export interface SnapshotQuery {
  /** `filter[]` expressions, e.g. `name='bo-*'` (ANDed). */
  filter?: string[];
  sortBy?: string;
  sortOrder?: 'asc' | 'desc';
  offset?: number;
  /** Page size (the appliance caps it at 1000). */
  limit?: number;
  /** Inline every snapshot's fields (default true); false gives hrefs only. */
  expand?: boolean;
  /** Follow `links.next` to the end (default true); false reads one page. */
  allPages?: boolean;
}

export interface SnapshotPage {
  snapshots: ManageiqSnapshot[];
  /** Every resource's href, expanded or not. */
  hrefs: string[];
  /** All snapshots on the appliance. */
  count: number;
  /** Matching snapshots of this VM (subquery_count, else subcount). */
  matching: number;
  /** Requests made. */
  pages: number;
}

export class ManageiqClient {
  private readonly http: HttpClient;
  private token?: string;

  constructor(
    private readonly profile: ManageiqProfile,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.http = httpClientFor(VENDOR, profile);
  }

  // --- transport -------------------------------------------------------------------------------

  private basic(): string {
    const { username, password } = this.profile.auth;
    return `Basic ${Buffer.from(`${username}:${resolveSecret(password, this.env)}`).toString('base64')}`;
  }

  private groupHeader(): Record<string, string> {
    return this.profile.auth.group ? { 'x-miq-group': this.profile.auth.group } : {};
  }

  private async authHeaders(): Promise<Record<string, string>> {
    if (this.profile.auth.type === 'basic') return { authorization: this.basic() };
    this.token ??= await this.login();
    return { 'x-auth-token': this.token };
  }

  /** GET /api/auth with the credentials: a token for the calls that follow. */
  async login(): Promise<string> {
    const req: HttpRequest = { method: 'GET', path: '/auth', headers: { accept: 'application/json', authorization: this.basic(), ...this.groupHeader() } };
    const res = await this.http.request(req);
    if (res.status !== 200) throw this.errorFor(req, res);
    return this.parse(authBody, req, res).auth_token;
  }

  /** DELETE /api/auth: ends the token's session. */
  async logout(): Promise<void> {
    if (!this.token) return;
    const token = this.token;
    this.token = undefined;
    const res = await this.http.request({ method: 'DELETE', path: '/auth', headers: { 'x-auth-token': token } });
    if (res.status >= 500) throw this.errorFor({ method: 'DELETE', path: '/auth' }, res);
  }

  private async call(req: HttpRequest, expected: number[]): Promise<HttpResponse> {
    const headers = async () => ({
      accept: 'application/json',
      ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...this.groupHeader(),
      ...(await this.authHeaders()),
    });
    const res = await this.http.requestRenewingOnce(req, headers, this.profile.auth.type === 'token' ? () => (this.token = undefined) : undefined);
    if (!expected.includes(res.status)) throw this.errorFor(req, res);
    return res;
  }

  /** `{"error":{kind,message,klass}}`, or a failed action's `{"results":[{success:false,message}]}`. */
  private errorFor(req: HttpRequest, res: HttpResponse): VendorError {
    let message = res.text.trim().slice(0, 500) || `HTTP ${res.status} with an empty body`;
    let code: string | undefined;
    try {
      const body = JSON.parse(res.text) as unknown;
      const error = errorBody.safeParse(body);
      const results = resultsBody.safeParse(body);
      const single = actionResult.safeParse(body);
      if (error.success) {
        message = error.data.error.message;
        code = error.data.error.kind;
      } else if (results.success && results.data.results.length) {
        message = results.data.results.map((r) => r.message).join('; ');
      } else if (single.success && single.data.message) {
        message = single.data.message;
      }
    } catch {
      // Not JSON (a proxy's HTML page): keep the raw text.
    }
    return this.http.statusError(req, res, message, code);
  }

  private parse<S extends z.ZodType>(schema: S, req: HttpRequest, res: HttpResponse): z.output<S> {
    let doc: unknown;
    try {
      doc = JSON.parse(res.text);
    } catch (err) {
      doc = { unparseable: (err as Error).message };
    }
    return parseVendorBody(schema, doc, { vendor: VENDOR, operation: this.http.describe(req), status: res.status });
  }

  private async getJson<S extends z.ZodType>(schema: S, path: string, query?: Query): Promise<z.output<S>> {
    const req: HttpRequest = { method: 'GET', path, query };
    return this.parse(schema, req, await this.call(req, [200]));
  }

  private async post<S extends z.ZodType>(schema: S, path: string, body: unknown): Promise<z.output<S>> {
    const req: HttpRequest = { method: 'POST', path, body: JSON.stringify(body) };
    return this.parse(schema, req, await this.call(req, [200, 201, 202]));
  }

  // --- entry point and resources ---------------------------------------------------------------

  async entryPoint(): Promise<z.output<typeof entryPointBody>> {
    return this.getJson(entryPointBody, '');
  }

  async getResource(collection: ManageiqCollection, id: string): Promise<{ id: string; name: string; type?: string }> {
    const body = await this.getJson(resourceBody, `/${collection}/${enc(id)}`, { attributes: 'name,type' });
    return { id: body.id, name: body.name, type: body.type };
  }

  // --- snapshots -------------------------------------------------------------------------------

  private snapshotsPath(collection: ManageiqCollection, id: string): string {
    return `/${collection}/${enc(id)}/snapshots`;
  }

  async querySnapshots(collection: ManageiqCollection, id: string, query: SnapshotQuery = {}): Promise<SnapshotPage> {
    const expand = query.expand ?? true;
    const params: Query = {
      expand: expand ? 'resources' : undefined,
      'filter[]': query.filter?.length ? query.filter : undefined,
      sort_by: query.sortBy,
      sort_order: query.sortOrder,
      offset: query.offset,
      limit: query.limit,
    };
    const page: SnapshotPage = { snapshots: [], hrefs: [], count: 0, matching: 0, pages: 0 };
    let next: { path: string; query?: Query } | undefined = { path: this.snapshotsPath(collection, id), query: params };
    const seen = new Set<string>();
    while (next) {
      const body: z.output<typeof snapshotsBody> = await this.getJson(snapshotsBody, next.path, next.query);
      page.pages++;
      page.count = body.count;
      page.matching = body.subquery_count ?? body.subcount;
      for (const resource of body.resources) {
        page.hrefs.push(resource.href);
        if ('id' in resource) page.snapshots.push(toSnapshot(resource));
      }
      const link: string | undefined = body.links?.next;
      // The next link is absolute and carries every parameter; a link seen before would loop.
      next = query.allPages !== false && link && !seen.has(link) && body.resources.length ? { path: link } : undefined;
      if (link) seen.add(link);
    }
    return page;
  }

  async getSnapshot(collection: ManageiqCollection, id: string, snapshotId: string): Promise<ManageiqSnapshot> {
    return toSnapshot(await this.getJson(snapshotFields, `${this.snapshotsPath(collection, id)}/${enc(snapshotId)}`));
  }

  /** POST …/snapshots: queues the snapshot; the result carries the task to wait for. */
  async createSnapshot(collection: ManageiqCollection, id: string, snapshot: { name: string; description?: string; memory?: boolean }): Promise<ManageiqActionResult> {
    const path = this.snapshotsPath(collection, id);
    const body = await this.post(resultsBody, path, { name: snapshot.name, description: snapshot.description ?? '', memory: snapshot.memory ?? false });
    const result = body.results[0];
    if (!result?.success) {
      throw new VendorError({ vendor: VENDOR, operation: `POST ${path}`, status: 200, vendorMessage: result?.message || 'the appliance did not create the snapshot', retryable: false });
    }
    return toResult(result);
  }

  /** Reverts a VM to the snapshot. Instances cannot be reverted: refused here, before any call. */
  async revertSnapshot(collection: ManageiqCollection, id: string, snapshotId: string): Promise<ManageiqActionResult> {
    if (collection !== 'vms') {
      throw new UnsupportedRequestError(
        VENDOR,
        `revert snapshot ${snapshotId} of ${collection} ${id}`,
        `revert is supported for VMs only: ${collection} ${id} is a cloud instance, and ManageIQ cannot revert an instance to a snapshot (no call was made)`,
      );
    }
    return this.singleAction(collection, id, snapshotId, 'revert');
  }

  /** DELETE …/snapshots/:id → 204; the removal is queued on the appliance. */
  async deleteSnapshot(collection: ManageiqCollection, id: string, snapshotId: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `${this.snapshotsPath(collection, id)}/${enc(snapshotId)}` }, [200, 202, 204]);
  }

  /** POST …/snapshots/:id {"action":"delete"}: like DELETE, but answers with the task. */
  async deleteSnapshotAction(collection: ManageiqCollection, id: string, snapshotId: string): Promise<ManageiqActionResult> {
    return this.singleAction(collection, id, snapshotId, 'delete');
  }

  private async singleAction(collection: ManageiqCollection, id: string, snapshotId: string, action: 'revert' | 'delete'): Promise<ManageiqActionResult> {
    const path = `${this.snapshotsPath(collection, id)}/${enc(snapshotId)}`;
    const result = toResult(await this.post(actionResult, path, { action }));
    if (!result.success) throw new VendorError({ vendor: VENDOR, operation: `POST ${path} (${action})`, status: 200, vendorMessage: result.message, retryable: false });
    return result;
  }

  /**
   * POST …/snapshots {"action":"delete","resources":[{href}…]}: one result per resource, in order.
   * A snapshot that is gone fails the whole request with a 404 (after the deletes before it were
   * queued): deleteSnapshotsRelisting (delete-snapshots.ts) is what callers use.
   */
  async bulkDeleteSnapshots(collection: ManageiqCollection, id: string, snapshotIds: string[]): Promise<Array<ManageiqActionResult & { snapshotId: string }>> {
    if (!snapshotIds.length) return [];
    const base = this.http.url(this.snapshotsPath(collection, id)).toString();
    const body = await this.post(resultsBody, this.snapshotsPath(collection, id), {
      action: 'delete',
      resources: snapshotIds.map((sid) => ({ href: `${base}/${enc(sid)}` })),
    });
    if (body.results.length !== snapshotIds.length) {
      throw new VendorError({
        vendor: VENDOR,
        operation: `POST ${this.snapshotsPath(collection, id)} (bulk delete)`,
        status: 200,
        vendorMessage: `asked to delete ${snapshotIds.length} snapshots, got ${body.results.length} results`,
        retryable: false,
      });
    }
    return body.results.map((r, i) => ({ ...toResult(r), snapshotId: snapshotIds[i]! }));
  }

  // --- tasks -----------------------------------------------------------------------------------

  async getTask(taskId: string): Promise<ManageiqTask> {
    return toTask(await this.getJson(taskBody, `/tasks/${enc(taskId)}`));
  }

  /** GET /tasks with `filter[]` expressions (ANDed), e.g. `name='Creating snapshot x for *'`. */
  async queryTasks(filter: string[]): Promise<ManageiqTask[]> {
    return (await this.getJson(tasksBody, '/tasks', { expand: 'resources', 'filter[]': filter })).resources.map(toTask);
  }

  async close(): Promise<void> {
    await this.logout().catch(() => undefined);
    await this.http.close();
  }
}

function toTask(t: z.output<typeof taskBody>): ManageiqTask {
  return { id: t.id, name: t.name, state: t.state, status: t.status, message: t.message ?? null, pctComplete: t.pct_complete ?? null };
}

function enc(id: string): string {
  return encodeURIComponent(id);
}
