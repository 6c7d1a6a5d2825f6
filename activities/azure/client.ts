/**
 * Azure Backup REST client (Microsoft.RecoveryServices, ARM) on the shared HTTP layer: OAuth2
 * client-credentials token cached per endpoint and renewed before expiry, `api-version` from the
 * profile, ARM error bodies turned into VendorError. A long-running call hands its accepted
 * operation (Azure-AsyncOperation first, else Location) to the follower its caller passes: the
 * activity layer waits (follow-operation.ts); the client reads one look at a time.
 */
import type { z } from 'zod';
import { VendorError, parseRetryAfter } from '../../lib/errors';
import { httpClientFor, type HttpClient, type HttpRequest, type HttpResponse, type Query } from '../../lib/http/http-client';
import { parseVendorBody } from '../../lib/schema';
import { resolveSecret, type AzureProfile } from '../../lib/config/endpoints';
import * as arm from './schemas';
import type { AzureJob, AzureOperationStatus, AzurePolicy, AzureProtectableItem, AzureProtectedItem, AzureRecoveryPoint } from './schemas';

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

/** An operation Azure accepted (202) and has not finished: enough to look at it, now or in a later attempt. */
export interface PendingOperation {
  /** The call that started it: errors name it. */
  request: Pick<HttpRequest, 'method' | 'path'>;
  via: 'Azure-AsyncOperation' | 'Location';
  /** The absolute URL to look at. */
  url: string;
  operationId?: string;
  accepted: AcceptedOperation;
  /** The accepting answer's Retry-After. */
  retryAfterMs?: number;
}

/** One look at a pending operation: how it ended, or (still running) the answer's Retry-After. */
export interface OperationLook {
  outcome?: Omit<AsyncOutcome, 'polls'>;
  retryAfterMs?: number;
}

