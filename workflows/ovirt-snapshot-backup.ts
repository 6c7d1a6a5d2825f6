/**
 * oVirt/RHV "Backing Up a Virtual Machine": snapshot → config → disks → attach → copy → detach →
 * delete, with every vendor change undone on failure or cancellation.
 */
import { ApplicationFailure, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import { ErrorTypes } from '../lib/errors';
import type { OvirtActivities, SkippedDisk } from '../activities/ovirt/activities';
import type { CopyActivities } from '../activities/copy/activities';
import type { CopyDiskResult } from '../activities/copy/copy-disk';
import { runIdTail } from '../lib/temporal/run-tag';
import { copyTaskQueueFor, repositoryFilesTaskQueueFor } from '../lib/temporal/task-queues';
import { ovirtSnapshotBackupInput } from '../contracts/ovirt/input';
import { forwardCreate, quickCall, undoStep, waitUpTo } from './shared/activity-options';
import { vendorRetry } from './shared/retry-policies';
import { openRun } from './shared/workflow-run';
import type { OvirtBackupManifest } from '../contracts/ovirt/results';
import { OVIRT_BACKUP_STEPS } from '../contracts/ovirt/steps';
import { backupFolder } from '../contracts/ovirt/backup-folder';

// On cancellation a forward call (a create, an attach) is let finish before compensation starts
// (forwardCreate), so a snapshot or an attach that lands after the undo ran cannot be left behind.
const ovirt = proxyActivities<OvirtActivities>(forwardCreate(quickCall));
const ovirtUndo = proxyActivities<OvirtActivities>(undoStep);
// The forward snapshot delete is waited for the same way, so the undo's delete never races it.
const ovirtRemove = proxyActivities<OvirtActivities>(waitUpTo(13 * 60_000, { waitForCancel: true }));
// The quick engine calls (endpoint check, preflight, OVF, disk list, attach, detach) as local
// activities: on Temporal Cloud the local activities of one workflow task are one billable action,
// where each activity is one. Same timeouts, retries and cancel rule as `ovirt`.
const ovirtLocal = proxyLocalActivities<OvirtActivities>(forwardCreate(quickCall));

function copyActivities(taskQueue: string, fewerActions: boolean) {
  // On the proxy's copy worker: it may be busy a while before it takes the task, and a copy is worth more attempts.
  const common = { taskQueue, scheduleToStartTimeout: '10 minutes', retry: { ...vendorRetry, maximumAttempts: 10 } } as const;
  // The config and the manifest go to the copy worker's files queue, where they do not wait for a
  // copy slot; runs started before that queue existed keep theirs on the copy queue (replay).
  // deprecatePatch once no ovirtSnapshotBackup run started before that queue can be open.
  const filesQueue = fewerActions || patched('repository-files-queue') ? repositoryFilesTaskQueueFor(taskQueue) : taskQueue;
  return {
    // Waits for the copy to stop when cancelled: detaching a disk that is still being read would fail the read in confusing ways.
    copy: proxyActivities<CopyActivities>({ ...waitUpTo(12 * 60 * 60_000, { heartbeatTimeout: '10 seconds', waitForCancel: true }), ...common }).copyDisk,
    writeFile: proxyActivities<CopyActivities>({ ...quickCall, ...common, taskQueue: filesQueue }).writeBackupFile,
    repositoryPreflight: proxyActivities<CopyActivities>({ ...quickCall, ...common, taskQueue: filesQueue }).repositoryPreflight,
  };
}

export async function ovirtSnapshotBackup(rawInput: unknown): Promise<OvirtBackupManifest> {
  // ovirt-fewer-actions: a backup costs fewer billable actions on Temporal Cloud (docs/benchmarks.md,
  // "Cost on Temporal Cloud"): the quick engine calls run as local activities, and this one marker,
  // in the first workflow task, stands for the patches before it (repository-files-queue,
  // repository-preflight, restic-vm-tag, backup-folder-run-tail), whose markers were recorded in
  // two more workflow tasks (each task with markers is an action). Runs started before replay as
  // they ran. deprecatePatch once no ovirtSnapshotBackup run started before can be open.
  const fewerActions = patched('ovirt-fewer-actions');
  const engine = fewerActions ? ovirtLocal : ovirt;
  const run = openRun(
    {
      workflowType: 'ovirtSnapshotBackup',
      steps: OVIRT_BACKUP_STEPS,
      input: ovirtSnapshotBackupInput,
      about: (i) => `VM ${i.vmId} on ${i.endpoint}`,
      tag: (i) => ({ provider: 'ovirt', vmId: i.vmId }),
    },
    rawInput,
  );
  const { input, progress, workflowId, runId, startedAt } = run;
  const copyQueue = input.copyTaskQueue ?? copyTaskQueueFor(input.proxyVmId);
  const proxy = copyActivities(copyQueue, fewerActions);
  const { endpoint, vmId, proxyVmId } = input;

  return run.steps(async () => {
    progress.enter('preflight');
    await engine.ovirtCheckEndpoint({ endpoint });
    const pre = await engine.ovirtPreflight({ endpoint, vmId, proxyVmId, diskIds: input.diskIds });
    progress.about(`VM ${pre.vm.name} (${vmId}) on ${endpoint}`);
    // repository-preflight: the copy worker's repository (a directory or restic) is checked before the
    // snapshot is taken, so a missing repository, a wrong password or a live lock fails the run with
    // nothing to undo. Runs started before replay without it. deprecatePatch once none can be open.
    if (fewerActions || patched('repository-preflight')) await proxy.repositoryPreflight();
    // restic-vm-tag: the copy and the files carry the VM id, which tags their restic snapshots.
    // Runs started before replay without it. deprecatePatch once none can be open.
    const vmTag = fewerActions || patched('restic-vm-tag') ? { vmId } : {};
    // backup-folder-run-tail: the folder carried the run id's head, shared by the runs of a minute
    // (runIdTail), so a failed run's files overwrote a good backup made just before it. Runs started
    // before keep their folder on replay. deprecatePatch once no run started before can be open.
    const runTag = fewerActions || patched('backup-folder-run-tail') ? runIdTail(runId) : runId.slice(0, 8);
    const backupDir = backupFolder({ id: vmId, name: pre.vm.name }, startedAt, runTag);

    progress.enter('snapshot');
    // Registered before the create: a create whose reply was lost is still found (by its tag) and removed.
    const forgetSnapshot = run.undo(`delete snapshot of VM ${pre.vm.name}`, () => ovirtUndo.ovirtDeleteSnapshot({ endpoint, vmId, runId, pollMs: input.pollIntervalMs }));
    const { snapshotId } = await ovirt.ovirtCreateSnapshot({ endpoint, vmId, runId, description: input.description, diskIds: pre.eligibleDiskIds, keep: input.keepSnapshot });
    await proxyActivities<OvirtActivities>(forwardCreate(waitUpTo(input.snapshotReadyTimeoutSeconds * 1000))).ovirtWaitSnapshotReady({
      endpoint,
      vmId,
      snapshotId,
      deadline: Date.now() + input.snapshotReadyTimeoutSeconds * 1000,
      pollMs: input.pollIntervalMs,
    });

    progress.enter('config');
    const ovf = await engine.ovirtGetSnapshotConfig({ endpoint, vmId, snapshotId });
    const configFile = await proxy.writeFile({ dir: backupDir, fileName: 'vm-config.ovf', content: ovf.data, ...vmTag });

    progress.enter('disks');
    const snapshotDisks = (await engine.ovirtListSnapshotDisks({ endpoint, vmId, snapshotId })).filter((d) => pre.eligibleDiskIds.includes(d.id));
    if (!snapshotDisks.length) throw ApplicationFailure.nonRetryable(`snapshot ${snapshotId} lists none of the disks it was asked to include`, ErrorTypes.snapshotHasNoDisks);
    progress.update({ disksTotal: snapshotDisks.length, bytesTotal: snapshotDisks.reduce((n, d) => n + (d.provisionedSize ?? 0), 0) });

    progress.enter('attach');
    const attached: Array<{ diskId: string; attachmentId: string; logicalName?: string; forget: () => void }> = [];
    for (const disk of snapshotDisks) {
      const forget = run.undo(`detach disk ${disk.name ?? disk.id} from ${pre.proxyVm.name}`, () => ovirtUndo.ovirtDetachDisk({ endpoint, proxyVmId, diskId: disk.id }));
      const attachment = await engine.ovirtAttachSnapshotDisk({ endpoint, proxyVmId, diskId: disk.id, snapshotId });
      attached.push({ diskId: disk.id, attachmentId: attachment.attachmentId, logicalName: attachment.logicalName, forget });
    }

    progress.enter('copy');
    const copies: OvirtBackupManifest['disks'] = [];
    for (const disk of snapshotDisks) {
      const attachment = attached.find((a) => a.diskId === disk.id)!;
      const result = await proxy.copy({
        diskId: disk.id,
        logicalName: attachment.logicalName,
        expectedBytes: disk.provisionedSize,
        dir: backupDir,
        fileName: `${disk.id}.${disk.format === 'cow' ? 'qcow2' : 'raw'}`,
        ...vmTag,
      });
      const { attempt, ...copy } = result;
      copies.push({ id: disk.id, name: disk.name, format: disk.format, provisionedSize: disk.provisionedSize, ...copy, attempts: attempt });
      progress.update({ disksDone: copies.length, bytesCopied: copies.reduce((n, c) => n + c.bytes, 0) });
    }

    progress.enter('detach');
    for (const a of attached) {
      await engine.ovirtDetachDisk({ endpoint, proxyVmId, diskId: a.diskId });
      a.forget();
    }

    progress.enter('delete');
    if (!input.keepSnapshot) {
      await ovirtRemove.ovirtDeleteSnapshot({ endpoint, vmId, runId, snapshotId, pollMs: input.pollIntervalMs });
    }
    forgetSnapshot();

    progress.finish('completed');
    const manifest: OvirtBackupManifest = {
      provider: 'ovirt',
      workflowId,
      runId,
      endpoint,
      vm: pre.vm,
      proxyVm: pre.proxyVm,
      snapshot: { id: snapshotId, description: input.description, kept: input.keepSnapshot },
      config: { type: ovf.type, path: configFile.path, bytes: configFile.bytes, sha256: configFile.sha256 },
      disks: copies,
      skippedDisks: pre.skippedDisks,
      repository: { dir: backupDir },
      ...run.times(),
    };
    const written = await proxy.writeFile({ dir: backupDir, fileName: 'manifest.json', content: JSON.stringify(manifest, null, 2), ...vmTag });
    return { ...manifest, repository: { dir: backupDir, manifestPath: written.path } };
  });
}
