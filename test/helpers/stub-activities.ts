/**
 * Stubbed activities for workflow tests and bench (c) on the time-skipping server: each stub answers
 * as its real activity would when all goes well, with the vendor job's length played by a
 * VendorJob (see bench/long-job-events.ts for how a stub stretches a job). Tests script failures,
 * hangs and slow undos on top of these (test/workflows/stub-worker.ts).
 */
import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { alertEventId, type AlertEvent } from '../../contracts/alerts/events';

export type Stub = (input: any) => Promise<unknown>;
export type Stubs = Record<string, Stub>;

/** The vendor job a scenario stretches: how long it runs, and how far it has got. */
export class VendorJob {
  /** Job time that sliced follows have spent (each slice is as long as the activity would run). */
  private spentMs = 0;
  /** Server time (ms) when the job started; set by the stub that starts it. */
  startedAt?: number;
  polls = 0;

  constructor(readonly lengthMs: number) {}

  /** Job time at a status read: the server's time since the start, or what slices spent. */
  elapsedAt(serverNowMs: number): number {
    return Math.max(this.spentMs, serverNowMs - (this.startedAt ?? serverNowMs));
  }

  /** A wait inside one activity: it returns when the job is over. */
  waitToEnd(): void {
    this.polls++;
    this.spentMs = this.lengthMs;
  }

  percentAt(elapsedMs: number): number {
    return Math.min(100, Math.floor((100 * elapsedMs) / this.lengthMs));
  }

  /**
   * A sliced follow: the job time at which the real activity would return, given the slice length
   * and progress step the workflow asked for and the percentage it last saw.
   */
  slice(options: { maxSliceMs: number; progressStepPercent: number; lastPercent?: number }): { elapsedMs: number; done: boolean; percent: number } {
    this.polls++;
    const from = this.spentMs;
    const base = options.lastPercent ?? this.percentAt(from);
    const nextStepAt = Math.ceil(((base + options.progressStepPercent) / 100) * this.lengthMs);
    const until = Math.min(this.lengthMs, from + options.maxSliceMs, Math.max(from + 1, nextStepAt));
    this.spentMs = until;
    return { elapsedMs: until, done: until >= this.lengthMs, percent: this.percentAt(until) };
  }
}

/**
 * sendAlert as a webhook that takes every alert once (by event id, as the real ledger does). Not
 * part of a run's activity log: step and undo tests read that log, and an alert is neither.
 */
export class AlertInbox {
  readonly received: AlertEvent[] = [];

  of(workflowId: string): AlertEvent[] {
    return this.received.filter((e) => e.workflowId === workflowId);
  }

  stubs(): Stubs {
    return {
      sendAlert: async (event: AlertEvent) => {
        const eventId = alertEventId(event);
        if (this.received.some((e) => alertEventId(e) === eventId)) return { sent: true, eventId, reason: 'delivered before' };
        this.received.push(event);
        return { sent: true, eventId };
      },
    };
  }
}

export const OVIRT_VM = '6f2a0d3e-5b1c-4c8e-9a10-00000000a001';
export const OVIRT_PROXY = '6f2a0d3e-5b1c-4c8e-9a10-00000000b001';

