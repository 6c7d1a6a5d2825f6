/**
 * Azure Backup REST client (Microsoft.RecoveryServices, ARM) on the shared HTTP layer: OAuth2
 * client-credentials token cached per endpoint and renewed before expiry, `api-version` from the
 * profile, ARM error bodies turned into VendorError, and ONE async-operation tracker for every
 * long-running call (Azure-AsyncOperation first, else Location, honouring Retry-After).
 */
import type { z } from 'zod';
import { VendorError, isRetryableStatus, parseRetryAfter } from '../../lib/errors';
import { HttpClient, type HttpRequest, type HttpResponse, type Query } from '../../lib/http/http-client';
import { parseVendorBody } from '../../lib/schema';
import { readCaFile, resolveSecret, type AzureProfile } from '../../lib/config/endpoints';
import {
  armErrorBody,
  backupRequest,
  ilrRequest,
  jobList,
  jobResource,
  operationStatus,
  policyList,
  policyResource,
  protectableItemList,
  protectedItemList,
  protectedItemRequest,
  protectedItemResource,
  recoveryPointList,
  recoveryPointResource,
  restoreRequest,
  tokenErrorBody,
  tokenRequest,
  tokenResponse,
  type AzureJob,
  type AzureOperationStatus,
  type AzurePolicy,
  type AzureProtectableItem,
  type AzureProtectedItem,
  type AzureRecoveryPoint,
} from './schemas';

const VENDOR = 'azure';
export const IAAS_FILTER = "backupManagementType eq 'AzureIaasVM'";

/** How an async call ended: which header we followed and what the operation said. */
export interface AsyncOutcome {
  via: 'Azure-AsyncOperation' | 'Location' | 'none';
  /** The operation status body (Azure-AsyncOperation), when there was one. */
  operation?: AzureOperationStatus;
  /** The final body of a Location poll (200) or of an immediate 200/201, if any. */
  body?: unknown;
  /** The operation id: last segment of the URL followed. */
  operationId?: string;
  polls: number;
}

/** Where Azure said an accepted (202) call can be followed: enough to follow it again later. */
export interface AcceptedOperation {
  asyncOperation?: string;
  location?: string;
}

export interface TrackOptions {
  /** Waits between polls; activities pass a heartbeating, cancellable sleep. */
  wait?: (ms: number) => Promise<void>;
  /** Told once the call was accepted, before the first poll: a retry can follow the same operation. */
  onAccepted?: (accepted: AcceptedOperation) => void;
  /** Poll interval when the service sends no Retry-After, and the floor under a Retry-After of 0. */
  pollMs?: number;
  /** Give up after this long (default 30 minutes). */
  timeoutMs?: number;
}

