/**
 * The oVirt API routes (below the engine's API prefix). The engine profile decides the API version:
 * a 4.5 engine serves v4 only (also under /v4 or with `Version: 4`) and refuses any other requested
 * version with a bare 400, as its VersionFilter does; a 3.6 engine serves v3 only, on the plain
 * path, and ignores the `Version` header it does not know.
 */
import { asArray, parseXml } from '../../lib/xml';
import { Router } from '../framework/router';
import type { SimRequest, SimResponse } from '../framework/types';
import type { OvirtAuth } from './auth';
import { DISK_INTERFACES, OvirtFault, notFound, type DiskInterface, type OvirtState } from './state';
import { parseOvf } from './ovf';
import * as views from './xml-views';

interface Ctx extends views.ViewContext {
  json: boolean;
  correlationId?: string;
}

type Handler = (req: SimRequest, ctx: Ctx) => SimResponse | Promise<SimResponse>;
type Node = Record<string, unknown>;

// ---- request bodies -----------------------------------------------------------------------------

const syntax = (detail: string) => new OvirtFault(400, 'Bad Request', `Request syntactically incorrect: ${detail}`);
const incomplete = (type: string, fields: string[]) => new OvirtFault(400, 'Incomplete parameters', `${type} [${fields.join(', ')}] required for add`);

/** The body's root element (XML, or JSON without a root), checked against the expected names. */
function readBody(req: SimRequest, roots: string[]): Node {
  if (!req.body.trim()) throw syntax(`expected <${roots[0]}>, the body is empty`);
  if ((req.headers['content-type'] ?? '').includes('json')) {
    let value: unknown;
    try {
      value = JSON.parse(req.body);
    } catch (err) {
      throw syntax((err as Error).message);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw syntax('expected a JSON object');
    return value as Node;
  }
  let doc: Node;
  try {
    doc = parseXml(req.body);
  } catch (err) {
    throw syntax((err as Error).message);
  }
  const root = Object.keys(doc).find((k) => !k.startsWith('?') && !k.startsWith('#'));
  if (!root || !roots.includes(root)) throw syntax(`expected <${roots[0]}> but found <${root ?? ''}>`);
  const node = doc[root];
  return node !== null && typeof node === 'object' ? (node as Node) : {};
}

function child(node: Node | undefined, key: string): Node | undefined {
  const v = node?.[key];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : undefined;
}

function text(node: Node | undefined, key: string): string | undefined {
  const v = node?.[key];
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v !== null && typeof v === 'object' && '#text' in v) return String((v as Node)['#text']);
  return undefined;
}

function idOf(node: Node | undefined): string | undefined {
  const id = node?.['@_id'] ?? node?.id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

function bool(node: Node, key: string): boolean | undefined {
  const v = text(node, key)?.trim().toLowerCase();
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw syntax(`'${v}' is not a valid boolean for <${key}>`);
}

/** Items of a list element: undefined when the list is absent, [] when it is empty. */
function items(node: Node, list: string, item: string): Node[] | undefined {
  if (!(list in node)) return undefined;
  const container = node[list];
  if (Array.isArray(container)) return container as Node[]; // JSON clients may send the bare array
  if (container === null || typeof container !== 'object') return [];
  return asArray((container as Node)[item] as Node | Node[] | undefined).map((x) => (typeof x === 'object' && x !== null ? x : {}));
}

/** What the engine's VersionFilter sends for a version it does not serve: the servlet container's bare 400 page. */
function unsupportedVersion(): SimResponse {
  return { status: 400, headers: { 'content-type': 'text/html;charset=UTF-8' }, body: '<html><head><title>Error</title></head><body>Bad Request</body></html>' };
}

/** A reference to another object in a body: `<x id="…"/>` or `<x><name>…</name></x>`. */
function refOf(node: Node | undefined): { id?: string; name?: string } | undefined {
  const id = idOf(node);
  const name = text(node, 'name');
  return id !== undefined || name !== undefined ? { id, name } : undefined;
}

function size(node: Node, key: string): number | undefined {
  const v = text(node, key);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim())) throw syntax(`'${v}' is not a valid value for <${key}>`);
  return Number(v);
}