export function ovirtStubs(job: VendorJob): Stubs {
  return {
    ovirtCheckEndpoint: async ({ endpoint }) => ({ endpoint, url: 'https://engine.example/ovirt-engine/api', apiVersion: 'v4' }),
    ovirtListVms: async () => [
      { id: OVIRT_VM, name: 'web-01' },
      { id: OVIRT_VM.replace(/1$/, '2'), name: 'web-02' },
    ],
    ovirtPreflight: async ({ vmId, proxyVmId }) => ({ vm: { id: vmId, name: `vm-${vmId.slice(-4)}` }, proxyVm: { id: proxyVmId, name: 'proxy' }, eligibleDiskIds: ['d1'], skippedDisks: [] }),
    ovirtCreateSnapshot: async () => ({ snapshotId: 's1', adopted: false }),
    ovirtWaitSnapshotReady: async () => (job.waitToEnd(), { status: 'ok' }),
    ovirtGetSnapshotConfig: async () => ({ type: 'ovf', data: '<ovf/>' }),
    ovirtListSnapshotDisks: async () => [{ id: 'd1', name: 'disk1', format: 'raw', provisionedSize: 1 << 30 }],
    ovirtAttachSnapshotDisk: async ({ diskId }) => ({ attachmentId: diskId, diskId, logicalName: '/dev/sdb', adopted: false }),
    copyDisk: async () => (job.waitToEnd(), { path: '/repo/d1.raw', bytes: 1 << 30, sha256: '0'.repeat(64), device: '/dev/sdb', resumedFromOffset: 0, bytesReadFromDevice: 1 << 30, attempt: 1 }),
    writeBackupFile: async ({ fileName, content }) => ({ path: `/repo/${fileName}`, bytes: content.length, sha256: '0'.repeat(64) }),
    repositoryPreflight: async () => ({ kind: 'directory', repository: '/repo' }),
    ovirtDetachDisk: async () => ({ alreadyDetached: false }),
    ovirtDeleteSnapshot: async () => ({ deleted: ['s1'] }),
    ovirtPruneSnapshots: async () => ({ kept: ['s1'], deleted: [] }),
  };
}

/** ovirtIncrementalBackup: the engine's backup and the image transfer's read take the long job. */
export function ovirtIncrementalStubs(job: VendorJob): Stubs {
  const disk = { id: 'd1', name: 'disk1', provisionedSize: 1 << 30, incremental: true };
  return {
    ovirtIncrementalPreflight: async ({ vmId }) => ({ vm: { id: vmId, name: 'web-01' }, disks: [disk], skippedDisks: [], checkpointIds: ['cp-1'] }),
    incrementalChainHead: async () => ({
      dir: 'ovirt-incremental/web-01/prev',
      toCheckpointId: 'cp-1',
      completedAt: '2026-12-01T00:00:00Z',
      disks: [{ id: disk.id, provisionedSize: disk.provisionedSize }],
    }),
    ovirtStartVmBackup: async ({ fromCheckpointId }) => ({ backupId: 'b1', adopted: false, from: fromCheckpointId }),
    ovirtWaitVmBackupReady: async () => (job.waitToEnd(), { phase: 'ready', toCheckpointId: 'cp-2', disks: [{ id: disk.id, mode: 'incremental' }] }),
    ovirtGetVmConfig: async () => ({ type: 'ovf', data: '<ovf/>' }),
    ovirtStartImageTransfer: async () => ({ transferId: 't1', transferUrl: 'https://imageio.example/images/ticket', adopted: false }),
    copyImageTransfer: async ({ fileName }) => (
      job.waitToEnd(),
      {
        fileName,
        path: `/repo/${fileName}`,
        bytes: 1 << 20,
        sha256: '0'.repeat(64),
        imageSha256: '0'.repeat(64),
        bytesFetched: 1 << 20,
        resumedFromOffset: 0,
        attempt: 1,
        ranges: [{ start: 0, length: 1 << 20 }],
      }
    ),
    ovirtFinalizeImageTransfer: async () => ({ phase: 'finished_success' }),
    ovirtCancelImageTransfers: async () => ({ cancelled: [] }),
    ovirtFinalizeVmBackup: async () => ({ phase: 'succeeded' }),
    ovirtEndVmBackup: async () => ({ phase: 'succeeded' }),
    writeBackupFile: async ({ dir, fileName, content }) => ({ path: `/repo/${dir}/${fileName}`, bytes: content.length, sha256: '0'.repeat(64) }),
    repositoryPreflight: async () => ({ kind: 'directory', repository: '/repo' }),
  };
}