const defaultWait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class AzureClient {
  readonly http: HttpClient;
  readonly vaultPath: string;
  private token?: { value: string; renewAt: number };
  private tokenPromise?: Promise<string>;
  /** How many tokens this client fetched (tests check the cache). */
  tokensFetched = 0;

  constructor(
    readonly profile: AzureProfile,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.http = new HttpClient({ vendor: VENDOR, baseUrl: profile.url, timeoutMs: profile.timeoutMs, tls: readCaFile(profile) });
    this.vaultPath = `/subscriptions/${enc(profile.subscriptionId)}/resourceGroups/${enc(profile.resourceGroup)}/providers/Microsoft.RecoveryServices/vaults/${enc(profile.vaultName)}`;
  }

  get tokenUrl(): string {
    return this.profile.auth.tokenUrl ?? `https://login.microsoftonline.com/${enc(this.profile.auth.tenantId)}/oauth2/v2.0/token`;
  }

  // --- auth ----------------------------------------------------------------------------------

  /** A cached bearer token, renewed 5 minutes (or half its life, if shorter) before it expires. */
  private async bearer(): Promise<string> {
    if (this.token && Date.now() < this.token.renewAt) return this.token.value;
    this.tokenPromise ??= this.fetchToken().finally(() => (this.tokenPromise = undefined));
    return this.tokenPromise;
  }

  private async fetchToken(): Promise<string> {
    const { clientId, clientSecret } = this.profile.auth;
    const form = tokenRequest.parse({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: resolveSecret(clientSecret, this.env),
      scope: this.profile.auth.scope ?? `${this.http.baseUrl}/.default`,
    });
    const req: HttpRequest = {
      method: 'POST',
      path: this.tokenUrl,
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    };
    const res = await this.http.request(req);
    const body = safeJson(res.text);
    if (res.status !== 200) {
      const err = tokenErrorBody.safeParse(body);
      const message = err.success ? `${err.data.error}${err.data.error_description ? `: ${err.data.error_description}` : ''}` : res.text.slice(0, 300);
      throw this.http.statusError(req, res, `token request failed: ${message}`, err.success ? err.data.error : undefined);
    }
    const token = parseVendorBody(tokenResponse, body, { vendor: VENDOR, operation: this.http.describe(req), status: res.status });
    const ttlMs = token.expires_in * 1000;
    this.token = { value: token.access_token, renewAt: Date.now() + ttlMs - Math.min(5 * 60_000, ttlMs / 2) };
    this.tokensFetched++;
    return token.access_token;
  }

  // --- transport -----------------------------------------------------------------------------

  /** One ARM call; a 401 drops the cached token and tries once more with a fresh one. */
  async call(req: HttpRequest, expected: number[]): Promise<HttpResponse> {
    const headers = async () => ({
      accept: 'application/json',
      ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
      authorization: `Bearer ${await this.bearer()}`,
    });
    const versioned = { ...req, query: { ...req.query, 'api-version': this.profile.apiVersion } };
    const res = await this.http.requestRenewingOnce(versioned, headers, () => (this.token = undefined));
    if (!expected.includes(res.status)) throw this.armError(req, res);
    return res;
  }

  armError(req: Pick<HttpRequest, 'method' | 'path'>, res: HttpResponse): VendorError {
    const parsed = armErrorBody.safeParse(safeJson(res.text));
    const message = parsed.success ? `${parsed.data.error.code}: ${parsed.data.error.message}` : res.text.trim().slice(0, 300) || `HTTP ${res.status} with an empty body`;
    return new VendorError({
      vendor: VENDOR,
      operation: this.http.describe(req),
      status: res.status,
      vendorMessage: message,
      code: parsed.success ? parsed.data.error.code : undefined,
      retryable: isRetryableStatus(res.status),
      retryAfterMs: parseRetryAfter(res.headers['retry-after']),
    });
  }

  parse<S extends z.ZodType>(schema: S, req: Pick<HttpRequest, 'method' | 'path'>, res: HttpResponse): z.output<S> {
    const ctx = { vendor: VENDOR, operation: this.http.describe(req), status: res.status };
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch (err) {
      return parseVendorBody(schema, { unparseable: (err as Error).message }, ctx);
    }
    return parseVendorBody(schema, body, ctx);
  }

  private json<S extends z.ZodType>(schema: S, value: z.input<S>): string {
    return JSON.stringify(schema.parse(value));
  }

  private async get<S extends z.ZodType>(schema: S, path: string, query?: Query): Promise<z.output<S>> {
    const req: HttpRequest = { method: 'GET', path, query };
    return this.parse(schema, req, await this.call(req, [200]));
  }

  /** Follows nextLink until the list ends. */
  private async getAll<T>(schema: z.ZodType<{ value: T[]; nextLink?: string }>, path: string, query?: Query): Promise<T[]> {
    const items: T[] = [];
    let page = await this.get(schema, path, query);
    items.push(...page.value);
    for (let i = 0; page.nextLink && i < 1000; i++) {
      page = await this.get(schema, page.nextLink);
      items.push(...page.value);
    }
    return items;
  }

  // --- the one async-operation tracker ---------------------------------------------------------

  /**
   * Waits for a long-running ARM operation that answered `initial`. Follows the absolute URL of
   * Azure-AsyncOperation when present (operation status: InProgress → Succeeded/Failed/Canceled),
   * else of Location (202 while running, then 200 with the resource or 204), sleeping for each
   * answer's Retry-After. Throttling or 5xx on a poll is waited out, not turned into a second POST.
   */
  async track(initial: HttpResponse, req: Pick<HttpRequest, 'method' | 'path'>, options: TrackOptions = {}): Promise<AsyncOutcome> {
    if (initial.status !== 202) return { via: 'none', body: safeJson(initial.text), polls: 0 };
    const wait = options.wait ?? defaultWait;
    const pollMs = options.pollMs ?? 2000;
    const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
    const asyncUrl = initial.headers['azure-asyncoperation'];
    const locationUrl = initial.headers['location'];
    const url = asyncUrl ?? locationUrl;
    const via = asyncUrl ? 'Azure-AsyncOperation' : 'Location';
    if (!url) throw new VendorError({ vendor: VENDOR, operation: this.http.describe(req), status: 202, vendorMessage: 'accepted, but neither Azure-AsyncOperation nor Location says where to follow it', retryable: false });
    // A relative header is resolved against the endpoint; one that is no URL at all is the vendor's error, not a TypeError.
    let target: URL;
    try {
      target = new URL(url, `${this.http.baseUrl}/`);
    } catch {
      throw new VendorError({ vendor: VENDOR, operation: this.http.describe(req), status: 202, vendorMessage: `accepted, but its ${via} header is not a URL: ${url.slice(0, 200)}`, retryable: false });
    }
    const operationId = target.pathname.split('/').pop();
    options.onAccepted?.({ asyncOperation: asyncUrl, location: locationUrl });
    let delay = waitFor(initial, pollMs);
    let failures = 0;
    for (let polls = 1; ; polls++) {
      if (Date.now() > deadline) {
        throw new VendorError({ vendor: VENDOR, operation: this.http.describe(req), vendorMessage: `operation ${operationId} did not finish within ${Math.round((options.timeoutMs ?? 1_800_000) / 1000)} s`, retryable: false });
      }
      await wait(delay);
      const pollReq: HttpRequest = { method: 'GET', path: target.href };
      let res: HttpResponse;
      try {
        res = await this.call(pollReq, asyncUrl ? [200] : [200, 201, 202, 204]);
        failures = 0;
      } catch (err) {
        if (err instanceof VendorError && err.retryable && ++failures <= 10) {
          delay = Math.max(err.retryAfterMs ?? pollMs, pollMs / 4);
          continue;
        }
        throw err;
      }
      delay = waitFor(res, pollMs);
      if (asyncUrl) {
        const op = this.parse(operationStatus, pollReq, res);
        if (op.status === 'InProgress') continue;
        if (op.status === 'Succeeded') return { via, operation: op, operationId, polls };
        throw new VendorError({
          vendor: VENDOR,
          operation: this.http.describe(req),
          vendorMessage: `operation ${operationId} ended ${op.status}${op.error ? `: ${op.error.code}: ${op.error.message}` : ''}`,
          code: op.error?.code,
          retryable: false,
        });
      }
      if (res.status === 202) continue;
      return { via, body: res.status === 204 ? undefined : safeJson(res.text), operationId, polls };
    }
  }

  /** Follows an operation an earlier attempt's call started (see `onAccepted`), as `track` would have. */
  async resume(accepted: AcceptedOperation, req: Pick<HttpRequest, 'method' | 'path'>, options: TrackOptions = {}): Promise<AsyncOutcome> {
    const headers: Record<string, string | undefined> = { 'azure-asyncoperation': accepted.asyncOperation, location: accepted.location };
    return this.track({ status: 202, headers, text: '' }, req, { ...options, onAccepted: undefined });
  }

  /** Sends a call that may be long-running and waits for it with `track`. */
  private async longRunning(req: HttpRequest, expected: number[], options?: TrackOptions): Promise<AsyncOutcome> {
    const res = await this.call(req, [...expected, 202]);
    return this.track(res, req, options);
  }

  // --- policies, containers, items -------------------------------------------------------------

  async listPolicies(): Promise<AzurePolicy[]> {
    return this.getAll(policyList, `${this.vaultPath}/backupPolicies`, { $filter: IAAS_FILTER });
  }

  async getPolicy(name: string): Promise<AzurePolicy> {
    return this.get(policyResource, `${this.vaultPath}/backupPolicies/${enc(name)}`);
  }

  async refreshContainers(options?: TrackOptions): Promise<AsyncOutcome> {
    return this.longRunning({ method: 'POST', path: `${this.vaultPath}/backupFabrics/Azure/refreshContainers`, query: { $filter: IAAS_FILTER } }, [200, 204], options);
  }

  async listProtectableItems(): Promise<AzureProtectableItem[]> {
    return this.getAll(protectableItemList, `${this.vaultPath}/backupProtectableItems`, { $filter: IAAS_FILTER });
  }

  async listProtectedItems(): Promise<AzureProtectedItem[]> {
    return this.getAll(protectedItemList, `${this.vaultPath}/backupProtectedItems`, { $filter: `${IAAS_FILTER} and itemType eq 'VM'` });
  }

  itemPath(container: string, item: string): string {
    return `${this.vaultPath}/backupFabrics/Azure/protectionContainers/${enc(container)}/protectedItems/${enc(item)}`;
  }

  async getProtectedItem(container: string, item: string): Promise<AzureProtectedItem | undefined> {
    const req: HttpRequest = { method: 'GET', path: this.itemPath(container, item) };
    const res = await this.call(req, [200, 404]);
    return res.status === 404 ? undefined : this.parse(protectedItemResource, req, res);
  }

  async enableProtection(container: string, item: string, sourceResourceId: string, policyId: string, options?: TrackOptions): Promise<AsyncOutcome> {
    const body = this.json(protectedItemRequest, { properties: { protectedItemType: 'Microsoft.Compute/virtualMachines', sourceResourceId, policyId } });
    return this.longRunning({ method: 'PUT', path: this.itemPath(container, item), body }, [200, 201], options);
  }

  /** Stops protection and deletes the item's backup data; an item already gone is done. */
  async disableProtection(container: string, item: string, options?: TrackOptions): Promise<'removed' | 'already gone'> {
    const req: HttpRequest = { method: 'DELETE', path: this.itemPath(container, item) };
    const res = await this.call(req, [200, 202, 204, 404]);
    if (res.status === 404) return 'already gone';
    await this.track(res, req, options);
    return 'removed';
  }

  // --- backup, jobs, recovery points -----------------------------------------------------------

  async triggerBackup(container: string, item: string, expiry: string | undefined, options?: TrackOptions): Promise<AsyncOutcome> {
    const body = this.json(backupRequest, { properties: { objectType: 'IaasVMBackupRequest', recoveryPointExpiryTimeInUTC: expiry } });
    return this.longRunning({ method: 'POST', path: `${this.itemPath(container, item)}/backup`, body }, [], options);
  }

  async getJob(jobId: string): Promise<AzureJob> {
    return this.get(jobResource, `${this.vaultPath}/backupJobs/${enc(jobId)}`);
  }

  /** Jobs of the vault, filtered by the service; `filter` is an OData expression. */
  async listJobs(filter?: string): Promise<AzureJob[]> {
    return this.getAll(jobList, `${this.vaultPath}/backupJobs`, filter ? { $filter: filter } : undefined);
  }

  /** Jobs of one VM and operation, newest first. */
  async findJobs(entityFriendlyName: string, operation: string, status?: string): Promise<AzureJob[]> {
    const filter = [IAAS_FILTER, `operation eq '${operation}'`, ...(status ? [`status eq '${status}'`] : [])].join(' and ');
    return (await this.listJobs(filter))
      .filter((j) => j.properties.entityFriendlyName.toLowerCase() === entityFriendlyName.toLowerCase())
      .sort((a, b) => Date.parse(b.properties.startTime) - Date.parse(a.properties.startTime));
  }

  async cancelJob(jobId: string, options?: TrackOptions): Promise<AsyncOutcome> {
    return this.longRunning({ method: 'POST', path: `${this.vaultPath}/backupJobs/${enc(jobId)}/cancel` }, [200, 204], options);
  }

  async listRecoveryPoints(container: string, item: string): Promise<AzureRecoveryPoint[]> {
    return this.getAll(recoveryPointList, `${this.itemPath(container, item)}/recoveryPoints`);
  }

  async getRecoveryPoint(container: string, item: string, rp: string): Promise<AzureRecoveryPoint> {
    return this.get(recoveryPointResource, `${this.itemPath(container, item)}/recoveryPoints/${enc(rp)}`);
  }

  async restore(container: string, item: string, rp: string, properties: z.input<typeof restoreRequest>['properties'], options?: TrackOptions): Promise<AsyncOutcome> {
    const body = this.json(restoreRequest, { properties });
    return this.longRunning({ method: 'POST', path: `${this.itemPath(container, item)}/recoveryPoints/${enc(rp)}/restore`, body }, [], options);
  }

  async provisionItemLevelRecovery(container: string, item: string, rp: string, properties: z.input<typeof ilrRequest>['properties'], options?: TrackOptions): Promise<AsyncOutcome> {
    const body = this.json(ilrRequest, { properties });
    return this.longRunning({ method: 'POST', path: `${this.itemPath(container, item)}/recoveryPoints/${enc(rp)}/provisionInstantItemRecovery`, body }, [], options);
  }

  async revokeItemLevelRecovery(container: string, item: string, rp: string, options?: TrackOptions): Promise<AsyncOutcome> {
    return this.longRunning({ method: 'POST', path: `${this.itemPath(container, item)}/recoveryPoints/${enc(rp)}/revokeInstantItemRecovery` }, [200, 204], options);
  }

  /** The operation status of an item operation, for a Location-only answer that needs the extended info. */
  async getItemOperationStatus(container: string, item: string, operationId: string): Promise<AzureOperationStatus> {
    return this.get(operationStatus, `${this.itemPath(container, item)}/operationsStatus/${enc(operationId)}`);
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

function waitFor(res: HttpResponse, pollMs: number): number {
  const retryAfter = parseRetryAfter(res.headers['retry-after']);
  // Honour Retry-After; a Retry-After of 0 still gets a short floor so a poll loop cannot spin.
  return retryAfter === undefined ? pollMs : Math.max(retryAfter, Math.min(pollMs, 100));
}

function enc(id: string): string {
  return encodeURIComponent(id);
}

function safeJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
