/**
 * OnApp client for a virtual server's backups: `.json` or `.xml` resources (the profile chooses),
 * HTTP Basic, on the shared HTTP layer. Both formats parse into the same typed `OnappBackup`.
 */
import type { z } from 'zod';
import type { VendorError } from '../../lib/errors';
import { httpClientFor, type HttpClient, type HttpRequest, type HttpResponse } from '../../lib/http/http-client';
import { parseVendorBody } from '../../lib/schema';
import { buildXml, parseXml } from '../../lib/xml';
import { resolveSecret, type OnappProfile } from '../../lib/config/endpoints';
import {
  jsonBackupBody,
  jsonBackupsBody,
  jsonDisksBody,
  jsonErrorsBody,
  jsonVirtualServerBody,
  toOnappBackup,
  xmlBackupBody,
  xmlBackupsBody,
  xmlDisksBody,
  xmlErrorsBody,
  xmlVirtualServerBody,
  type OnappBackup,
  type OnappDisk,
  type OnappVirtualServer,
} from './schemas';

const VENDOR = 'onapp';

export type OnappFormat = 'json' | 'xml';
/** all: every backup of the server; normal: per-disk images; incremental: the server's file backups. */
export type OnappBackupKind = 'all' | 'normal' | 'incremental';

export class OnappClient {
  private readonly http: HttpClient;
  readonly format: OnappFormat;

  constructor(
    private readonly profile: OnappProfile,
    private readonly env: NodeJS.ProcessEnv = process.env,
    format?: OnappFormat,
  ) {
    this.format = format ?? profile.format;
    this.http = httpClientFor(VENDOR, profile);
  }

  /** The same endpoint spoken in the other format (tests compare the two). */
  withFormat(format: OnappFormat): OnappClient {
    return format === this.format ? this : new OnappClient(this.profile, this.env, format);
  }

  // --- transport -------------------------------------------------------------------------------

  private authHeader(): string {
    const secret = resolveSecret(this.profile.auth.password, this.env);
    return `Basic ${Buffer.from(`${this.profile.auth.username}:${secret}`).toString('base64')}`;
  }

  private get mediaType(): string {
    return this.format === 'xml' ? 'application/xml' : 'application/json';
  }

  private async call(req: HttpRequest, expected: number[]): Promise<HttpResponse> {
    const res = await this.http.request({
      ...req,
      path: `${req.path}.${this.format}`,
      headers: { accept: this.mediaType, ...(req.body !== undefined ? { 'content-type': this.mediaType } : {}), authorization: this.authHeader(), ...req.headers },
    });
    if (!expected.includes(res.status)) throw this.errorFor(req, res);
    return res;
  }

  /** OnApp's `errors` body (JSON object or list, or XML `<errors><error>`), else the raw text. */
  private errorFor(req: HttpRequest, res: HttpResponse): VendorError {
    let message = res.text.trim().slice(0, 500) || `HTTP ${res.status} with an empty body`;
    try {
      if (this.format === 'json' || (res.headers['content-type'] ?? '').includes('json')) {
        const parsed = jsonErrorsBody.safeParse(JSON.parse(res.text));
        if (parsed.success) {
          const errors = parsed.data.errors;
          message = Array.isArray(errors)
            ? errors.join('; ')
            : Object.entries(errors)
                .map(([field, msgs]) => (field === 'base' ? [msgs].flat().join('; ') : `${field} ${[msgs].flat().join(', ')}`))
                .join('; ');
        }
      } else {
        const parsed = xmlErrorsBody.safeParse(parseXml(res.text));
        if (parsed.success) message = [parsed.data.errors.error].flat().join('; ');
      }
    } catch {
      // Not the vendor's body (a proxy's HTML page): keep the raw text.
    }
    return this.http.statusError({ method: req.method, path: `${req.path}.${this.format}` }, res, message);
  }

  private parse<J extends z.ZodType, X extends z.ZodType>(schemas: { json: J; xml: X }, req: HttpRequest, res: HttpResponse): z.output<J> | z.output<X> {
    const ctx = { vendor: VENDOR, operation: this.http.describe({ method: req.method, path: `${req.path}.${this.format}` }), status: res.status };
    let doc: unknown;
    try {
      doc = this.format === 'json' ? JSON.parse(res.text) : parseXml(res.text);
    } catch (err) {
      doc = { unparseable: (err as Error).message };
    }
    return this.format === 'json' ? parseVendorBody(schemas.json, doc, ctx) : parseVendorBody(schemas.xml, doc, ctx);
  }