export function altaroStubs(job: VendorJob): Stubs {
  return {
    altaroCheckEndpoint: async ({ endpoint }) => ({ endpoint, baseUrl: 'http://localhost:35113/api', productVersion: '9.1' }),
    altaroReportBaseline: async () => ({ count: 0 }),
    altaroSendInstruction: async () => ({ operationGuid: 'op-1', adopted: false }),
    altaroPollOperation: async (input: { maxSliceMs: number; progressStepPercent: number; intervalMs: number; last?: { percent: number } }) => {
      const s = job.slice({ maxSliceMs: input.maxSliceMs, progressStepPercent: input.progressStepPercent, lastPercent: input.last?.percent });
      const last = { status: 'Processing', percent: s.percent };
      return { gone: s.done, last, samples: [{ at: new Date().toISOString(), ...last }], intervalMs: input.intervalMs, polls: 1 };
    },
    altaroReadReport: async () => ({ type: 'backup', report: { Result: 'Success', DateTime: '2026-12-03-02-00-00', Error: '' }, result: 'success' }),
    altaroAbortOperation: async () => ({ apiSaid: 'aborted', accepted: true, gone: true }),
  };
}

function azureJob(job: VendorJob, operation: string, elapsedMs: number): Record<string, unknown> {
  const done = elapsedMs >= job.lengthMs;
  return {
    jobId: 'job-1',
    operation,
    entity: 'web-01',
    status: done ? 'Completed' : 'InProgress',
    startTime: '2026-12-01T00:00:00Z',
    ...(done ? { endTime: '2026-12-08T00:00:00Z' } : {}),
    progressPercentage: job.percentAt(elapsedMs),
    tasks: [],
    errors: [],
    properties: {},
    terminal: done,
  };
}

export function azureStubs(job: VendorJob, operation: 'Backup' | 'Restore' | 'ConfigureBackup'): Stubs {
  const serverNow = () => activityInfo().currentAttemptScheduledTimestampMs;
  const start = () => {
    job.startedAt = serverNow();
    return { jobId: 'job-1', adopted: false, via: 'operation status' };
  };
  return {
    azureCheckEndpoint: async ({ endpoint }) => ({ endpoint, url: 'https://management.azure.com', vault: 'vault', apiVersion: '2023-06-01' }),
    azureResolvePolicy: async ({ policyName }) => ({ policyId: `/policies/${policyName}`, policyName }),
    azureFindVm: async ({ vmName }) => ({
      vmName: vmName ?? 'web-01',
      sourceResourceId: '/vms/web-01',
      containerName: 'c',
      protectedItemName: 'i',
      protected: operation !== 'ConfigureBackup',
      policyId: '/policies/DefaultPolicy',
    }),
    azureEnableProtection: async () => (job.waitToEnd(), { protectionState: 'Protected', policyId: '/policies/DefaultPolicy', via: 'operation status' }),
    azureDisableProtection: async () => ({ result: 'stopped' }),
    azureTriggerBackup: async () => start(),
    azureTriggerRestore: async () => start(),
    azureGetJob: async () => azureJob(job, operation, job.elapsedAt(serverNow())),
    azureFollowJob: async (input: { maxSliceMs: number; progressStepPercent: number; last?: { progressPercentage?: number } }) => {
      const s = job.slice({ maxSliceMs: input.maxSliceMs, progressStepPercent: input.progressStepPercent, lastPercent: input.last?.progressPercentage });
      return { job: azureJob(job, operation, s.elapsedMs), polls: 1 };
    },
    azureCancelJob: async () => undefined,
    azureFindRecoveryPoint: async () => ({ name: 'rp-1', id: '/rp/rp-1', time: '2026-12-01T00:00:00Z', type: 'AppConsistent', ilrSessionActive: false }),
    azureGetRecoveryPoint: async () => ({ name: 'rp-1', id: '/rp/rp-1', time: '2026-12-01T00:00:00Z', type: 'AppConsistent', ilrSessionActive: false }),
    azureProvisionFileRecovery: async () => (job.waitToEnd(), { scriptPath: '/data/ilr/script.py', passwordPath: '/data/ilr/password', osType: 'Linux', via: 'operation status' }),
    azureRevokeFileRecovery: async () => ({ revoked: true }),
  };
}

function onappBackup(built: boolean): Record<string, unknown> {
  return {
    id: 7,
    identifier: 'b7',
    backupType: 'incremental',
    targetType: 'VirtualMachine',
    targetId: 101,
    built,
    builtAt: built ? '2026-12-02T00:00:00Z' : null,
    locked: false,
    backupSizeKb: 1024,
    note: null,
    createdAt: '2026-12-01T00:00:00Z',
    updatedAt: '2026-12-01T00:00:00Z',
  };
}

