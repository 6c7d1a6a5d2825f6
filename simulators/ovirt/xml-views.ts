/**
 * Objects → oVirt documents. Each view returns a fast-xml-parser tree (attributes prefixed "@_");
 * `render` turns it into XML (the default) or the engine's JSON form when the client asks for JSON.
 */
import { buildXml } from '../../lib/xml';
import type { SimRequest, SimResponse } from '../framework/types';
import { BLANK_TEMPLATE_ID, OVIRT_DEMO } from './state';
import type { Attachment, Cluster, Disk, Job, OvirtState, SnapshotInfo, StorageDomain, Vm } from './state';
import type { Checkpoint, ImageTransfer, VmBackup } from './backups';

export const API_BASE = '/ovirt-engine/api';
export const XML_TYPE = 'application/xml;charset=UTF-8';
export const JSON_TYPE = 'application/json;charset=UTF-8';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

type Node = Record<string, unknown>;

export interface ViewContext {
  state: OvirtState;
  v3: boolean;
  allContent: boolean;
}

const ref = (collection: string, id: string): Node => ({ '@_href': `${API_BASE}/${collection}/${id}`, '@_id': id });
const link = (href: string, rel: string): Node => ({ '@_href': href, '@_rel': rel });
const links = (base: string, rels: string[]): Node[] => rels.map((rel) => link(`${base}/${rel}`, rel));

/** Engine timestamps look like 2024-05-01T12:00:00.000+00:00. */
export const timestamp = (ms: number): string => new Date(ms).toISOString().replace('Z', '+00:00');

// ---- documents ----------------------------------------------------------------------------------

export function apiView(ctx: ViewContext): Node {
  const vms = ctx.state.listVms();
  const p = ctx.state.options.engine.product;
  // v3 gave the version as attributes with full_version beside it; v4 as elements inside it.
  const productInfo = ctx.v3
    ? { name: 'oVirt Engine', vendor: 'ovirt.org', version: { '@_build': p.build, '@_major': p.major, '@_minor': p.minor, '@_revision': p.revision }, full_version: p.fullVersion }
    : { instance_id: OVIRT_DEMO.clusterId, name: 'oVirt Engine', vendor: 'ovirt.org', version: { build: p.build, full_version: p.fullVersion, major: p.major, minor: p.minor, revision: p.revision } };
  return {
    api: {
      link: ['clusters', 'disks', 'events', 'hosts', 'jobs', 'storagedomains', 'vms'].map((rel) => link(`${API_BASE}/${rel}`, rel)),
      product_info: productInfo,
      special_objects: { blank_template: ref('templates', BLANK_TEMPLATE_ID) },
      summary: {
        hosts: { active: 1, total: 1 },
        storage_domains: { active: 1, total: 1 },
        users: { active: 1, total: 1 },
        vms: { active: vms.filter((v) => v.status === 'up').length, total: vms.length },
      },
      time: timestamp(ctx.state.now()),
      authenticated_user: ref('users', OVIRT_DEMO.userId),
      effective_user: ref('users', OVIRT_DEMO.userId),
    },
  };
}

function vmBody(vm: Vm, ctx: ViewContext): Node {
  const base = `${API_BASE}/vms/${vm.id}`;
  return {
    ...ref('vms', vm.id),
    actions: { link: links(base, ['shutdown', 'start', 'stop', 'suspend']) },
    name: vm.name,
    description: vm.description,
    link: links(base, [ctx.v3 ? 'disks' : 'diskattachments', 'nics', 'snapshots', 'statistics', 'permissions', 'tags']),
    cpu: { architecture: 'x86_64', topology: { cores: vm.cores, sockets: vm.sockets, threads: 1 } },
    creation_time: timestamp(vm.createdAt),
    memory: vm.memory,
    os: { type: vm.osType },
    stateless: false,
    type: 'server',
    run_once: false,
    start_time: timestamp(vm.startedAt),
    status: vm.status,
    stop_time: timestamp(vm.createdAt),
    cluster: ref('clusters', vm.clusterId),
    // Only a running VM has a host.
    ...(vm.status === 'down' || vm.status === 'image_locked' ? {} : { host: ref('hosts', OVIRT_DEMO.hostId) }),
    template: ref('templates', BLANK_TEMPLATE_ID),
    // The engine's OVF of the VM as it is now (its active disks), as backup tools save it beside an incremental backup.
    ...(ctx.allContent ? { initialization: { configuration: { type: 'ovf', data: ovfFor(vm, ctx.state.getSnapshot(vm.id, ctx.state.activeSnapshotId(vm.id))) } } } : {}),
  };
}

