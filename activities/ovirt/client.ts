/**
 * oVirt/RHV REST client: XML over the shared HTTP layer, SSO bearer tokens (or Basic) cached per
 * endpoint, v4 diskattachments or v3 /disks paths chosen by the endpoint profile.
 */
import type { z } from 'zod';
import { VendorError } from '../../lib/errors';
import { httpClientFor, type HttpClient, type HttpRequest, type HttpResponse } from '../../lib/http/http-client';
import { parseVendorBody } from '../../lib/schema';
import { asArray, buildXml, parseXml } from '../../lib/xml';
import { resolveSecret, type OvirtProfile } from '../../lib/config/endpoints';
import { refuseDiskRemoval } from './disk-delete-guard';
import {
  attachFloatingRequestV3,
  attachFloatingRequestV4,
  attachRequestV3,
  attachRequestV4,
  attachmentBody,
  attachmentsBody,
  clusterBody,
  clustersBody,
  createDiskRequest,
  createSnapshotRequest,
  createVmRequest,
  emptyActionRequest,
  removeVmDetachOnlyRequestV3,
  detachRequestV3,
  diskBody,
  disksBody,
  faultBody,
  snapshotBody,
  snapshotsBody,
  storageDomainBody,
  storageDomainsBody,
  ssoErrorBody,
  ssoTokenBody,
  vmBody,
  vmConfigBody,
  vmsBody,
  backupBody,
  backupDisksBody,
  backupsBody,
  checkpointsBody,
  createBackupRequest,
  createTransferRequest,
  transferBody,
  transfersBody,
  type OvirtCheckpoint,
  type OvirtImageTransfer,
  type OvirtVmBackup,
  type OvirtAttachment,
  type OvirtDisk,
  type OvirtSnapshot,
  type OvirtStorageDomain,
} from './schemas';

const VENDOR = 'ovirt';
const XML_HEADERS = { accept: 'application/xml', 'content-type': 'application/xml' };

export interface OvirtVmSummary {
  id: string;
  name: string;
  description?: string;
  status?: string;
}

/** A cluster or storage domain is named in a request by id or by name. */
export type OvirtRef = { id: string } | { name: string };

export interface CreateDiskSpec {
  name: string;
  description: string;
  provisionedSize: number;
  format: 'raw' | 'cow';
  sparse: boolean;
  storageDomainId: string;
}

export interface AttachedDisk {
  attachmentId: string;
  diskId: string;
  logicalName?: string;
  active: boolean;
}

export class OvirtClient {
  private readonly http: HttpClient;
  private readonly ssoUrl: string;
  private token?: string;

  constructor(
    private readonly profile: OvirtProfile,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.http = httpClientFor(VENDOR, profile);
    // The SSO service lives beside the API: https://engine/ovirt-engine/sso/oauth/token.
    const api = new URL(profile.url);
    this.ssoUrl = `${api.origin}${api.pathname.replace(/\/api\/?(v\d+)?\/?$/, '')}/sso/oauth/token`;
  }

  get apiVersion(): 'v3' | 'v4' {
    return this.profile.apiVersion;
  }

  // --- transport -------------------------------------------------------------------------------

  private async authHeader(): Promise<string> {
    const { username, password, type } = this.profile.auth;
    const secret = resolveSecret(password, this.env);
    if (type === 'basic') return `Basic ${Buffer.from(`${username}:${secret}`).toString('base64')}`;
    if (!this.token) this.token = await this.fetchToken(username, secret);
    return `Bearer ${this.token}`;
  }

  private async fetchToken(username: string, password: string): Promise<string> {
    const req: HttpRequest = {
      method: 'POST',
      path: this.ssoUrl,
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', scope: 'ovirt-app-api', username, password }).toString(),
    };
    const res = await this.http.request(req);
    const body = safeJson(res.text);
    if (res.status !== 200) {
      const err = ssoErrorBody.safeParse(body);
      const message = err.success ? `${err.data.error}${err.data.error_description ? `: ${err.data.error_description}` : ''}` : res.text.slice(0, 300);
      throw this.http.statusError(req, res, `SSO login failed: ${message}`);
    }
    return parseVendorBody(ssoTokenBody, body, { vendor: VENDOR, operation: this.http.describe(req), status: res.status }).access_token;
  }

