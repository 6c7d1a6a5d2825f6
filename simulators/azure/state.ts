/**
 * State of the Azure Backup simulator: one subscription with a Recovery Services vault, its
 * policies, VMs (discovered by a container refresh), protected items, recovery points, jobs that
 * move through their tasks on the simulator's clock, and async operations. Time-driven changes are
 * applied lazily by `tick()` at the start of every request, so there are no timers to leak.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { SimClock } from '../framework/clock';
import { SimState } from '../framework/state';

export interface AzureSimOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  subscriptionId: string;
  resourceGroup: string;
  vaultName: string;
  location: string;
  tokenTtlSeconds: number;
  /** How long an async operation (refresh, protect, trigger, provision, revoke, cancel) runs. */
  asyncMs: number;
  /** Retry-After (seconds) sent with 202 answers and operation polls. */
  retryAfterSeconds: number;
  /** 'both' sends Location and Azure-AsyncOperation; 'location-only' leaves the latter out. */
  asyncHeaders: 'both' | 'location-only';
  /** Duration of each backup job task: Take Snapshot, Transfer data to vault. */
  backupTaskMs: [number, number];
  /** Duration of the restore job's task. */
  restoreTaskMs: number;
  /** Time a job spends in Cancelling. */
  cancelMs: number;
}

export const AZURE_DEMO = {
  tenantId: '72f988bf-0000-4000-8000-0000000000aa',
  clientId: 'b0a1c2d3-0000-4000-8000-0000000000bb',
  subscriptionId: '5a1e0c2b-0000-4000-8000-000000000001',
  resourceGroup: 'backup-rg',
  vaultName: 'backup-vault',
  location: 'westeurope',
  vmResourceGroup: 'prod-rg',
  unprotectedVm: 'web-01',
  protectedVm: 'db-01',
  otherVm: 'app-02',
  restoreResourceGroup: 'restore-rg',
  storageAccount: 'restorestaging',
  vnet: 'prod-vnet',
  subnet: 'default',
} as const;

export const DEFAULT_OPTIONS: AzureSimOptions = {
  tenantId: AZURE_DEMO.tenantId,
  clientId: AZURE_DEMO.clientId,
  clientSecret: 'azure-sim-client-secret',
  subscriptionId: AZURE_DEMO.subscriptionId,
  resourceGroup: AZURE_DEMO.resourceGroup,
  vaultName: AZURE_DEMO.vaultName,
  location: AZURE_DEMO.location,
  tokenTtlSeconds: 3600,
  asyncMs: 1000,
  retryAfterSeconds: 1,
  asyncHeaders: 'both',
  backupTaskMs: [3000, 5000],
  restoreTaskMs: 5000,
  cancelMs: 1000,
};

export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SimVm {
  name: string;
  resourceGroup: string;
  osType: 'Windows' | 'Linux';
  size: string;
  /** Seen by a container refresh (what makes it a protectable item). */
  discovered: boolean;
  restoredFrom?: string;
}

export interface SimRecoveryPoint {
  name: string;
  time: string;
  expiry?: string;
  ilr?: { password: string; suffix: string; active: boolean };
}

export interface SimProtectedItem {
  vm: SimVm;
  policyName: string;
  state: 'IRPending' | 'Protected';
  lastBackupStatus?: string;
  lastBackupTime?: string;
  recoveryPoints: SimRecoveryPoint[];
}

export interface SimJob {
  id: string;
  operation: 'Backup' | 'Restore' | 'ConfigureBackup' | 'DeleteBackupData';
  entity: string;
  startedAt: number;
  tasks: Array<{ taskId: string; ms: number }>;
  cancelRequestedAt?: number;
  endedAt?: number;
  final?: 'Completed' | 'CompletedWithWarnings' | 'Failed' | 'Cancelled';
  /** Applied once, when the job completes. */
  onComplete?: () => void;
  propertyBag: Record<string, string>;
  /** Makes the job fail when it would complete (scripted). */
  failWith?: JobFailure;
}

/** The error a failed job reports. */
export interface JobFailure {
  code: number;
  title: string;
  message: string;
}

/** What a test can script: the next job of an operation fails with this error instead of completing. */
export type AzureOutcomes = Record<SimJob['operation'], JobFailure>;

export interface SimOperation {
  id: string;
  /** ARM path of the resource the operation belongs to (its operationResults/operationsStatus live below it). */
  base: string;
  kind: string;
  startedAt: number;
  doneAt: number;
  applied: boolean;
  effect?: () => void;
  /** operationsStatus properties once it succeeded. */
  extended?: () => Record<string, unknown> | undefined;
  /** Location body once done (200), else 204. */
  resultBody?: () => unknown;
  error?: { code: string; message: string };
}

