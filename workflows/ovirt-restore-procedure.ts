/**
 * The steps of the engine's "Restoring a Virtual Machine", shared by `ovirtRestore` and
 * `ovirtRestoreDrill`: each step is a method that enters its progress step, registers the undo of
 * what it creates BEFORE the create (a create whose reply was lost is still found, by the run's tag,
 * and removed), and keeps what it made for the next step.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import { ErrorTypes } from '../lib/errors';
import type { OvirtActivities } from '../activities/ovirt/activities';
import type { OvirtRestoreActivities, RestorePreflightResult } from '../activities/ovirt/restore-types';
import type { FoundBackup, RepositoryActivities } from '../activities/copy/restore-types';
import type { OvirtRestoreCommon } from '../contracts/ovirt/restore-input';
import type { OvirtRestoredDisk, OvirtRestoreSource } from '../contracts/ovirt/results';
import { copyTaskQueueFor, repositoryFilesTaskQueueFor } from '../lib/temporal/task-queues';
import { forwardCreate, quickCall, undoStep, waitUpTo } from './shared/activity-options';
import { vendorRetry } from './shared/retry-policies';
import { invalidInput } from './shared/validate-input';
import type { WorkflowRun } from './shared/workflow-run';
import { mismatchMessage, planDisks, restoredDiskName, type DiskPlan } from './ovirt-restore-plan';

type EngineActivities = Pick<OvirtActivities, 'ovirtCheckEndpoint' | 'ovirtDetachDisk'> & OvirtRestoreActivities;

// On cancellation a create or an attach is let finish before compensation starts (forwardCreate),
// so an object that lands after the undo ran cannot be left behind.
const engine = proxyActivities<EngineActivities>(forwardCreate(quickCall));
const engineUndo = proxyActivities<EngineActivities>(undoStep);
const engineWait = (ms: number) => proxyActivities<EngineActivities>(forwardCreate(waitUpTo(ms)));

function repository(copyQueue: string) {
  // On the proxy's copy worker: it may be busy a while before it takes the task, and a write is worth more attempts.
  const common = { taskQueue: copyQueue, scheduleToStartTimeout: '10 minutes', retry: { ...vendorRetry, maximumAttempts: 10 } } as const;
  // Waits for a write or a read to stop when cancelled: a disk is not detached from under it.
  const onDevice = proxyActivities<RepositoryActivities>({ ...waitUpTo(12 * 60 * 60_000, { heartbeatTimeout: '10 seconds', waitForCancel: true }), ...common });
  // The manifest's reads and writes are small: the files queue, where they do not wait for a copy slot.
  const files = proxyActivities<RepositoryActivities>({ ...quickCall, ...common, taskQueue: repositoryFilesTaskQueueFor(copyQueue) });
  return { findBackup: files.findBackup, recordVerification: files.recordVerification, writeImageToDevice: onDevice.writeImageToDevice, hashDevice: onDevice.hashDevice };
}

/** One restored disk as the run goes: made, attached to the proxy, written. */
interface RestoredDisk {
  plan: DiskPlan;
  name: string;
  storageDomainId: string;
  diskId: string;
  logicalName?: string;
  sha256?: string;
  readBackSha256?: string;
  forgetDelete: () => void;
  forgetDetach?: () => void;
}

export class OvirtRestoreProcedure {
  readonly repository: ReturnType<typeof repository>;
  private found?: FoundBackup;
  private plan: DiskPlan[] = [];
  private pre?: RestorePreflightResult;
  private targetName = '';
  private readonly disks: RestoredDisk[] = [];
  private vm?: { id: string; forget: () => void };

  constructor(
    private readonly run: WorkflowRun<OvirtRestoreCommon>,
    private readonly workflowType: string,
  ) {
    this.repository = repository(run.input.copyTaskQueue ?? copyTaskQueueFor(run.input.proxyVmId));
  }

  private get input(): OvirtRestoreCommon {
    return this.run.input;
  }