export const vmView = (vm: Vm, ctx: ViewContext): Node => ({ vm: vmBody(vm, ctx) });
export const vmsView = (vms: Vm[], ctx: ViewContext): Node => ({ vms: { vm: vms.map((v) => vmBody(v, ctx)) } });

function lunStorage(disk: Disk): Node {
  const lun = disk.lun!;
  return {
    '@_id': lun.id,
    logical_units: {
      logical_unit: [
        {
          '@_id': lun.id,
          address: lun.address,
          lun_mapping: 1,
          paths: 1,
          port: lun.port,
          portal: `${lun.address}:${lun.port},1`,
          product_id: lun.productId,
          serial: lun.serial,
          size: lun.size,
          target: lun.target,
          vendor_id: lun.vendorId,
        },
      ],
    },
    type: 'iscsi',
  };
}

/** The disk's own fields; image-only fields are left out for direct LUNs, as the engine does. */
function diskFields(disk: Disk, ctx: ViewContext): Node {
  if (disk.storageType === 'lun') {
    return {
      name: disk.name,
      description: disk.description,
      alias: disk.name,
      content_type: 'data',
      propagate_errors: false,
      shareable: disk.shareable,
      storage_type: 'lun',
      wipe_after_delete: false,
      lun_storage: lunStorage(disk),
    };
  }
  return {
    name: disk.name,
    description: disk.description,
    link: links(`${API_BASE}/disks/${disk.id}`, ['permissions', 'disksnapshots', 'statistics']),
    actual_size: disk.actualSize,
    alias: disk.name,
    backup: disk.backup,
    content_type: 'data',
    format: disk.format,
    image_id: disk.imageId,
    propagate_errors: false,
    provisioned_size: disk.provisionedSize,
    ...(ctx.v3 ? { size: disk.provisionedSize } : {}),
    shareable: disk.shareable,
    sparse: disk.sparse,
    status: ctx.state.diskStatus(disk),
    storage_type: 'image',
    total_size: disk.actualSize,
    wipe_after_delete: false,
    ...(disk.storageDomainId !== undefined ? { storage_domains: { storage_domain: [ref('storagedomains', disk.storageDomainId)] } } : {}),
  };
}

const diskBody = (disk: Disk, ctx: ViewContext): Node => ({ ...ref('disks', disk.id), ...diskFields(disk, ctx) });
export const diskView = (disk: Disk, ctx: ViewContext): Node => ({ disk: diskBody(disk, ctx) });
export const disksView = (disks: Disk[], ctx: ViewContext): Node => ({ disks: { disk: disks.map((d) => diskBody(d, ctx)) } });

function storageDomainBody(sd: StorageDomain, ctx: ViewContext): Node {
  return {
    ...ref('storagedomains', sd.id),
    name: sd.name,
    description: '',
    link: links(`${API_BASE}/storagedomains/${sd.id}`, ['disks', 'permissions', 'disksnapshots']),
    available: sd.available,
    committed: sd.used,
    external_status: 'ok',
    master: true,
    storage: { address: '192.0.2.20', path: `/exports/${sd.name}`, type: 'nfs' },
    storage_format: ctx.v3 ? 'v3' : 'v5',
    type: sd.type,
    used: sd.used,
    wipe_after_delete: false,
    data_centers: { data_center: [ref('datacenters', OVIRT_DEMO.dataCenterId)] },
  };
}