export class AzureState extends SimState<AzureSimOptions & { clock?: SimClock }, AzureOutcomes> {
  readonly tokens = new Map<string, number>();
  vms = new Map<string, SimVm>();
  policies = new Map<string, { name: string; policyType: string }>();
  protectedItems = new Map<string, SimProtectedItem>();
  jobs = new Map<string, SimJob>();
  operations = new Map<string, SimOperation>();
  restoredDisks: Array<{ name: string; resourceGroup: string; fromVm: string; recoveryPoint: string }> = [];
  storageAccounts = new Set<string>();
  private rpSeq = 0;

  constructor(options: Partial<AzureSimOptions> & { clock?: SimClock } = {}) {
    super({ ...DEFAULT_OPTIONS, ...options });
  }

  protected restoreInventory(): void {
    this.vms.clear();
    this.policies.clear();
    this.protectedItems.clear();
    this.jobs.clear();
    this.operations.clear();
    this.restoredDisks = [];
    this.storageAccounts = new Set([`${AZURE_DEMO.restoreResourceGroup}/${AZURE_DEMO.storageAccount}`]);
    this.policies.set('DefaultPolicy', { name: 'DefaultPolicy', policyType: 'V1' });
    this.policies.set('EnhancedPolicy', { name: 'EnhancedPolicy', policyType: 'V2' });
    for (const [name, osType] of [
      [AZURE_DEMO.unprotectedVm, 'Linux'],
      [AZURE_DEMO.protectedVm, 'Windows'],
      [AZURE_DEMO.otherVm, 'Linux'],
    ] as const) {
      this.vms.set(vmKey(AZURE_DEMO.vmResourceGroup, name), { name, resourceGroup: AZURE_DEMO.vmResourceGroup, osType, size: 'Standard_D2s_v3', discovered: false });
    }
    // db-01 is protected already, with one recovery point from last night.
    const db = this.vms.get(vmKey(AZURE_DEMO.vmResourceGroup, AZURE_DEMO.protectedVm))!;
    db.discovered = true;
    const yesterday = new Date(this.now() - 20 * 3600_000).toISOString();
    this.protectedItems.set(itemName(db), {
      vm: db,
      policyName: 'DefaultPolicy',
      state: 'Protected',
      lastBackupStatus: 'Completed',
      lastBackupTime: yesterday,
      recoveryPoints: [{ name: this.nextRpName(), time: yesterday }],
    });
  }

  // --- naming ----------------------------------------------------------------------------------

  get vaultId(): string {
    const o = this.options;
    return `/subscriptions/${o.subscriptionId}/resourceGroups/${o.resourceGroup}/providers/Microsoft.RecoveryServices/vaults/${o.vaultName}`;
  }

  vmId(vm: SimVm): string {
    return `/subscriptions/${this.options.subscriptionId}/resourceGroups/${vm.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${vm.name}`;
  }

  nextRpName(): string {
    return String(this.now() * 1000 + ++this.rpSeq);
  }

  // --- clock -----------------------------------------------------------------------------------

  /** Applies everything whose time has come. */
  tick(now = this.now()): void {
    for (const op of this.operations.values()) {
      if (!op.applied && now >= op.doneAt) {
        op.applied = true;
        if (!op.error) op.effect?.();
      }
    }
    for (const job of this.jobs.values()) this.jobStatus(job, now);
  }

  /** The job's status now; completes (or fails, or cancels) it when its time is up. */
  jobStatus(job: SimJob, now = this.now()): 'InProgress' | 'Cancelling' | NonNullable<SimJob['final']> {
    if (job.final) return job.final;
    if (job.cancelRequestedAt !== undefined) {
      if (now < job.cancelRequestedAt + this.options.cancelMs) return 'Cancelling';
      job.final = 'Cancelled';
      job.endedAt = job.cancelRequestedAt + this.options.cancelMs;
      return job.final;
    }
    const total = job.tasks.reduce((n, t) => n + t.ms, 0);
    if (now < job.startedAt + total) return 'InProgress';
    job.endedAt = job.startedAt + total;
    if (job.failWith) {
      job.final = 'Failed';
      return job.final;
    }
    job.final = 'Completed';
    job.onComplete?.();
    return job.final;
  }

  startJob(operation: SimJob['operation'], entity: string, tasks: SimJob['tasks'], propertyBag: Record<string, string>, onComplete?: () => void): SimJob {
    const job: SimJob = {
      id: randomUUID(),
      operation,
      entity,
      startedAt: this.now(),
      tasks,
      propertyBag,
      onComplete,
      failWith: this.script.take(operation),
    };
    this.jobs.set(job.id, job);
    return job;
  }

  /** The VM's job of that kind (any, without one) that is still running or being cancelled. */
  runningJob(entity: string, operation?: SimJob['operation']): SimJob | undefined {
    return [...this.jobs.values()].find((j) => j.entity === entity && (!operation || j.operation === operation) && ['InProgress', 'Cancelling'].includes(this.jobStatus(j)));
  }