  /** Sends one call; a 401 with a bearer token gets one fresh token and one more try. */
  private async call(req: HttpRequest, expected: number[]): Promise<HttpResponse> {
    refuseDiskRemoval(req);
    const headers = async () => ({ ...XML_HEADERS, version: this.apiVersion === 'v3' ? '3' : '4', authorization: await this.authHeader() });
    const res = await this.http.requestRenewingOnce(req, headers, this.profile.auth.type === 'sso' ? () => (this.token = undefined) : undefined);
    if (!expected.includes(res.status)) throw this.faultError(req, res);
    return res;
  }

  private faultError(req: HttpRequest, res: HttpResponse): VendorError {
    let message = res.text.trim().slice(0, 500) || `HTTP ${res.status} with an empty body`;
    try {
      const fault = faultBody.safeParse(parseXml(res.text));
      if (fault.success) {
        const { reason, detail } = fault.data.fault;
        message = [reason, detail].filter(Boolean).join(': ');
      }
    } catch {
      // Not XML (a proxy's HTML error page, say): keep the raw text.
    }
    return this.http.statusError(req, res, message);
  }

  private parse<S extends z.ZodType>(schema: S, req: HttpRequest, res: HttpResponse): z.output<S> {
    const ctx = { vendor: VENDOR, operation: this.http.describe(req), status: res.status };
    let doc: unknown;
    try {
      doc = parseXml(res.text);
    } catch (err) {
      return parseVendorBody(schema, { unparseable: (err as Error).message }, ctx);
    }
    return parseVendorBody(schema, doc, ctx);
  }

  private body<S extends z.ZodType>(schema: S, doc: z.input<S>): string {
    return buildXml(schema.parse(doc) as Record<string, unknown>);
  }

  private async get<S extends z.ZodType>(schema: S, path: string, query?: HttpRequest['query'], headers?: Record<string, string>): Promise<z.output<S>> {
    const req: HttpRequest = { method: 'GET', path, query, headers };
    return this.parse(schema, req, await this.call(req, [200]));
  }

  // --- VMs and disks ---------------------------------------------------------------------------

  async getVm(vmId: string): Promise<OvirtVmSummary> {
    const { vm } = await this.get(vmBody, `/vms/${enc(vmId)}`);
    return { id: vm['@_id'], name: vm.name, description: vm.description, status: vm.status };
  }

  /** The VM's configuration as the engine keeps it (`GET /vms/{id}?all_content=true`: initialization/configuration), or undefined when it gives none. */
  async getVmConfig(vmId: string): Promise<{ type: string; data: string } | undefined> {
    const path = `/vms/${enc(vmId)}`;
    const { vm } = this.apiVersion === 'v3' ? await this.get(vmConfigBody, path, undefined, { 'all-content': 'true' }) : await this.get(vmConfigBody, path, { all_content: 'true' });
    const config = vm.initialization?.configuration;
    return config?.data ? { type: config.type ?? 'ovf', data: config.data } : undefined;
  }

  /** VMs matching an engine search expression, e.g. "name=web-*" (all when empty). */
  async listVms(search?: string, max?: number): Promise<OvirtVmSummary[]> {
    const body = await this.get(vmsBody, '/vms', { search: search || undefined, max });
    const vms = body.vms === '' ? [] : asArray(body.vms.vm);
    return vms.map((vm) => ({ id: vm['@_id'], name: vm.name, description: vm.description, status: vm.status }));
  }

  /** The VM of that exact name (names are unique on an engine), if any. */
  async findVmByName(name: string): Promise<OvirtVmSummary | undefined> {
    return (await this.listVms(`name=${name}`)).find((vm) => vm.name === name);
  }