export function onappStubs(job: VendorJob): Stubs {
  return {
    onappCheckEndpoint: async ({ endpoint }) => ({ endpoint, url: 'https://onapp.example', format: 'json' }),
    onappPreflight: async ({ virtualServerId }) => ({ virtualServer: { id: virtualServerId, label: 'web-01', identifier: 'vs1' } }),
    onappTakeBackup: async () => ({ backup: onappBackup(false), adopted: false }),
    onappWaitBackupBuilt: async () => (job.waitToEnd(), { backup: onappBackup(true), polls: job.polls }),
    onappDeleteRunBackup: async () => ({ deleted: [] }),
    onappListBackups: async () => (job.waitToEnd(), [onappBackup(true)]),
    onappRestorePreflight: async ({ virtualServerId }) => ({ virtualServer: { id: virtualServerId, label: 'web-01', identifier: 'vs1' }, backup: onappBackup(true), chosen: 'given' }),
    onappStartRestore: async () => ({ adopted: false }),
    onappWaitServerUnlocked: async () => (job.waitToEnd(), { polls: job.polls, booted: true }),
  };
}

export function manageiqStubs(job: VendorJob): Stubs {
  const snapshot = {
    id: '1001',
    href: 'https://miq.example/api/vms/10/snapshots/1001',
    name: 'before-upgrade',
    description: null,
    createTime: '2026-12-01T00:00:00Z',
    vmOrTemplateId: '10',
    current: false,
  };
  const task = () => (job.waitToEnd(), { id: 't1', state: 'Finished', status: 'Ok', message: 'done', pctComplete: 100, polls: job.polls });
  return {
    manageiqCheckEndpoint: async ({ endpoint }) => ({ endpoint, url: 'https://miq.example/api' }),
    manageiqPreflight: async ({ resourceId }) => ({ id: resourceId, name: 'web-01' }),
    manageiqCreateSnapshot: async () => ({ taskId: 't1', message: 'queued' }),
    manageiqWaitTask: async () => task(),
    manageiqConfirmSnapshot: async () => ({ ...snapshot, duplicatesRemoved: [] }),
    manageiqApplyRetention: async () => ({ kept: [snapshot], deleted: [], othersUntouched: 0 }),
    manageiqRemoveRunSnapshot: async () => ({ deleted: [] }),
    manageiqFindSnapshot: async () => snapshot,
    manageiqRevertSnapshot: async () => ({ taskId: 't1', message: 'reverting' }),
    manageiqBulkDelete: async ({ snapshotIds }) => (job.waitToEnd(), snapshotIds.map((id: string) => ({ snapshotId: id, success: true, message: 'deleted', taskStatus: 'Ok' }))),
  };
}

export function reaperStubs(job: VendorJob): Stubs {
  const orphan = { vendor: 'ovirt', kind: 'snapshot', endpoint: 'ovirt-sim', runId: 'gone-run', label: 'snapshot of web-01', order: 1 };
  return {
    reaperEndpointVendors: async ({ endpoints }) => Object.fromEntries(endpoints.map((e: string) => [e, 'ovirt'])),
    ovirtReaperFind: async () => [orphan],
    runStates: async () => ({ 'gone-run': { status: 'TERMINATED' } }),
    runSubjects: async () => [],
    ovirtReaperRemove: async () => void job.waitToEnd(),
  };
}

/** What the restore stubs made on the "engine" and wrote to the "repository", per run (workflow id). */
export interface RestoreWorld {
  disks: Map<string, { name: string; sourceDiskId: string; format: string; sparse: boolean; storageDomainId: string; attachedTo?: string; bootable?: boolean; sha256?: string }>;
  vms: Map<string, { name: string; cluster: string; status: 'down' | 'up' }>;
  /** VM attachments in the order they were made. */
  vmAttachments: Array<{ vmId: string; diskId: string; bootable: boolean }>;
  verifications: Array<{ by: string; ok: boolean; summary: string; workflowId: string }>;
}