export const storageDomainView = (sd: StorageDomain, ctx: ViewContext): Node => ({ storage_domain: storageDomainBody(sd, ctx) });
export const storageDomainsView = (list: StorageDomain[], ctx: ViewContext): Node => ({ storage_domains: { storage_domain: list.map((sd) => storageDomainBody(sd, ctx)) } });

function clusterBody(c: Cluster, ctx: ViewContext): Node {
  const p = ctx.state.options.engine.product;
  return {
    ...ref('clusters', c.id),
    name: c.name,
    description: c.description,
    cpu: { architecture: 'x86_64', type: 'Intel Nehalem Family' },
    version: ctx.v3 ? { '@_major': p.major, '@_minor': p.minor } : { major: p.major, minor: p.minor },
    data_center: ref('datacenters', OVIRT_DEMO.dataCenterId),
  };
}

export const clusterView = (c: Cluster, ctx: ViewContext): Node => ({ cluster: clusterBody(c, ctx) });
export const clustersView = (list: Cluster[], ctx: ViewContext): Node => ({ clusters: { cluster: list.map((c) => clusterBody(c, ctx)) } });

/** The reply to an action (start, stop): `<action>` with the status of the request. */
export const actionView = (vm: Vm, ctx: ViewContext): Node => ({ action: { status: 'complete', vm: vmBody(vm, ctx) } });

function attachmentBody(a: Attachment): Node {
  return {
    '@_href': `${API_BASE}/vms/${a.vmId}/diskattachments/${a.diskId}`,
    '@_id': a.diskId,
    active: a.active,
    bootable: a.bootable,
    interface: a.iface,
    ...(a.logicalName !== undefined ? { logical_name: a.logicalName } : {}),
    pass_discard: a.passDiscard,
    read_only: a.readOnly,
    uses_scsi_reservation: a.usesScsiReservation,
    disk: ref('disks', a.diskId),
    vm: ref('vms', a.vmId),
  };
}

export const attachmentView = (a: Attachment): Node => ({ disk_attachment: attachmentBody(a) });
export const attachmentsView = (list: Attachment[]): Node => ({ disk_attachments: { disk_attachment: list.map(attachmentBody) } });

/** v3: a VM's disk is the disk plus the attachment's fields. */
function vmDiskBody(a: Attachment, ctx: ViewContext): Node {
  const disk = ctx.state.getDisk(a.diskId);
  return {
    '@_href': `${API_BASE}/vms/${a.vmId}/disks/${a.diskId}`,
    '@_id': a.diskId,
    ...diskFields(disk, ctx),
    active: a.active,
    bootable: a.bootable,
    interface: a.iface,
    ...(a.logicalName !== undefined ? { logical_name: a.logicalName } : {}),
    read_only: a.readOnly,
    ...(a.snapshotId !== undefined ? { snapshot: { '@_id': a.snapshotId } } : {}),
    vm: ref('vms', a.vmId),
  };
}

export const vmDiskView = (a: Attachment, ctx: ViewContext): Node => ({ disk: vmDiskBody(a, ctx) });
export const vmDisksView = (list: Attachment[], ctx: ViewContext): Node => ({ disks: { disk: list.map((a) => vmDiskBody(a, ctx)) } });

function snapshotBody(s: SnapshotInfo, ctx: ViewContext): Node {
  const base = `${API_BASE}/vms/${s.vmId}/snapshots/${s.id}`;
  const vm = ctx.state.getVm(s.vmId);
  return {
    '@_href': base,
    '@_id': s.id,
    actions: { link: links(base, ['restore']) },
    description: s.description,
    link: links(base, ['disks', 'nics', 'cdroms']),
    date: timestamp(s.date),
    persist_memorystate: s.persistMemory,
    snapshot_status: s.status,
    [ctx.v3 ? 'type' : 'snapshot_type']: s.type,
    ...(ctx.allContent ? { initialization: { configuration: { type: 'ovf', data: ovfFor(vm, s) } } } : {}),
    vm: ref('vms', s.vmId),
  };
}