  private body(root: string, fields: Record<string, string | undefined>): string {
    const clean = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    return this.format === 'json' ? JSON.stringify({ [root]: clean }) : buildXml({ [root]: clean });
  }

  // --- virtual servers -------------------------------------------------------------------------

  async getVirtualServer(vmId: number | string): Promise<OnappVirtualServer> {
    const req: HttpRequest = { method: 'GET', path: `/virtual_machines/${enc(vmId)}` };
    const { virtual_machine: vm } = this.parse({ json: jsonVirtualServerBody, xml: xmlVirtualServerBody }, req, await this.call(req, [200]));
    return { id: vm.id, identifier: vm.identifier, label: vm.label, hostname: vm.hostname ?? null, locked: vm.locked ?? null, booted: vm.booted ?? null };
  }

  async listDisks(vmId: number | string): Promise<OnappDisk[]> {
    const req: HttpRequest = { method: 'GET', path: `/virtual_machines/${enc(vmId)}/disks` };
    const body = this.parse({ json: jsonDisksBody, xml: xmlDisksBody }, req, await this.call(req, [200]));
    const disks = Array.isArray(body) ? body.map((d) => d.disk) : body.disks;
    return disks.map((d) => ({ id: d.id, label: d.label ?? null, diskSizeGb: d.disk_size, primary: d.primary, isSwap: d.is_swap ?? null }));
  }

  // --- backups ---------------------------------------------------------------------------------

  private async listAt(path: string): Promise<OnappBackup[]> {
    const req: HttpRequest = { method: 'GET', path };
    const body = this.parse({ json: jsonBackupsBody, xml: xmlBackupsBody }, req, await this.call(req, [200]));
    const raws = Array.isArray(body) ? body.map((b) => b.backup) : body.backups;
    return raws.map(toOnappBackup);
  }

  /** A virtual server's backups: all of them, its normal (image) ones, or its incremental (file) ones. */
  async listBackups(vmId: number | string, kind: OnappBackupKind = 'all'): Promise<OnappBackup[]> {
    const base = `/virtual_machines/${enc(vmId)}/backups`;
    return this.listAt(kind === 'all' ? base : `${base}/${kind === 'normal' ? 'images' : 'files'}`);
  }

  /** One disk's backups, under the server (`/virtual_machines/:vm/disks/:disk/backups`) or the disk settings. */
  async listDiskBackups(diskId: number | string, vmId?: number | string): Promise<OnappBackup[]> {
    return this.listAt(vmId !== undefined ? `/virtual_machines/${enc(vmId)}/disks/${enc(diskId)}/backups` : `/settings/disks/${enc(diskId)}/backups`);
  }

  async getBackup(backupId: number | string): Promise<OnappBackup> {
    const req: HttpRequest = { method: 'GET', path: `/backups/${enc(backupId)}` };
    return toOnappBackup(this.parse({ json: jsonBackupBody, xml: xmlBackupBody }, req, await this.call(req, [200])).backup);
  }

  /** A normal backup: one disk's image. */
  async takeDiskBackup(diskId: number | string, options: { note?: string } = {}): Promise<OnappBackup> {
    const req: HttpRequest = { method: 'POST', path: `/settings/disks/${enc(diskId)}/backups`, body: this.body('backup', { note: options.note }) };
    return toOnappBackup(this.parse({ json: jsonBackupBody, xml: xmlBackupBody }, req, await this.call(req, [200, 201, 202])).backup);
  }

  /** An incremental backup of the whole virtual server. */
  async takeIncrementalBackup(vmId: number | string, options: { note?: string } = {}): Promise<OnappBackup> {
    const req: HttpRequest = { method: 'POST', path: `/virtual_machines/${enc(vmId)}/backups`, body: this.body('backup', { note: options.note }) };
    return toOnappBackup(this.parse({ json: jsonBackupBody, xml: xmlBackupBody }, req, await this.call(req, [200, 201, 202])).backup);
  }

  async deleteBackup(backupId: number | string): Promise<void> {
    await this.call({ method: 'DELETE', path: `/backups/${enc(backupId)}` }, [200, 202, 204]);
  }

  /** Restores the backup onto its virtual server (the server must be able to be stopped). */
  async restoreBackup(backupId: number | string): Promise<void> {
    await this.call({ method: 'POST', path: `/backups/${enc(backupId)}/restore`, body: this.format === 'json' ? '{}' : undefined }, [200, 201, 202, 204]);
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

function enc(id: number | string): string {
  return encodeURIComponent(String(id));
}