function diskInterface(value: string): DiskInterface {
  if ((DISK_INTERFACES as readonly string[]).includes(value)) return value as DiskInterface;
  throw new OvirtFault(400, 'Invalid value', `'${value}' is not a valid value for 'interface'. Valid values: ${DISK_INTERFACES.join(', ')}.`);
}

// ---- search -------------------------------------------------------------------------------------

/** A subset of the engine's search language: `field=value [and field!=value ...]`, `*` wildcards. */
function searchFilter(query: string | null, fields: string[]): (values: Record<string, string | undefined>) => boolean {
  const q = (query ?? '')
    .replace(/\s+sortby\s+.*$/i, '')
    .replace(/\s+page\s+\d+\s*$/i, '')
    .trim();
  if (!q) return () => true;
  const clauses = q.split(/\s+and\s+/i).map((clause) => {
    const m = /^\s*([\w.]+)\s*(!=|=)\s*(.*?)\s*$/.exec(clause);
    if (!m) return { field: 'name', negate: false, pattern: wildcard(clause.trim()) };
    const field = m[1]!.toLowerCase();
    if (!fields.includes(field)) throw new OvirtFault(400, 'Bad Request', `Search query syntax error: unknown field '${m[1]}'.`);
    return { field, negate: m[2] === '!=', pattern: wildcard(m[3]!.replace(/^"(.*)"$/, '$1')) };
  });
  return (values) => clauses.every((c) => c.pattern.test(values[c.field] ?? '') !== c.negate);
}