  /** POST /vms from a saved OVF: the VM as the OVF describes it, with this name, in this cluster, without disks. */
  async createVmFromOvf(spec: { name: string; description: string; cluster: OvirtRef; ovf: string }): Promise<OvirtVmSummary> {
    const cluster = 'id' in spec.cluster ? { '@_id': spec.cluster.id } : { name: spec.cluster.name };
    const req: HttpRequest = {
      method: 'POST',
      path: '/vms',
      body: this.body(createVmRequest, { vm: { name: spec.name, description: spec.description, cluster, initialization: { configuration: { type: 'ovf', data: spec.ovf } } } }),
    };
    const { vm } = this.parse(vmBody, req, await this.call(req, [200, 201, 202]));
    return { id: vm['@_id'], name: vm.name, description: vm.description, status: vm.status };
  }

  async startVm(vmId: string): Promise<void> {
    await this.call({ method: 'POST', path: `/vms/${enc(vmId)}/start`, body: this.body(emptyActionRequest, { action: {} }) }, [200, 201, 202]);
  }

  /** Powers the VM off (not a guest shutdown). */
  async stopVm(vmId: string): Promise<void> {
    await this.call({ method: 'POST', path: `/vms/${enc(vmId)}/stop`, body: this.body(emptyActionRequest, { action: {} }) }, [200, 201, 202]);
  }

  /** Removes a VM that is down; its disks go with it (the engine's default, v3 and v4). */
  async deleteVm(vmId: string, options: { detachOnly?: boolean } = {}): Promise<void> {
    await this.call(
      {
        method: 'DELETE',
        path: `/vms/${enc(vmId)}`,
        query: options.detachOnly ? { detach_only: 'true' } : undefined,
        body: options.detachOnly && this.apiVersion === 'v3' ? this.body(removeVmDetachOnlyRequestV3, { action: { vm: { disks: { detach_only: 'true' } } } }) : undefined,
      },
      [200, 202, 204],
    );
  }

  async getDisk(diskId: string): Promise<OvirtDisk> {
    return (await this.get(diskBody, `/disks/${enc(diskId)}`)).disk;
  }

  /** Disks matching an engine search expression, e.g. "description=*run-1*" (all when empty). */
  async listDisks(search?: string, max?: number): Promise<OvirtDisk[]> {
    const body = await this.get(disksBody, '/disks', { search: search || undefined, max });
    return body.disks === '' ? [] : asArray(body.disks.disk);
  }

  /** POST /disks: a floating disk, `locked` until the engine has made its volume. */
  async createDisk(spec: CreateDiskSpec): Promise<OvirtDisk> {
    const req: HttpRequest = {
      method: 'POST',
      path: '/disks',
      body: this.body(createDiskRequest, {
        disk: {
          name: spec.name,
          description: spec.description,
          provisioned_size: String(spec.provisionedSize),
          format: spec.format,
          sparse: spec.sparse ? 'true' : 'false',
          storage_domains: { storage_domain: [{ '@_id': spec.storageDomainId }] },
        },
      }),
    };
    return this.parse(diskBody, req, await this.call(req, [200, 201, 202])).disk;
  }