  /**
   * 2. The backup (manifest, images present at their sizes, OVF) and the disks asked for, then the
   * engine: the proxy, a free target name, the cluster, room on the storage domains. Nothing is
   * created yet; every refusal is a one-line InvalidInput. `name` gets the source VM's name.
   */
  async preflight(name: (sourceVmName: string) => string): Promise<FoundBackup> {
    const { endpoint, backup, vmId, proxyVmId, diskIds, disksOnly } = this.input;
    this.run.progress.enter('preflight');
    await engine.ovirtCheckEndpoint({ endpoint });
    // An incremental chain's point is found with every link checked; disksOnly lets one without an OVF do.
    const found = await this.repository.findBackup({ backup, vmId, ...(disksOnly ? { disksOnly } : {}) });
    const planned = planDisks(found, diskIds);
    if ('unknown' in planned) {
      throw invalidInput(this.workflowType, [`diskIds: ${planned.unknown.join(', ')} not in backup ${found.dir} (it holds ${found.images.map((i) => i.diskId).join(', ')})`]);
    }
    this.found = found;
    this.plan = planned.plan;
    this.targetName = name(found.manifest.vm.name);
    this.run.progress.about(`backup ${found.dir} of VM ${found.manifest.vm.name} → ${disksOnly ? 'disks' : 'VM'} ${this.targetName} on ${endpoint}`);
    this.pre = await engine.ovirtRestorePreflight({
      endpoint,
      proxyVmId,
      targetVmName: disksOnly ? undefined : this.targetName,
      cluster: disksOnly ? undefined : this.input.cluster,
      storageDomain: this.input.storageDomain,
      disks: this.plan.map((d) => ({ sourceDiskId: d.sourceDiskId, provisionedSize: d.provisionedSize })),
    });
    this.run.progress.update({ disksTotal: this.plan.length, bytesTotal: this.plan.reduce((n, d) => n + d.bytes, 0) });
    return found;
  }

  get target(): string {
    return this.targetName;
  }

  /** 3. A floating disk per backed-up disk (format and allocation as backed up), each waited for until `ok`. */
  async createDisks(): Promise<void> {
    const { endpoint, pollIntervalMs, diskReadyTimeoutSeconds } = this.input;
    const { runId } = this.run;
    this.run.progress.enter('disks');
    for (const plan of this.plan) {
      const name = restoredDiskName(this.targetName, this.found!.manifest.vm.name, plan.sourceName);
      const storageDomainId = this.pre!.placements.find((p) => p.sourceDiskId === plan.sourceDiskId)!.storageDomainId;
      // Until the create answers, the disk is known only by the run's tag: the undo then removes every disk the run made.
      const made: { diskId?: string } = {};
      const forgetDelete = this.run.undo(`delete restored disk ${name}`, () =>
        engineUndo.ovirtDeleteRestoredDisks({ endpoint, runId, diskIds: made.diskId ? [made.diskId] : undefined, pollMs: pollIntervalMs }),
      );
      const { diskId } = await engine.ovirtCreateRestoreDisk({
        endpoint,
        runId,
        sourceDiskId: plan.sourceDiskId,
        name,
        provisionedSize: plan.provisionedSize,
        format: plan.format,
        sparse: plan.sparse,
        storageDomainId,
      });
      made.diskId = diskId;
      this.disks.push({ plan, name, storageDomainId, diskId, forgetDelete });
      await engineWait(diskReadyTimeoutSeconds * 1000).ovirtWaitDiskReady({ endpoint, diskId, deadline: Date.now() + diskReadyTimeoutSeconds * 1000, pollMs: pollIntervalMs });
    }
  }

  /** 4. Each new disk attached to the proxy VM, active, where the copy worker sees its device. */
  async attachToProxy(): Promise<void> {
    const { endpoint, proxyVmId } = this.input;
    this.run.progress.enter('attach');
    for (const disk of this.disks) {
      disk.forgetDetach = this.run.undo(`detach restored disk ${disk.name} from ${this.pre!.proxyVm.name}`, () => engineUndo.ovirtDetachDisk({ endpoint, proxyVmId, diskId: disk.diskId }));
      const attachment = await engine.ovirtAttachDisk({ endpoint, vmId: proxyVmId, diskId: disk.diskId, bootable: false });
      disk.logicalName = attachment.logicalName;
    }
  }

  /** 5. Each image written from the repository to its disk's device, its SHA-256 compared with the manifest's. */
  async writeImages(): Promise<void> {
    const { progress } = this.run;
    progress.enter('write');
    let bytesCopied = 0;
    for (const [n, disk] of this.disks.entries()) {
      const { plan } = disk;
      const written = await this.repository.writeImageToDevice({
        dir: this.found!.dir,
        fileName: plan.fileName,
        diskId: disk.diskId,
        logicalName: disk.logicalName,
        expectedBytes: plan.bytes,
        expectedSha256: plan.sha256,
      });
      // The copy worker compares too; a result that still differs must not pass as restored.
      if (written.sha256 !== plan.sha256) throw hashMismatch(mismatchMessage(`${this.found!.dir}/${plan.fileName} written to disk ${disk.name}`, written.sha256, plan.sha256));
      disk.sha256 = written.sha256;
      bytesCopied += written.bytes;
      progress.update({ disksDone: n + 1, bytesCopied });
      progress.stepPercent((100 * bytesCopied) / Math.max(1, progress.current.bytesTotal));
    }
  }