  /**
   * A Backup job of a protected item: Take Snapshot, then Transfer data to vault; when it completes
   * the item gains a recovery point. On-demand requests and the policy's schedule start the same kind of job.
   */
  startBackupJob(item: SimProtectedItem, expiry?: string): SimJob {
    const [snap, transfer] = this.options.backupTaskMs;
    return this.startJob(
      'Backup',
      item.vm.name,
      [
        { taskId: 'Take Snapshot', ms: snap },
        { taskId: 'Transfer data to vault', ms: transfer },
      ],
      {
        'VM Name': item.vm.name,
        'Backup Size': '1024 MB',
        ...(expiry ? { 'Recovery point Expiry Time in UTC': expiry } : {}),
      },
      () => {
        const time = new Date(this.now()).toISOString();
        item.recoveryPoints.push({ name: this.nextRpName(), time, expiry });
        item.state = 'Protected';
        item.lastBackupStatus = 'Completed';
        item.lastBackupTime = time;
      },
    );
  }

  /**
   * The vault's policy schedule starts a backup of a protected VM now (tests: a job no run of ours
   * started). Like the service, it does not start one while a backup of the VM is running.
   */
  startScheduledBackup(vmName: string): SimJob {
    this.tick();
    const item = [...this.protectedItems.values()].find((i) => i.vm.name.toLowerCase() === vmName.toLowerCase());
    if (!item) throw new Error(`VM ${vmName} is not protected: its policy schedules no backup`);
    const running = this.runningJob(item.vm.name, 'Backup');
    if (running) throw new Error(`VM ${vmName} already has backup job ${running.id} running: the scheduled backup is skipped`);
    return this.startBackupJob(item);
  }

  startOperation(base: string, kind: string, init: Partial<Pick<SimOperation, 'effect' | 'extended' | 'resultBody' | 'error'>> = {}): SimOperation {
    const now = this.now();
    const op: SimOperation = { id: randomUUID(), base, kind, startedAt: now, doneAt: now + this.options.asyncMs, applied: false, ...init };
    this.operations.set(op.id, op);
    return op;
  }

  // --- lookups ---------------------------------------------------------------------------------

  findVmByContainer(container: string): SimVm | undefined {
    const m = /^iaasvmcontainer;iaasvmcontainerv2;([^;]+);([^;]+)$/i.exec(container);
    return m ? this.vms.get(vmKey(m[1]!, m[2]!)) : undefined;
  }

  protectedItem(container: string, item: string): SimProtectedItem | undefined {
    const vm = this.findVmByContainer(container);
    if (!vm || item.toLowerCase() !== itemName(vm).toLowerCase()) return undefined;
    return this.protectedItems.get(itemName(vm));
  }

  vmByResourceId(id: string): SimVm | undefined {
    const m = /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i.exec(id);
    return m ? this.vms.get(vmKey(m[1]!, m[2]!)) : undefined;
  }

  /** Recovery points with an item-level-recovery session open (the tests' "nothing left behind"). */
  activeIlrSessions(): Array<{ vm: string; recoveryPoint: string }> {
    this.tick();
    const out: Array<{ vm: string; recoveryPoint: string }> = [];
    for (const item of this.protectedItems.values()) for (const rp of item.recoveryPoints) if (rp.ilr?.active) out.push({ vm: item.vm.name, recoveryPoint: rp.name });
    return out;
  }

  /** Builds an ILR script name suffix carrying a fresh password the way the service does. */
  newIlrSecret(vm: SimVm, rp: SimRecoveryPoint): { password: string; suffix: string } {
    const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
    const password = Array.from(randomBytes(15), (b) => alphabet[b % alphabet.length]).join('');
    // The password is the 15 characters starting 33 after the last "_" (32 hex characters, then it).
    const suffix = `${vm.name}_${this.options.location}_${rp.name}_${randomBytes(16).toString('hex')}${password}${randomBytes(4).toString('hex')}`;
    return { password, suffix };
  }
}

export function vmKey(resourceGroup: string, name: string): string {
  return `${resourceGroup.toLowerCase()}/${name.toLowerCase()}`;
}

export function containerName(vm: Pick<SimVm, 'name' | 'resourceGroup'>): string {
  return `IaasVMContainer;iaasvmcontainerv2;${vm.resourceGroup};${vm.name}`;
}

export function itemName(vm: Pick<SimVm, 'name' | 'resourceGroup'>): string {
  return `VM;iaasvmcontainerv2;${vm.resourceGroup};${vm.name}`;
}

export function isoDuration(ms: number): string {
  return `PT${(ms / 1000).toFixed(2).replace(/\.?0+$/, '')}S`;
}