function wildcard(value: string): RegExp {
  return new RegExp(
    `^${value
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
}

function limit<T>(list: T[], req: SimRequest): T[] {
  const max = Number.parseInt(req.query.get('max') ?? '', 10);
  return Number.isInteger(max) && max >= 0 ? list.slice(0, max) : list;
}

// ---- the router ---------------------------------------------------------------------------------

export function createApiRouter(state: OvirtState, auth: OvirtAuth): Router {
  const router = new Router();

  const engine = state.options.engine;
  const wrap =
    (prefix: string, handler: Handler) =>
    async (req: SimRequest): Promise<SimResponse> => {
      const requested = engine.versionSelection ? (prefix ? prefix.slice(2) : req.headers.version?.trim() || undefined) : undefined;
      const version = requested === undefined ? engine.apiVersions[0] : Number(requested);
      if (!(engine.apiVersions as number[]).includes(version)) return unsupportedVersion();
      const ctx: Ctx = {
        state,
        v3: version === 3,
        allContent: req.query.get('all_content') === 'true' || req.headers['all-content']?.trim().toLowerCase() === 'true',
        json: views.wantsJson(req),
        correlationId: req.query.get('correlation_id') ?? req.headers['correlation-id'] ?? undefined,
      };
      let response: SimResponse;
      try {
        response = await handler(req, ctx);
      } catch (err) {
        if (!(err instanceof OvirtFault)) throw err;
        response = views.faultResponse(err.status, err.reason, err.detail, ctx.json);
      }
      const cookie = auth.sessionCookie(req);
      if (cookie) response.headers = { ...response.headers, 'set-cookie': cookie };
      return response;
    };

  // An engine that lets a request pick the version also answers under /v<N>; an older one has no such paths.
  const prefixes = engine.versionSelection ? ['', '/v3', '/v4'] : [''];
  const on = (method: string, pattern: string, handler: Handler) => {
    for (const prefix of prefixes) router.add(method, prefix + (pattern === '/' ? '' : pattern) || '/', wrap(prefix, handler));
  };
  const ok = (ctx: Ctx, doc: Node) => views.render(200, doc, ctx.json);
  const created = (req: SimRequest, ctx: Ctx, doc: Node) => {
    const response = views.render(201, doc, ctx.json);
    const href = (Object.values(doc)[0] as Node)['@_href'];
    if (typeof href === 'string') response.headers = { ...response.headers, location: req.origin + href };
    return response;
  };
  const removed = (): SimResponse => ({ status: 200 });
  const v4Only = (ctx: Ctx, req: SimRequest) => {
    if (ctx.v3) throw notFound(`${req.path} does not exist in version 3 of the API`);
  };
  const v3Only = (ctx: Ctx, req: SimRequest) => {
    if (!ctx.v3) throw notFound(`${req.path} does not exist in version 4 of the API; use diskattachments`);
  };

  on('GET', '/', (_req, ctx) => ok(ctx, views.apiView(ctx)));

  // ---- VMs and disks
  on('GET', '/vms', (req, ctx) => {
    const match = searchFilter(req.query.get('search'), ['name', 'id', 'status', 'description']);
    const vms = state.listVms().filter((vm) => match({ name: vm.name, id: vm.id, status: vm.status, description: vm.description }));
    return ok(ctx, views.vmsView(limit(vms, req), ctx));
  });
  on('GET', '/vms/:id', (req, ctx) => ok(ctx, views.vmView(state.getVm(req.params.id!), ctx)));

  // A VM from a saved configuration (the restore procedure): the OVF gives what the body does not.
  on('POST', '/vms', (req, ctx) => {
    const body = readBody(req, ['vm']);
    const configuration = child(child(body, 'initialization'), 'configuration');
    const ovfText = text(configuration, 'data');
    if (configuration && text(configuration, 'type')?.toLowerCase() !== 'ovf')
      throw new OvirtFault(400, 'Invalid value', `'${text(configuration, 'type') ?? ''}' is not a valid configuration type. Valid values: ovf.`);
    const ovf = ovfText !== undefined ? parseOvf(ovfText) : undefined;
    const name = text(body, 'name') ?? ovf?.name;
    const cluster = refOf(child(body, 'cluster'));
    const missing = [...(name ? [] : ['name']), ...(cluster ? [] : ['cluster.id|name'])];
    if (missing.length > 0) throw incomplete('Vm', missing);
    const memory = size(body, 'memory') ?? ovf?.memory;
    const vm = state.createVm({
      name: name!,
      description: text(body, 'description') ?? ovf?.description,
      cluster: cluster!,
      memory,
      sockets: ovf?.sockets,
      cores: ovf?.cores,
      osType: text(child(body, 'os'), 'type') ?? ovf?.osType,
    });
    return created(req, ctx, views.vmView(vm, ctx));
  });
  on('POST', '/vms/:id/start', (req, ctx) => ok(ctx, views.actionView(state.startVm(req.params.id!), ctx)));
  on('POST', '/vms/:id/stop', (req, ctx) => ok(ctx, views.actionView(state.stopVm(req.params.id!), ctx)));
  // v4 removes the VM's disks unless ?detach_only=true; v3 said so in an <action> body.
  on('DELETE', '/vms/:id', async (req) => {
    const v3Body = req.body.trim() ? readBody(req, ['action']) : undefined;
    const detachOnly = req.query.get('detach_only') === 'true' || (v3Body !== undefined && bool(child(child(v3Body, 'vm'), 'disks') ?? {}, 'detach_only') === true);
    const removedDisks = await state.deleteVm(req.params.id!, detachOnly);
    return { ...removed(), note: removedDisks.length > 0 ? `removed with disks ${removedDisks.join(', ')}` : 'removed' };
  });

  on('GET', '/disks', (req, ctx) => {
    const match = searchFilter(req.query.get('search'), ['name', 'alias', 'id', 'description', 'status']);
    const disks = [...state.disks.values()].filter((d) => match({ name: d.name, alias: d.name, id: d.id, description: d.description, status: state.diskStatus(d) }));
    return ok(ctx, views.disksView(limit(disks, req), ctx));
  });
  on('GET', '/disks/:id', (req, ctx) => ok(ctx, views.diskView(state.getDisk(req.params.id!), ctx)));
  // A floating disk: on a storage domain, attached to nothing.
  on('POST', '/disks', async (req, ctx) => {
    const body = readBody(req, ['disk']);
    const domains = items(body, 'storage_domains', 'storage_domain') ?? [];
    const provisionedSize = size(body, 'provisioned_size') ?? size(body, 'size');
    const format = text(body, 'format');
    const missing = [...(provisionedSize !== undefined ? [] : ['provisionedSize|size']), ...(format ? [] : ['format']), ...(refOf(domains[0]) ? [] : ['storageDomains.id|name'])];
    if (missing.length > 0) throw incomplete('Disk', missing);
    if (format !== 'raw' && format !== 'cow') throw new OvirtFault(400, 'Invalid value', `'${format}' is not a valid value for 'format'. Valid values: cow, raw.`);
    const disk = await state.createDisk({
      name: text(body, 'name') ?? text(body, 'alias'),
      description: text(body, 'description'),
      provisionedSize: provisionedSize!,
      format,
      sparse: bool(body, 'sparse') ?? format === 'cow',
      storageDomain: refOf(domains[0])!,
    });
    return created(req, ctx, views.diskView(disk, ctx));
  });
  on('DELETE', '/disks/:id', async (req) => {
    await state.deleteDisk(req.params.id!);
    return { ...removed(), note: 'disk removed' };
  });

  // ---- storage domains and clusters
  on('GET', '/storagedomains', (req, ctx) => {
    const match = searchFilter(req.query.get('search'), ['name', 'id', 'type']);
    const domains = [...state.storageDomains.values()].filter((sd) => match({ name: sd.name, id: sd.id, type: sd.type }));
    return ok(ctx, views.storageDomainsView(limit(domains, req), ctx));
  });
  on('GET', '/storagedomains/:id', (req, ctx) => ok(ctx, views.storageDomainView(state.getStorageDomain(req.params.id!), ctx)));
  on('GET', '/clusters', (req, ctx) => {
    const match = searchFilter(req.query.get('search'), ['name', 'id', 'description']);
    const clusters = [...state.clusters.values()].filter((c) => match({ name: c.name, id: c.id, description: c.description }));
    return ok(ctx, views.clustersView(limit(clusters, req), ctx));
  });
  on('GET', '/clusters/:id', (req, ctx) => ok(ctx, views.clusterView(state.getCluster(req.params.id!), ctx)));

  // ---- v4 disk attachments
  on('GET', '/vms/:id/diskattachments', (req, ctx) => {
    v4Only(ctx, req);
    state.getVm(req.params.id!);
    return ok(ctx, views.attachmentsView(state.attachmentsOf(req.params.id!)));
  });
  on('GET', '/vms/:id/diskattachments/:aid', (req, ctx) => {
    v4Only(ctx, req);
    state.getVm(req.params.id!);
    return ok(ctx, views.attachmentView(state.getAttachment(req.params.id!, req.params.aid!)));
  });
  on('POST', '/vms/:id/diskattachments', async (req, ctx) => {
    v4Only(ctx, req);
    state.getVm(req.params.id!);
    const body = readBody(req, ['disk_attachment']);
    const disk = child(body, 'disk');
    const missing = [...(idOf(disk) ? [] : ['disk.id']), ...(text(body, 'interface') ? [] : ['interface'])];
    if (missing.length > 0) throw incomplete('DiskAttachment', missing);
    const attachment = await state.attachDisk(req.params.id!, {
      diskId: idOf(disk)!,
      snapshotId: idOf(child(disk, 'snapshot')),
      active: bool(body, 'active') ?? false,
      bootable: bool(body, 'bootable') ?? false,
      iface: diskInterface(text(body, 'interface')!),
      passDiscard: bool(body, 'pass_discard') ?? false,
      readOnly: bool(body, 'read_only') ?? false,
      usesScsiReservation: bool(body, 'uses_scsi_reservation') ?? false,
    });
    return created(req, ctx, views.attachmentView(attachment));
  });
  on('DELETE', '/vms/:id/diskattachments/:aid', async (req, ctx) => {
    v4Only(ctx, req);
    state.getVm(req.params.id!);
    state.getAttachment(req.params.id!, req.params.aid!);
    // detach_only defaults to true in v4; false removes the disk with all its volumes.
    if (req.query.get('detach_only') === 'false') {
      await state.removeDisk(req.params.id!, req.params.aid!);
      return { ...removed(), note: 'disk removed' };
    }
    await state.detachDisk(req.params.id!, req.params.aid!);
    return { ...removed(), note: 'detached' };
  });

  // ---- v3 VM disks
  on('GET', '/vms/:id/disks', (req, ctx) => {
    v3Only(ctx, req);
    state.getVm(req.params.id!);
    return ok(ctx, views.vmDisksView(state.attachmentsOf(req.params.id!), ctx));
  });
  on('GET', '/vms/:id/disks/:did', (req, ctx) => {
    v3Only(ctx, req);
    state.getVm(req.params.id!);
    return ok(ctx, views.vmDiskView(state.getAttachment(req.params.id!, req.params.did!), ctx));
  });
  on('POST', '/vms/:id/disks', async (req, ctx) => {
    v3Only(ctx, req);
    state.getVm(req.params.id!);
    const body = readBody(req, ['disk']);
    const diskId = idOf(body);
    if (!diskId) throw incomplete('Disk', ['id']);
    const attachment = await state.attachDisk(req.params.id!, {
      diskId,
      snapshotId: idOf(child(body, 'snapshot')),
      active: bool(body, 'active') ?? false,
      bootable: bool(body, 'bootable') ?? false,
      iface: diskInterface(text(body, 'interface') ?? 'virtio_scsi'),
      passDiscard: false,
      readOnly: bool(body, 'read_only') ?? false,
      usesScsiReservation: false,
    });
    return created(req, ctx, views.vmDiskView(attachment, ctx));
  });
  // v3 removes the disk itself unless the body is the detach action: without it the disk and all
  // its volumes are gone (for a snapshot disk plugged into the proxy, the backup's data).
  on('DELETE', '/vms/:id/disks/:did', async (req, ctx) => {
    v3Only(ctx, req);
    state.getVm(req.params.id!);
    state.getAttachment(req.params.id!, req.params.did!);
    const detach = req.body.trim() ? bool(readBody(req, ['action']), 'detach') === true : false;
    if (detach) {
      await state.detachDisk(req.params.id!, req.params.did!);
      return { ...removed(), note: 'detached' };
    }
    await state.removeDisk(req.params.id!, req.params.did!);
    return { ...removed(), note: 'disk removed' };
  });

  // ---- snapshots
  on('GET', '/vms/:id/snapshots', (req, ctx) => ok(ctx, views.snapshotsView(state.snapshotsOf(req.params.id!), ctx)));
  on('POST', '/vms/:id/snapshots', async (req, ctx) => {
    state.getVm(req.params.id!);
    const body = readBody(req, ['snapshot']);
    const attachments = items(body, 'disk_attachments', 'disk_attachment');
    const v3Disks = items(body, 'disks', 'disk');
    const diskIds = attachments !== undefined || v3Disks !== undefined ? [...(attachments ?? []).map((a) => idOf(child(a, 'disk')) ?? ''), ...(v3Disks ?? []).map((d) => idOf(d) ?? '')] : undefined;
    if (diskIds?.includes('')) throw incomplete('Disk', ['id']);
    const snapshot = await state.createSnapshot(req.params.id!, {
      description: text(body, 'description'),
      persistMemory: bool(body, 'persist_memorystate'),
      diskIds,
      correlationId: ctx.correlationId,
    });
    return created(req, ctx, views.snapshotView(snapshot, ctx));
  });
  on('GET', '/vms/:id/snapshots/:sid', (req, ctx) => ok(ctx, views.snapshotView(state.getSnapshot(req.params.id!, req.params.sid!), ctx)));
  on('DELETE', '/vms/:id/snapshots/:sid', (req, ctx) => {
    state.deleteSnapshot(req.params.id!, req.params.sid!, ctx.correlationId);
    return removed();
  });
  on('GET', '/vms/:id/snapshots/:sid/disks', (req, ctx) => ok(ctx, views.snapshotDisksView(state.getSnapshot(req.params.id!, req.params.sid!))));

  // ---- the backup API (4.4+): VM backups, checkpoints, image transfers
  on('GET', '/vms/:id/backups', (req, ctx) => {
    v4Only(ctx, req);
    state.getVm(req.params.id!);
    return ok(ctx, views.backupsView(state.backups.listBackups(req.params.id!), ctx));
  });
  on('POST', '/vms/:id/backups', async (req, ctx) => {
    v4Only(ctx, req);
    state.getVm(req.params.id!);
    const body = readBody(req, ['backup']);
    const disks = items(body, 'disks', 'disk');
    const diskIds = disks?.map((d) => idOf(d) ?? '');
    if (diskIds?.includes('')) throw incomplete('Disk', ['id']);
    const backup = await state.backups.createBackup(req.params.id!, {
      diskIds: diskIds && diskIds.length > 0 ? diskIds : undefined,
      fromCheckpointId: text(body, 'from_checkpoint_id'),
      description: text(body, 'description'),
    });
    return created(req, ctx, views.backupView(backup, ctx));
  });
  on('GET', '/vms/:id/backups/:bid', (req, ctx) => ok(ctx, views.backupView(state.backups.getBackup(req.params.id!, req.params.bid!), ctx)));
  on('GET', '/vms/:id/backups/:bid/disks', (req, ctx) => ok(ctx, views.backupDisksView(state.backups.getBackup(req.params.id!, req.params.bid!), ctx)));
  on('POST', '/vms/:id/backups/:bid/finalize', (req, ctx) => {
    state.backups.finalizeBackup(req.params.id!, req.params.bid!);
    return ok(ctx, views.plainActionView());
  });
  on('GET', '/vms/:id/checkpoints', (req, ctx) => {
    v4Only(ctx, req);
    return ok(ctx, views.checkpointsView(state.backups.checkpointsOf(req.params.id!)));
  });
  on('GET', '/vms/:id/checkpoints/:cid', (req, ctx) => ok(ctx, views.checkpointView(state.backups.getCheckpoint(req.params.id!, req.params.cid!))));
  on('DELETE', '/vms/:id/checkpoints/:cid', (req) => {
    state.backups.removeCheckpoint(req.params.id!, req.params.cid!);
    return { ...removed(), note: 'checkpoint removed' };
  });
  on('GET', '/imagetransfers', (req, ctx) => {
    v4Only(ctx, req);
    return ok(ctx, views.transfersView(state.backups.listTransfers(), ctx));
  });
  on('POST', '/imagetransfers', (req, ctx) => {
    v4Only(ctx, req);
    const body = readBody(req, ['image_transfer']);
    const diskId = idOf(child(body, 'disk')) ?? idOf(child(body, 'image'));
    if (!diskId) throw incomplete('ImageTransfer', ['disk.id|image.id']);
    const transfer = state.backups.createTransfer({ diskId, backupId: idOf(child(body, 'backup')), direction: text(body, 'direction') ?? 'upload', format: text(body, 'format') });
    return created(req, ctx, views.transferView(transfer, ctx));
  });
  on('GET', '/imagetransfers/:tid', (req, ctx) => ok(ctx, views.transferView(state.backups.getTransfer(req.params.tid!), ctx)));
  on('POST', '/imagetransfers/:tid/finalize', (req, ctx) => {
    state.backups.finalizeTransfer(req.params.tid!);
    return ok(ctx, views.plainActionView());
  });
  on('POST', '/imagetransfers/:tid/cancel', (req, ctx) => {
    state.backups.cancelTransfer(req.params.tid!);
    return ok(ctx, views.plainActionView());
  });

  // ---- jobs (a lost create reply is found by its correlation id)
  on('GET', '/jobs', (req, ctx) => {
    const match = searchFilter(req.query.get('search'), ['correlation_id', 'status', 'description', 'id']);
    const jobs = state.jobs.filter((j) => match({ correlation_id: j.correlationId, status: state.jobStatus(j), description: j.description, id: j.id }));
    return ok(ctx, views.jobsView(limit(jobs, req), ctx));
  });

  return router;
}