export const snapshotView = (s: SnapshotInfo, ctx: ViewContext): Node => ({ snapshot: snapshotBody(s, ctx) });
export const snapshotsView = (list: SnapshotInfo[], ctx: ViewContext): Node => ({ snapshots: { snapshot: list.map((s) => snapshotBody(s, ctx)) } });

function snapshotDiskBody(s: SnapshotInfo, d: SnapshotInfo['disks'][number]): Node {
  return {
    '@_href': `${API_BASE}/vms/${s.vmId}/snapshots/${s.id}/disks/${d.diskId}`,
    '@_id': d.diskId,
    name: d.disk.name,
    description: d.disk.description,
    actual_size: d.actualSize,
    alias: d.disk.name,
    content_type: 'data',
    format: d.format,
    image_id: d.imageId,
    propagate_errors: false,
    provisioned_size: d.provisionedSize,
    shareable: false,
    sparse: d.sparse,
    status: s.status,
    storage_type: 'image',
    total_size: d.actualSize,
    wipe_after_delete: false,
    snapshot: { '@_href': `${API_BASE}/vms/${s.vmId}/snapshots/${s.id}`, '@_id': s.id },
    storage_domains: { storage_domain: [ref('storagedomains', d.disk.storageDomainId ?? OVIRT_DEMO.storageDomainId)] },
  };
}

export const snapshotDisksView = (s: SnapshotInfo): Node => ({ disks: { disk: s.disks.map((d) => snapshotDiskBody(s, d)) } });

function jobBody(job: Job, ctx: ViewContext): Node {
  const status = ctx.state.jobStatus(job);
  const base = `${API_BASE}/jobs/${job.id}`;
  return {
    '@_href': base,
    '@_id': job.id,
    actions: { link: links(base, ['clear', 'end']) },
    description: job.description,
    link: links(base, ['steps']),
    auto_cleared: true,
    ...(status === 'finished' ? { end_time: timestamp(job.endsAt) } : {}),
    external: false,
    last_updated: timestamp(status === 'finished' ? job.endsAt : ctx.state.now()),
    start_time: timestamp(job.startedAt),
    status,
    owner: ref('users', OVIRT_DEMO.userId),
  };
}

export const jobsView = (jobs: Job[], ctx: ViewContext): Node => ({ jobs: { job: jobs.map((j) => jobBody(j, ctx)) } });

// ---- the backup API (4.4+) ----------------------------------------------------------------------

function backupBody(b: VmBackup, ctx: ViewContext): Node {
  const base = `${API_BASE}/vms/${b.vmId}/backups/${b.id}`;
  return {
    '@_href': base,
    '@_id': b.id,
    actions: { link: links(base, ['finalize']) },
    ...(b.description ? { description: b.description } : {}),
    link: links(base, ['disks']),
    creation_date: timestamp(b.createdAt),
    ...(b.fromCheckpointId !== undefined ? { from_checkpoint_id: b.fromCheckpointId } : {}),
    phase: ctx.state.backups.phase(b),
    ...(b.toCheckpointId !== undefined ? { to_checkpoint_id: b.toCheckpointId } : {}),
    host: ref('hosts', OVIRT_DEMO.hostId),
    vm: ref('vms', b.vmId),
  };
}

export const backupView = (b: VmBackup, ctx: ViewContext): Node => ({ backup: backupBody(b, ctx) });
export const backupsView = (list: VmBackup[], ctx: ViewContext): Node => ({ backups: { backup: list.map((b) => backupBody(b, ctx)) } });

/** A backup's disks: the disk with the mode the engine backs it up in (backup_mode full|incremental). */
export function backupDisksView(b: VmBackup, ctx: ViewContext): Node {
  return {
    disks: {
      disk: b.disks.map((d) => {
        const disk = ctx.state.disks.get(d.diskId);
        return {
          ...ref('disks', d.diskId),
          ...(disk ? { name: disk.name, alias: disk.name, format: disk.format, provisioned_size: disk.provisionedSize, backup: disk.backup } : {}),
          backup_mode: d.mode,
        };
      }),
    },
  };
}