  /** DELETE /disks/{id}: the disk and its data (a floating disk; the engine refuses one still attached). */
  async deleteDisk(diskId: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `/disks/${enc(diskId)}` }, [200, 202, 204]);
  }

  // --- storage domains and clusters ------------------------------------------------------------

  async getStorageDomain(id: string): Promise<OvirtStorageDomain> {
    return (await this.get(storageDomainBody, `/storagedomains/${enc(id)}`)).storage_domain;
  }

  async findStorageDomainByName(name: string): Promise<OvirtStorageDomain | undefined> {
    const body = await this.get(storageDomainsBody, '/storagedomains', { search: `name=${name}` });
    return (body.storage_domains === '' ? [] : asArray(body.storage_domains.storage_domain)).find((sd) => sd.name === name);
  }

  async getCluster(id: string): Promise<{ id: string; name: string }> {
    const { cluster } = await this.get(clusterBody, `/clusters/${enc(id)}`);
    return { id: cluster['@_id'], name: cluster.name };
  }

  async findClusterByName(name: string): Promise<{ id: string; name: string } | undefined> {
    const body = await this.get(clustersBody, '/clusters', { search: `name=${name}` });
    const found = (body.clusters === '' ? [] : asArray(body.clusters.cluster)).find((c) => c.name === name);
    return found && { id: found['@_id'], name: found.name };
  }

  /** The VM's disks with the fields that decide whether they can be snapshotted. */
  async listVmDisks(vmId: string): Promise<OvirtDisk[]> {
    if (this.apiVersion === 'v3') {
      const body = await this.get(disksBody, `/vms/${enc(vmId)}/disks`);
      return body.disks === '' ? [] : asArray(body.disks.disk);
    }
    const attachments = await this.listAttachments(vmId);
    const disks: OvirtDisk[] = [];
    for (const a of attachments) disks.push(await this.getDisk(a.diskId));
    return disks;
  }

  // --- snapshots -------------------------------------------------------------------------------

  async listSnapshots(vmId: string): Promise<OvirtSnapshot[]> {
    const body = await this.get(snapshotsBody, `/vms/${enc(vmId)}/snapshots`);
    return body.snapshots === '' ? [] : asArray(body.snapshots.snapshot);
  }

  async createSnapshot(vmId: string, description: string, diskIds: string[], correlationId: string): Promise<OvirtSnapshot> {
    const disks = diskIds.map((id) => ({ '@_id': id }));
    const doc =
      this.apiVersion === 'v3'
        ? { snapshot: { description, persist_memorystate: 'false' as const, disks: { disk: disks } } }
        : { snapshot: { description, persist_memorystate: 'false' as const, disk_attachments: { disk_attachment: disks.map((disk) => ({ disk })) } } };
    const req: HttpRequest = {
      method: 'POST',
      path: `/vms/${enc(vmId)}/snapshots`,
      query: { correlation_id: correlationId },
      body: this.body(createSnapshotRequest, doc),
    };
    return this.parse(snapshotBody, req, await this.call(req, [200, 201, 202])).snapshot;
  }

  async getSnapshot(vmId: string, snapshotId: string, options: { allContent?: boolean } = {}): Promise<OvirtSnapshot> {
    const path = `/vms/${enc(vmId)}/snapshots/${enc(snapshotId)}`;
    if (!options.allContent) return (await this.get(snapshotBody, path)).snapshot;
    // v3 asked for the OVF with a header; v4 with a query parameter.
    return this.apiVersion === 'v3' ? (await this.get(snapshotBody, path, undefined, { 'all-content': 'true' })).snapshot : (await this.get(snapshotBody, path, { all_content: 'true' })).snapshot;
  }

  async listSnapshotDisks(vmId: string, snapshotId: string): Promise<OvirtDisk[]> {
    const body = await this.get(disksBody, `/vms/${enc(vmId)}/snapshots/${enc(snapshotId)}/disks`);
    return body.disks === '' ? [] : asArray(body.disks.disk);
  }

  async deleteSnapshot(vmId: string, snapshotId: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `/vms/${enc(vmId)}/snapshots/${enc(snapshotId)}` }, [200, 202, 204]);
  }

  // --- attachments -----------------------------------------------------------------------------

  async listAttachments(vmId: string): Promise<AttachedDisk[]> {
    if (this.apiVersion === 'v3') {
      const body = await this.get(disksBody, `/vms/${enc(vmId)}/disks`);
      const disks = body.disks === '' ? [] : asArray(body.disks.disk);
      return disks.map(toAttachedV3Disk);
    }
    const body = await this.get(attachmentsBody, `/vms/${enc(vmId)}/diskattachments`);
    const items = body.disk_attachments === '' ? [] : asArray(body.disk_attachments.disk_attachment);
    return items.map(toAttachedDisk);
  }

  /**
   * The disk's attachment to the VM, or undefined when it is not attached. The engine names an
   * attachment by its disk's id, so this is one small read however many disks the VM holds (a
   * backup proxy may hold one per backup in flight).
   */
  async getAttachment(vmId: string, diskId: string): Promise<AttachedDisk | undefined> {
    try {
      if (this.apiVersion === 'v3') {
        return toAttachedV3Disk((await this.get(diskBody, `/vms/${enc(vmId)}/disks/${enc(diskId)}`)).disk);
      }
      return toAttachedDisk((await this.get(attachmentBody, `/vms/${enc(vmId)}/diskattachments/${enc(diskId)}`)).disk_attachment);
    } catch (err) {
      if (err instanceof VendorError && err.isNotFound) return undefined;
      throw err;
    }
  }

  async attachSnapshotDisk(proxyVmId: string, diskId: string, snapshotId: string): Promise<AttachedDisk> {
    if (this.apiVersion === 'v3') {
      const req: HttpRequest = {
        method: 'POST',
        path: `/vms/${enc(proxyVmId)}/disks`,
        body: this.body(attachRequestV3, { disk: { '@_id': diskId, snapshot: { '@_id': snapshotId }, active: 'true' } }),
      };
      const { disk } = this.parse(diskBody, req, await this.call(req, [200, 201, 202]));
      return { attachmentId: disk['@_id'], diskId: disk['@_id'], active: true };
    }
    const req: HttpRequest = {
      method: 'POST',
      path: `/vms/${enc(proxyVmId)}/diskattachments`,
      body: this.body(attachRequestV4, {
        disk_attachment: { disk: { '@_id': diskId, snapshot: { '@_id': snapshotId } }, active: 'true', bootable: 'false', interface: 'virtio_scsi' },
      }),
    };
    return toAttachedDisk(this.parse(attachmentBody, req, await this.call(req, [200, 201, 202])).disk_attachment);
  }

  /** Attaches a disk itself (not a snapshot's copy) to a VM, active. */
  async attachDisk(vmId: string, diskId: string, options: { bootable: boolean }): Promise<AttachedDisk> {
    const bootable = options.bootable ? 'true' : 'false';
    if (this.apiVersion === 'v3') {
      const req: HttpRequest = {
        method: 'POST',
        path: `/vms/${enc(vmId)}/disks`,
        body: this.body(attachFloatingRequestV3, { disk: { '@_id': diskId, active: 'true', bootable, interface: 'virtio_scsi' } }),
      };
      return toAttachedV3Disk(this.parse(diskBody, req, await this.call(req, [200, 201, 202])).disk);
    }
    const req: HttpRequest = {
      method: 'POST',
      path: `/vms/${enc(vmId)}/diskattachments`,
      body: this.body(attachFloatingRequestV4, { disk_attachment: { disk: { '@_id': diskId }, active: 'true', bootable, interface: 'virtio_scsi' } }),
    };
    return toAttachedDisk(this.parse(attachmentBody, req, await this.call(req, [200, 201, 202])).disk_attachment);
  }

  async detachDisk(proxyVmId: string, attachmentId: string): Promise<void> {
    if (this.apiVersion === 'v3') {
      await this.call({ method: 'DELETE', path: `/vms/${enc(proxyVmId)}/disks/${enc(attachmentId)}`, body: this.body(detachRequestV3, { action: { detach: 'true' } }) }, [200, 202, 204]);
      return;
    }
    await this.call({ method: 'DELETE', path: `/vms/${enc(proxyVmId)}/diskattachments/${enc(attachmentId)}`, query: { detach_only: 'true' } }, [200, 202, 204]);
  }

  // --- the backup API (4.4+) -------------------------------------------------------------------

  async listCheckpoints(vmId: string): Promise<OvirtCheckpoint[]> {
    const body = await this.get(checkpointsBody, `/vms/${enc(vmId)}/checkpoints`);
    return body.checkpoints === '' ? [] : asArray(body.checkpoints.checkpoint);
  }

  /** DELETE of a checkpoint: the engine removes only the root (oldest) one. */
  async removeCheckpoint(vmId: string, checkpointId: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `/vms/${enc(vmId)}/checkpoints/${enc(checkpointId)}` }, [200, 202, 204]);
  }

  async listVmBackups(vmId: string): Promise<OvirtVmBackup[]> {
    const body = await this.get(backupsBody, `/vms/${enc(vmId)}/backups`);
    return body.backups === '' ? [] : asArray(body.backups.backup);
  }

  async getVmBackup(vmId: string, backupId: string): Promise<OvirtVmBackup> {
    return (await this.get(backupBody, `/vms/${enc(vmId)}/backups/${enc(backupId)}`)).backup;
  }

  /** POST /vms/{id}/backups: a full backup of the disks, or an incremental one since `fromCheckpointId`. */
  async createVmBackup(vmId: string, spec: { description: string; diskIds: string[]; fromCheckpointId?: string }): Promise<OvirtVmBackup> {
    const req: HttpRequest = {
      method: 'POST',
      path: `/vms/${enc(vmId)}/backups`,
      body: this.body(createBackupRequest, {
        backup: {
          description: spec.description,
          ...(spec.fromCheckpointId !== undefined ? { from_checkpoint_id: spec.fromCheckpointId } : {}),
          disks: { disk: spec.diskIds.map((id) => ({ '@_id': id })) },
        },
      }),
    };
    return this.parse(backupBody, req, await this.call(req, [200, 201, 202])).backup;
  }

  /** The backup's disks with the mode the engine backs each up in. */
  async listVmBackupDisks(vmId: string, backupId: string): Promise<Array<OvirtDisk & { backup_mode?: 'full' | 'incremental' }>> {
    const body = await this.get(backupDisksBody, `/vms/${enc(vmId)}/backups/${enc(backupId)}/disks`);
    return body.disks === '' ? [] : asArray(body.disks.disk);
  }

  async finalizeVmBackup(vmId: string, backupId: string): Promise<void> {
    await this.call({ method: 'POST', path: `/vms/${enc(vmId)}/backups/${enc(backupId)}/finalize`, body: this.body(emptyActionRequest, { action: {} }) }, [200, 201, 202]);
  }

  async listImageTransfers(): Promise<OvirtImageTransfer[]> {
    const body = await this.get(transfersBody, '/imagetransfers');
    return body.image_transfers === '' ? [] : asArray(body.image_transfers.image_transfer);
  }

  async getImageTransfer(transferId: string): Promise<OvirtImageTransfer> {
    return (await this.get(transferBody, `/imagetransfers/${enc(transferId)}`)).image_transfer;
  }

  /** POST /imagetransfers: a raw download of the disk as the backup holds it. */
  async createImageTransfer(diskId: string, backupId: string, inactivityTimeoutSeconds = 300): Promise<OvirtImageTransfer> {
    const req: HttpRequest = {
      method: 'POST',
      path: '/imagetransfers',
      body: this.body(createTransferRequest, {
        image_transfer: { disk: { '@_id': diskId }, backup: { '@_id': backupId }, direction: 'download', format: 'raw', inactivity_timeout: String(inactivityTimeoutSeconds) },
      }),
    };
    return this.parse(transferBody, req, await this.call(req, [200, 201, 202])).image_transfer;
  }

  async finalizeImageTransfer(transferId: string): Promise<void> {
    await this.call({ method: 'POST', path: `/imagetransfers/${enc(transferId)}/finalize`, body: this.body(emptyActionRequest, { action: {} }) }, [200, 201, 202]);
  }

  async cancelImageTransfer(transferId: string): Promise<void> {
    await this.call({ method: 'POST', path: `/imagetransfers/${enc(transferId)}/cancel`, body: this.body(emptyActionRequest, { action: {} }) }, [200, 201, 202]);
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

/** v3 has no attachment object: a VM's disk is its own attachment, with `active` and `logical_name` on it. */
function toAttachedV3Disk(d: OvirtDisk): AttachedDisk {
  const fields = d as Record<string, unknown>;
  return {
    attachmentId: d['@_id'],
    diskId: d['@_id'],
    active: String(fields.active) !== 'false',
    logicalName: typeof fields.logical_name === 'string' ? fields.logical_name : undefined,
  };
}

function toAttachedDisk(a: OvirtAttachment): AttachedDisk {
  return { attachmentId: a['@_id'], diskId: a.disk['@_id'], active: a.active !== false, logicalName: a.logical_name || undefined };
}

function enc(id: string): string {
  return encodeURIComponent(id);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