  /** The drill's proof: each disk read back through the proxy; the first that differs from the manifest, in one sentence. */
  async readBack(): Promise<string | undefined> {
    this.run.progress.enter('read-back');
    for (const disk of this.disks) {
      const read = await this.repository.hashDevice({ diskId: disk.diskId, logicalName: disk.logicalName, expectedBytes: disk.plan.bytes });
      disk.readBackSha256 = read.sha256;
      if (read.sha256 !== disk.plan.sha256) return mismatchMessage(`disk ${disk.plan.sourceName} (${disk.plan.sourceDiskId}) read back as restored disk ${disk.name}`, read.sha256, disk.plan.sha256);
    }
    return undefined;
  }

  /** 6. The disks detached from the proxy (and their undo forgotten: nothing is attached there any more). */
  async detachFromProxy(): Promise<void> {
    const { endpoint, proxyVmId } = this.input;
    this.run.progress.enter('detach');
    for (const disk of this.disks) {
      await engine.ovirtDetachDisk({ endpoint, proxyVmId, diskId: disk.diskId });
      disk.forgetDetach?.();
      disk.forgetDetach = undefined;
    }
  }

  /** 7. The VM from the backed-up OVF, with the target name and cluster, waited for until down and unlocked. */
  async createVm(): Promise<void> {
    const { endpoint, pollIntervalMs, vmReadyTimeoutSeconds } = this.input;
    const { runId } = this.run;
    this.run.progress.enter('vm');
    const made: { vmId?: string } = {};
    const forget = this.run.undo(`delete restored VM ${this.targetName}`, () => engineUndo.ovirtDeleteRestoredVm({ endpoint, runId, vmId: made.vmId, pollMs: pollIntervalMs }));
    const cluster = this.pre!.cluster?.id ?? this.input.cluster!;
    const { vmId } = await engine.ovirtCreateVmFromOvf({ endpoint, runId, name: this.targetName, cluster, ovf: this.found!.ovf });
    made.vmId = vmId;
    this.vm = { id: vmId, forget };
    await engineWait(vmReadyTimeoutSeconds * 1000).ovirtWaitVmStatus({ endpoint, vmId, want: 'down', deadline: Date.now() + vmReadyTimeoutSeconds * 1000, pollMs: pollIntervalMs });
  }

  /** 8. The disks attached to the new VM, the boot disk first (as in the OVF). Removing the VM removes them with it. */
  async attachToVm(): Promise<void> {
    const { endpoint } = this.input;
    this.run.progress.enter('attach-vm');
    const bootFirst = [...this.disks.filter((d) => d.plan.bootable), ...this.disks.filter((d) => !d.plan.bootable)];
    for (const disk of bootFirst) await engine.ovirtAttachDisk({ endpoint, vmId: this.vm!.id, diskId: disk.diskId, bootable: disk.plan.bootable });
  }

  /** The drill's boot: start the new VM and wait until it is up. */
  async boot(timeoutSeconds: number): Promise<void> {
    const { endpoint, pollIntervalMs } = this.input;
    this.run.progress.enter('boot');
    await engine.ovirtStartVm({ endpoint, vmId: this.vm!.id });
    await engineWait(timeoutSeconds * 1000).ovirtWaitVmStatus({ endpoint, vmId: this.vm!.id, want: 'up', deadline: Date.now() + timeoutSeconds * 1000, pollMs: pollIntervalMs });
  }

  /** A restore's success: what it made stays (its undos are forgotten). */
  keep(): void {
    this.vm?.forget();
    for (const disk of this.disks) {
      disk.forgetDetach?.();
      disk.forgetDelete();
    }
  }

  source(): OvirtRestoreSource {
    const { dir, manifest } = this.found!;
    return { dir, workflowId: manifest.workflowId, vm: manifest.vm, completedAt: manifest.completedAt };
  }

  get vmId(): string | undefined {
    return this.vm?.id;
  }

  get newVm(): { id: string; name: string; cluster: { id: string; name: string } } | undefined {
    if (!this.vm) return undefined;
    const cluster = this.pre!.cluster ?? { id: this.input.cluster!, name: this.input.cluster! };
    return { id: this.vm.id, name: this.targetName, cluster };
  }

  restoredDisks(): Array<OvirtRestoredDisk & { readBackSha256?: string }> {
    return this.disks.map((d) => ({
      sourceDiskId: d.plan.sourceDiskId,
      diskId: d.diskId,
      name: d.name,
      storageDomainId: d.storageDomainId,
      bytes: d.plan.bytes,
      sha256: d.sha256!,
      manifestSha256: d.plan.sha256,
      matched: true,
      bootable: !!this.vm && d.plan.bootable,
      ...(d.readBackSha256 ? { readBackSha256: d.readBackSha256 } : {}),
    }));
  }
}

function hashMismatch(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, ErrorTypes.hashMismatch);
}

/** The message of a hash mismatch the copy worker (or this workflow) found, else undefined. */
export function hashMismatchOf(err: unknown): string | undefined {
  const failure = err instanceof ActivityFailure ? err.cause : err;
  return failure instanceof ApplicationFailure && failure.type === ErrorTypes.hashMismatch ? failure.message : undefined;
}