export const RESTORE_BACKUP_DIR = `ovirt/web-01-${OVIRT_VM.slice(0, 8)}/20261201T020000-run00001`;
export const RESTORE_SHA = { d1: 'a'.repeat(64), d2: 'b'.repeat(64) } as const;

/** An OVF as the engine writes it (trimmed): disk2 is the one the VM boots from. */
const RESTORE_OVF = `<?xml version="1.0" encoding="UTF-8"?>
<ovf:Envelope xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1/" ovf:version="4.5.0.0">
  <References><File ovf:href="d1/i1" ovf:id="i1"/><File ovf:href="d2/i2" ovf:id="i2"/></References>
  <Section xsi:type="ovf:DiskSection_Type"><Info>List of Virtual Disks</Info>
    <Disk ovf:diskId="i1" ovf:fileRef="d1/i1" ovf:volume-format="COW" ovf:volume-type="Sparse" ovf:disk-alias="web-01_Disk1"/>
    <Disk ovf:diskId="i2" ovf:fileRef="d2/i2" ovf:volume-format="RAW" ovf:volume-type="Preallocated" ovf:disk-alias="web-01_Disk2" ovf:boot="true"/>
  </Section>
  <Content ovf:id="out" xsi:type="ovf:VirtualSystem_Type"><Name>web-01</Name></Content>
</ovf:Envelope>`;

/** The demo VM's backup as findBackup finds it: two disks, a qcow2 and a raw. */
export function restoreBackupFixture() {
  const images = [
    { diskId: 'd1', fileName: 'd1.qcow2', bytes: 1 << 20, sha256: RESTORE_SHA.d1, format: 'cow', provisionedSize: 1 << 20, name: 'web-01_Disk1' },
    { diskId: 'd2', fileName: 'd2.raw', bytes: 2 << 20, sha256: RESTORE_SHA.d2, format: 'raw', provisionedSize: 2 << 20, name: 'web-01_Disk2' },
  ];
  return {
    dir: RESTORE_BACKUP_DIR,
    ovf: RESTORE_OVF,
    images,
    verifications: [],
    manifest: {
      provider: 'ovirt',
      workflowId: `backup-ovirt-${OVIRT_VM}`,
      runId: 'run00001',
      endpoint: 'ovirt-sim',
      vm: { id: OVIRT_VM, name: 'web-01' },
      proxyVm: { id: OVIRT_PROXY, name: 'proxy' },
      snapshot: { id: 's1', description: 'backup', kept: false },
      config: { type: 'ovf', path: `${RESTORE_BACKUP_DIR}/vm-config.ovf`, bytes: RESTORE_OVF.length, sha256: 'c'.repeat(64) },
      disks: images.map((i) => ({
        id: i.diskId,
        name: i.name,
        format: i.format,
        provisionedSize: i.provisionedSize,
        path: `${RESTORE_BACKUP_DIR}/${i.fileName}`,
        bytes: i.bytes,
        sha256: i.sha256,
        device: '/dev/sdb',
        resumedFromOffset: 0,
        bytesReadFromDevice: i.bytes,
        attempts: 1,
      })),
      skippedDisks: [],
      repository: { dir: RESTORE_BACKUP_DIR },
      timings: [],
      startedAt: '2026-12-01T02:00:00.000Z',
      completedAt: '2026-12-01T02:10:00.000Z',
    },
  };
}

/**
 * The restore's engine-side and repository-side activities, answering as the real ones do when all
 * goes well, and keeping per run what exists, so a test asserts what a run left behind.
 */
