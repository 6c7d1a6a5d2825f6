/**
 * Stubbed activities for workflow tests and bench (c) on the time-skipping server: each stub answers
 * as its real activity would when all goes well, with the vendor job's length played by a
 * VendorJob (see bench/long-job-events.ts for how a stub stretches a job). Tests script failures,
 * hangs and slow undos on top of these (test/workflows/stub-worker.ts).
 */
import { activityInfo } from '@temporalio/activity';
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
    ovirtDetachDisk: async () => ({ alreadyDetached: false }),
    ovirtDeleteSnapshot: async () => ({ deleted: ['s1'] }),
    ovirtPruneSnapshots: async () => ({ kept: ['s1'], deleted: [] }),
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