/** Waits for a pending operation to end; the activity layer's (follow-operation.ts). */
export type FollowOperation = (pending: PendingOperation) => Promise<AsyncOutcome>;

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
    this.http = httpClientFor(VENDOR, profile);
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
    const form = arm.tokenRequest.parse({
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
      const err = arm.tokenErrorBody.safeParse(body);
      const message = err.success ? `${err.data.error}${err.data.error_description ? `: ${err.data.error_description}` : ''}` : res.text.slice(0, 300);
      throw this.http.statusError(req, res, `token request failed: ${message}`, err.success ? err.data.error : undefined);
    }
    const token = parseVendorBody(arm.tokenResponse, body, { vendor: VENDOR, operation: this.http.describe(req), status: res.status });
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
    const parsed = arm.armErrorBody.safeParse(safeJson(res.text));
    const message = parsed.success ? `${parsed.data.error.code}: ${parsed.data.error.message}` : res.text.trim().slice(0, 300) || `HTTP ${res.status} with an empty body`;
    return this.http.statusError(req, res, message, parsed.success ? parsed.data.error.code : undefined);
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

  // --- long-running operations ---------------------------------------------------------------

  /**
   * Where an accepted (202) call can be followed: the absolute URL of Azure-AsyncOperation when
   * present (operation status: InProgress → Succeeded/Failed/Canceled), else of Location (202 while
   * running, then 200 with the resource or 204).
   */
  pendingOf(accepted: Pick<HttpResponse, 'headers'>, req: Pick<HttpRequest, 'method' | 'path'>): PendingOperation {
    const asyncUrl = accepted.headers['azure-asyncoperation'];
    const locationUrl = accepted.headers['location'];
    const url = asyncUrl ?? locationUrl;
    const via = asyncUrl ? 'Azure-AsyncOperation' : 'Location';
    if (!url)
      throw new VendorError({
        vendor: VENDOR,
        operation: this.http.describe(req),
        status: 202,
        vendorMessage: 'accepted, but neither Azure-AsyncOperation nor Location says where to follow it',
        retryable: false,
      });
    // A relative header is resolved against the endpoint; one that is no URL at all is the vendor's error, not a TypeError.
    let target: URL;
    try {
      target = new URL(url, `${this.http.baseUrl}/`);
    } catch {
      throw new VendorError({ vendor: VENDOR, operation: this.http.describe(req), status: 202, vendorMessage: `accepted, but its ${via} header is not a URL: ${url.slice(0, 200)}`, retryable: false });
    }
    return {
      request: req,
      via,
      url: target.href,
      operationId: target.pathname.split('/').pop(),
      accepted: { asyncOperation: asyncUrl, location: locationUrl },
      retryAfterMs: parseRetryAfter(accepted.headers['retry-after']),
    };
  }

  /** One look at a pending operation; an operation that ended other than Succeeded is a VendorError. */
  async lookAt(pending: PendingOperation): Promise<OperationLook> {
    const { via, operationId } = pending;
    const pollReq: HttpRequest = { method: 'GET', path: pending.url };
    const res = await this.call(pollReq, via === 'Azure-AsyncOperation' ? [200] : [200, 201, 202, 204]);
    const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
    if (via === 'Azure-AsyncOperation') {
      const op = this.parse(arm.operationStatus, pollReq, res);
      if (op.status === 'InProgress') return { retryAfterMs };
      if (op.status === 'Succeeded') return { outcome: { via, operation: op, operationId } };
      throw new VendorError({
        vendor: VENDOR,
        operation: this.http.describe(pending.request),
        vendorMessage: `operation ${operationId} ended ${op.status}${op.error ? `: ${op.error.code}: ${op.error.message}` : ''}`,
        code: op.error?.code,
        retryable: false,
      });
    }
    if (res.status === 202) return { retryAfterMs };
    return { outcome: { via, body: res.status === 204 ? undefined : safeJson(res.text), operationId } };
  }

  /** The outcome of a call that may be long-running: at once, or (accepted) through `follow`. */
  async settle(initial: HttpResponse, req: Pick<HttpRequest, 'method' | 'path'>, follow: FollowOperation): Promise<AsyncOutcome> {
    if (initial.status !== 202) return { via: 'none', body: safeJson(initial.text), polls: 0 };
    return follow(this.pendingOf(initial, req));
  }

  /** Follows an operation an earlier attempt's call started, as `settle` would have. */
  async resume(accepted: AcceptedOperation, req: Pick<HttpRequest, 'method' | 'path'>, follow: FollowOperation): Promise<AsyncOutcome> {
    return follow(this.pendingOf({ headers: { 'azure-asyncoperation': accepted.asyncOperation, location: accepted.location } }, req));
  }

  /** Sends a call that may be long-running and settles it. */
  private async longRunning(req: HttpRequest, expected: number[], follow: FollowOperation): Promise<AsyncOutcome> {
    const res = await this.call(req, [...expected, 202]);
    return this.settle(res, req, follow);
  }

  // --- policies, containers, items -------------------------------------------------------------

  async listPolicies(): Promise<AzurePolicy[]> {
    return this.getAll(arm.policyList, `${this.vaultPath}/backupPolicies`, { $filter: IAAS_FILTER });
  }

  async getPolicy(name: string): Promise<AzurePolicy> {
    return this.get(arm.policyResource, `${this.vaultPath}/backupPolicies/${enc(name)}`);
  }

  async refreshContainers(follow: FollowOperation): Promise<AsyncOutcome> {
    return this.longRunning({ method: 'POST', path: `${this.vaultPath}/backupFabrics/Azure/refreshContainers`, query: { $filter: IAAS_FILTER } }, [200, 204], follow);
  }

  async listProtectableItems(): Promise<AzureProtectableItem[]> {
    return this.getAll(arm.protectableItemList, `${this.vaultPath}/backupProtectableItems`, { $filter: IAAS_FILTER });
  }

  async listProtectedItems(): Promise<AzureProtectedItem[]> {
    return this.getAll(arm.protectedItemList, `${this.vaultPath}/backupProtectedItems`, { $filter: `${IAAS_FILTER} and itemType eq 'VM'` });
  }

  itemPath(container: string, item: string): string {
    return `${this.vaultPath}/backupFabrics/Azure/protectionContainers/${enc(container)}/protectedItems/${enc(item)}`;
  }

  async getProtectedItem(container: string, item: string): Promise<AzureProtectedItem | undefined> {
    const req: HttpRequest = { method: 'GET', path: this.itemPath(container, item) };
    const res = await this.call(req, [200, 404]);
    return res.status === 404 ? undefined : this.parse(arm.protectedItemResource, req, res);
  }

  async enableProtection(container: string, item: string, sourceResourceId: string, policyId: string, follow: FollowOperation): Promise<AsyncOutcome> {
    const body = this.json(arm.protectedItemRequest, { properties: { protectedItemType: 'Microsoft.Compute/virtualMachines', sourceResourceId, policyId } });
    return this.longRunning({ method: 'PUT', path: this.itemPath(container, item), body }, [200, 201], follow);
  }

  /** Stops protection and deletes the item's backup data; an item already gone is done. */
  async disableProtection(container: string, item: string, follow: FollowOperation): Promise<'removed' | 'already gone'> {
    const req: HttpRequest = { method: 'DELETE', path: this.itemPath(container, item) };
    const res = await this.call(req, [200, 202, 204, 404]);
    if (res.status === 404) return 'already gone';
    await this.settle(res, req, follow);
    return 'removed';
  }

  // --- backup, jobs, recovery points -----------------------------------------------------------

  async triggerBackup(container: string, item: string, expiry: string | undefined, follow: FollowOperation): Promise<AsyncOutcome> {
    const body = this.json(arm.backupRequest, { properties: { objectType: 'IaasVMBackupRequest', recoveryPointExpiryTimeInUTC: expiry } });
    return this.longRunning({ method: 'POST', path: `${this.itemPath(container, item)}/backup`, body }, [], follow);
  }

  async getJob(jobId: string): Promise<AzureJob> {
    return this.get(arm.jobResource, `${this.vaultPath}/backupJobs/${enc(jobId)}`);
  }

  /** Jobs of the vault, filtered by the service; `filter` is an OData expression. */
  async listJobs(filter?: string): Promise<AzureJob[]> {
    return this.getAll(arm.jobList, `${this.vaultPath}/backupJobs`, filter ? { $filter: filter } : undefined);
  }

  /** Jobs of one VM and operation, newest first. */
  async findJobs(entityFriendlyName: string, operation: string, status?: string): Promise<AzureJob[]> {
    const filter = [IAAS_FILTER, `operation eq '${operation}'`, ...(status ? [`status eq '${status}'`] : [])].join(' and ');
    return (await this.listJobs(filter))
      .filter((j) => j.properties.entityFriendlyName.toLowerCase() === entityFriendlyName.toLowerCase())
      .sort((a, b) => Date.parse(b.properties.startTime) - Date.parse(a.properties.startTime));
  }

  async cancelJob(jobId: string, follow: FollowOperation): Promise<AsyncOutcome> {
    return this.longRunning({ method: 'POST', path: `${this.vaultPath}/backupJobs/${enc(jobId)}/cancel` }, [200, 204], follow);
  }

  async listRecoveryPoints(container: string, item: string): Promise<AzureRecoveryPoint[]> {
    return this.getAll(arm.recoveryPointList, `${this.itemPath(container, item)}/recoveryPoints`);
  }

  async getRecoveryPoint(container: string, item: string, rp: string): Promise<AzureRecoveryPoint> {
    return this.get(arm.recoveryPointResource, `${this.itemPath(container, item)}/recoveryPoints/${enc(rp)}`);
  }

  async restore(container: string, item: string, rp: string, properties: z.input<typeof arm.restoreRequest>['properties'], follow: FollowOperation): Promise<AsyncOutcome> {
    const body = this.json(arm.restoreRequest, { properties });
    return this.longRunning({ method: 'POST', path: `${this.itemPath(container, item)}/recoveryPoints/${enc(rp)}/restore`, body }, [], follow);
  }

  async provisionItemLevelRecovery(container: string, item: string, rp: string, properties: z.input<typeof arm.ilrRequest>['properties'], follow: FollowOperation): Promise<AsyncOutcome> {
    const body = this.json(arm.ilrRequest, { properties });
    return this.longRunning({ method: 'POST', path: `${this.itemPath(container, item)}/recoveryPoints/${enc(rp)}/provisionInstantItemRecovery`, body }, [], follow);
  }

  async revokeItemLevelRecovery(container: string, item: string, rp: string, follow: FollowOperation): Promise<AsyncOutcome> {
    return this.longRunning({ method: 'POST', path: `${this.itemPath(container, item)}/recoveryPoints/${enc(rp)}/revokeInstantItemRecovery` }, [200, 204], follow);
  }

  /** The operation status of an item operation, for a Location-only answer that needs the extended info. */
  async getItemOperationStatus(container: string, item: string, operationId: string): Promise<AzureOperationStatus> {
    return this.get(arm.operationStatus, `${this.itemPath(container, item)}/operationsStatus/${enc(operationId)}`);
  }

  async close(): Promise<void> {
    await this.http.close();
  }
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