export function ovirtRestoreStubs(): { stubs: Stubs; worldOf: (workflowId: string) => RestoreWorld } {
  const worlds = new Map<string, RestoreWorld>();
  const worldOf = (workflowId: string) => {
    let world = worlds.get(workflowId);
    if (!world) worlds.set(workflowId, (world = { disks: new Map(), vms: new Map(), vmAttachments: [], verifications: [] }));
    return world;
  };
  const here = () => worldOf(activityInfo().workflowExecution?.workflowId ?? '');
  const removeDisk = (w: RestoreWorld, id: string) => (w.disks.delete(id) ? [id] : []);
  const stubs: Stubs = {
    ovirtCheckEndpoint: async ({ endpoint }) => ({ endpoint, url: 'https://engine.example/ovirt-engine/api', apiVersion: 'v4' }),
    findBackup: async ({ backup }) => {
      if (backup !== 'latest' && backup !== RESTORE_BACKUP_DIR) throw ApplicationFailure.nonRetryable(`no backup ${backup} in the repository`, 'InvalidInput');
      return restoreBackupFixture();
    },
    recordVerification: async ({ verification }) => (here().verifications.push(verification), here().verifications),
    ovirtRestorePreflight: async ({ proxyVmId, cluster, disks }) => ({
      proxyVm: { id: proxyVmId, name: 'proxy' },
      ...(cluster ? { cluster: { id: 'cluster-1', name: cluster } } : {}),
      placements: disks.map((d: { sourceDiskId: string }) => ({ sourceDiskId: d.sourceDiskId, storageDomainId: 'sd-1', storageDomainName: 'data' })),
    }),
    ovirtCreateRestoreDisk: async ({ sourceDiskId, name, format, sparse, storageDomainId }) => {
      const diskId = `r-${sourceDiskId}`;
      here().disks.set(diskId, { name, sourceDiskId, format, sparse, storageDomainId });
      return { diskId, adopted: false };
    },
    ovirtWaitDiskReady: async () => ({ status: 'ok' }),
    ovirtAttachDisk: async ({ vmId, diskId, bootable }) => {
      const w = here();
      const disk = w.disks.get(diskId);
      if (!disk) throw ApplicationFailure.nonRetryable(`no disk ${diskId}`, 'VendorNotFoundError');
      Object.assign(disk, { attachedTo: vmId, bootable });
      if (vmId !== OVIRT_PROXY) w.vmAttachments.push({ vmId, diskId, bootable });
      return { attachmentId: diskId, diskId, logicalName: `/dev/disk/by-id/virtio-${diskId}`, active: true, adopted: false };
    },
    ovirtDetachDisk: async ({ diskId }) => {
      const disk = here().disks.get(diskId);
      const alreadyDetached = !disk?.attachedTo;
      if (disk) delete disk.attachedTo;
      return { alreadyDetached };
    },
    writeImageToDevice: async ({ diskId, expectedBytes, expectedSha256 }) => {
      const disk = here().disks.get(diskId);
      if (disk) disk.sha256 = expectedSha256;
      return { device: `/dev/disk/by-id/virtio-${diskId}`, bytes: expectedBytes, sha256: expectedSha256, resumedFromOffset: 0, attempt: 1 };
    },
    hashDevice: async ({ diskId, expectedBytes }) => ({ device: `/dev/disk/by-id/virtio-${diskId}`, bytes: expectedBytes, sha256: here().disks.get(diskId)?.sha256 ?? '0'.repeat(64) }),
    ovirtCreateVmFromOvf: async ({ name, cluster }) => {
      here().vms.set('vm-new', { name, cluster, status: 'down' });
      return { vmId: 'vm-new', adopted: false };
    },
    ovirtWaitVmStatus: async ({ want }) => ({ status: want }),
    ovirtStartVm: async ({ vmId }) => {
      const vm = here().vms.get(vmId);
      if (vm) vm.status = 'up';
      return { alreadyUp: false };
    },
    ovirtDeleteRestoredVm: async ({ vmId }) => {
      const w = here();
      const ids = vmId ? [vmId] : [...w.vms.keys()];
      const deleted = ids.filter((id) => w.vms.delete(id));
      // The VM goes with its disks (detach_only=false).
      for (const [id, disk] of w.disks) if (disk.attachedTo && deleted.includes(disk.attachedTo)) deleted.push(...removeDisk(w, id));
      return { deleted };
    },
    ovirtDeleteRestoredDisks: async ({ diskIds }) => {
      const w = here();
      return { deleted: (diskIds ?? [...w.disks.keys()]).flatMap((id: string) => removeDisk(w, id)) };
    },
  };
  return { stubs, worldOf };
}