function checkpointBody(c: Checkpoint): Node {
  return {
    '@_href': `${API_BASE}/vms/${c.vmId}/checkpoints/${c.id}`,
    '@_id': c.id,
    creation_date: timestamp(c.createdAt),
    ...(c.parentId !== undefined ? { parent_id: c.parentId } : {}),
    state: 'created',
    vm: ref('vms', c.vmId),
    disks: { disk: c.diskIds.map((id) => ref('disks', id)) },
  };
}

export const checkpointView = (c: Checkpoint): Node => ({ checkpoint: checkpointBody(c) });
export const checkpointsView = (list: Checkpoint[]): Node => ({ checkpoints: { checkpoint: list.map(checkpointBody) } });

function transferBody(t: ImageTransfer, ctx: ViewContext): Node {
  const base = `${API_BASE}/imagetransfers/${t.id}`;
  const imageio = ctx.state.imageioUrl;
  return {
    '@_href': base,
    '@_id': t.id,
    actions: { link: links(base, ['cancel', 'extend', 'finalize', 'pause', 'resume']) },
    active: ctx.state.backups.transferPhase(t) === 'transferring',
    direction: t.direction,
    format: t.format,
    inactivity_timeout: 60,
    phase: ctx.state.backups.transferPhase(t),
    // The host's imageio daemon and the engine's proxy: one simulated server answers both.
    proxy_url: `${imageio}/images/${t.ticket}`,
    shallow: false,
    timeout_policy: 'legacy',
    transfer_url: `${imageio}/images/${t.ticket}`,
    transferred: t.bytesServed,
    ...(t.backupId !== undefined ? { backup: { '@_id': t.backupId } } : {}),
    disk: ref('disks', t.diskId),
    host: ref('hosts', OVIRT_DEMO.hostId),
    image: { '@_id': t.diskId },
  };
}

export const transferView = (t: ImageTransfer, ctx: ViewContext): Node => ({ image_transfer: transferBody(t, ctx) });
export const transfersView = (list: ImageTransfer[], ctx: ViewContext): Node => ({ image_transfers: { image_transfer: list.map((t) => transferBody(t, ctx)) } });

/** The reply to an action on a backup or a transfer (finalize, cancel). */
export const plainActionView = (): Node => ({ action: { status: 'complete' } });

export const faultView = (reason: string, detail?: string): Node => ({
  fault: { reason, ...(detail !== undefined ? { detail } : {}) },
});

// ---- OVF ----------------------------------------------------------------------------------------

const GiB = 1024 * 1024 * 1024;

/** The VM configuration the engine stores with a snapshot: an OVF envelope naming the VM and its disks. */
export function ovfFor(vm: Vm, s: SnapshotInfo): string {
  const fileRef = (d: SnapshotInfo['disks'][number]) => `${d.diskId}/${d.imageId}`;
  const doc = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    'ovf:Envelope': {
      '@_xmlns:ovf': 'http://schemas.dmtf.org/ovf/envelope/1/',
      '@_xmlns:rasd': 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData',
      '@_xmlns:vssd': 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData',
      '@_xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
      '@_ovf:version': '4.5.0.0',
      References: {
        File: s.disks.map((d) => ({
          '@_ovf:href': fileRef(d),
          '@_ovf:id': d.imageId,
          '@_ovf:size': d.provisionedSize,
          '@_ovf:description': d.disk.description,
          '@_ovf:disk_storage_type': 'IMAGE',
        })),
      },
      Section: [
        { '@_xsi:type': 'ovf:NetworkSection_Type', Info: 'List of networks', Network: [{ '@_ovf:name': 'ovirtmgmt' }] },
        {
          '@_xsi:type': 'ovf:DiskSection_Type',
          Info: 'List of Virtual Disks',
          Disk: s.disks.map((d) => ({
            '@_ovf:diskId': d.imageId,
            '@_ovf:size': Math.max(1, Math.ceil(d.provisionedSize / GiB)),
            '@_ovf:actual_size': Math.max(1, Math.ceil(d.actualSize / GiB)),
            '@_ovf:vm_snapshot_id': s.id,
            '@_ovf:parentRef': '',
            '@_ovf:fileRef': fileRef(d),
            '@_ovf:format': 'http://www.vmware.com/specifications/vmdk.html#sparse',
            '@_ovf:volume-format': d.format === 'cow' ? 'COW' : 'RAW',
            '@_ovf:volume-type': d.sparse ? 'Sparse' : 'Preallocated',
            '@_ovf:disk-alias': d.disk.name,
            '@_ovf:disk-description': d.disk.description,
            '@_ovf:wipe-after-delete': 'false',
          })),
        },
      ],
      Content: {
        '@_ovf:id': 'out',
        '@_xsi:type': 'ovf:VirtualSystem_Type',
        Name: vm.name,
        Description: vm.description,
        TemplateId: BLANK_TEMPLATE_ID,
        CreationDate: ovfDate(vm.createdAt),
        ExportDate: ovfDate(s.date),
        IsStateless: 'false',
        VmType: '1',
        Section: [
          { '@_ovf:id': vm.id, '@_ovf:required': 'false', '@_xsi:type': 'ovf:OperatingSystemSection_Type', Info: 'Guest Operating System', Description: vm.osType },
          {
            '@_xsi:type': 'ovf:VirtualHardwareSection_Type',
            Info: `${vm.sockets * vm.cores} CPU, ${vm.memory / (1024 * 1024)} Memory`,
            Item: [
              { 'rasd:Caption': `${vm.sockets * vm.cores} virtual cpu`, 'rasd:InstanceId': '1', 'rasd:ResourceType': '3', 'rasd:num_of_sockets': vm.sockets, 'rasd:cpu_per_socket': vm.cores },
              {
                'rasd:Caption': `${vm.memory / (1024 * 1024)} MB of memory`,
                'rasd:InstanceId': '2',
                'rasd:ResourceType': '4',
                'rasd:AllocationUnits': 'MegaBytes',
                'rasd:VirtualQuantity': vm.memory / (1024 * 1024),
              },
              ...s.disks.map((d) => ({
                'rasd:Caption': d.disk.name,
                'rasd:InstanceId': d.imageId,
                'rasd:ResourceType': '17',
                'rasd:HostResource': fileRef(d),
                'rasd:Parent': '00000000-0000-0000-0000-000000000000',
                'rasd:Template': BLANK_TEMPLATE_ID,
                'rasd:StorageId': d.disk.storageDomainId ?? OVIRT_DEMO.storageDomainId,
                'rasd:LastModified': ovfDate(s.date),
                Type: 'disk',
                Device: 'disk',
                DeviceId: d.diskId,
              })),
            ],
          },
        ],
      },
    },
  };
  return buildXml(doc);
}

function ovfDate(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/-/g, '/').slice(0, 19);
}

// ---- rendering ----------------------------------------------------------------------------------

/** oVirt's JSON: the root element is dropped, attributes become plain members, scalars are strings. */
export function toJson(doc: Node): unknown {
  const root = Object.values(doc)[0];
  return convert(root === '' || root === undefined ? {} : root);
}

function convert(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(convert);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value as Node)) {
      if (Array.isArray(v) && v.length === 0) continue; // the engine leaves empty lists out
      out[key.startsWith('@_') ? key.slice(2) : key] = convert(v);
    }
    return out;
  }
  return String(value);
}

export function wantsJson(req: SimRequest): boolean {
  const accept = (req.headers.accept ?? '').toLowerCase();
  return accept.includes('application/json') && !accept.includes('xml');
}

export function render(status: number, doc: Node, json = false): SimResponse {
  if (json) return { status, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify(toJson(doc)) };
  return { status, headers: { 'content-type': XML_TYPE }, body: XML_DECLARATION + buildXml(doc) };
}

export function faultResponse(status: number, reason: string, detail?: string, json = false): SimResponse {
  return render(status, faultView(reason, detail), json);
}
