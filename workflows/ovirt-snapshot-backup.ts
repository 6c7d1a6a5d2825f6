/**
 * oVirt/RHV "Backing Up a Virtual Machine": snapshot → config → disks → attach → copy → detach →
 * delete, with every vendor change undone on failure or cancellation.
 */
import { ActivityCancellationType, ApplicationFailure, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { OvirtActivities } from '../activities/ovirt/activities';
import type { CopyActivities } from '../activities/copy/activities';
import { copyTaskQueueFor, repositoryFilesTaskQueueFor } from '../lib/temporal/task-queues';
import { ovirtSnapshotBackupInput } from '../contracts/ovirt/input';
import type { OvirtBackupManifest } from '../contracts/ovirt/results';
import { OVIRT_BACKUP_STEPS } from '../contracts/ovirt/steps';
import { ProgressTracker } from './shared/progress';
import { failRun } from './shared/fail-run';
import { Saga } from './shared/saga';
import { forwardCreate } from './shared/activity-options';
import { parseWorkflowInput } from './shared/validate-input';
import { vendorRetry, undoRetry } from './shared/retry-policies';
import { tagRun } from './shared/tag-run';

// On cancellation a forward call (a create, an attach) is let finish before compensation starts
// (forwardCreate), so a snapshot or an attach that lands after the undo ran cannot be left behind.
const ovirt = proxyActivities<OvirtActivities>(forwardCreate({ startToCloseTimeout: '2 minutes' }));
const ovirtUndo = proxyActivities<OvirtActivities>({ startToCloseTimeout: '15 minutes', heartbeatTimeout: '1 minute', retry: undoRetry });
// The forward snapshot delete is waited for the same way, so the undo's delete never races it.
const ovirtRemove = proxyActivities<OvirtActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry: vendorRetry,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

function copyActivities(taskQueue: string) {
  const common = { taskQueue, scheduleToStartTimeout: '10 minutes', retry: { ...vendorRetry, maximumAttempts: 10 } } as const;
  // The config and the manifest go to the copy worker's files queue, where they do not wait for a
  // copy slot; runs started before that queue existed keep theirs on the copy queue (replay).
  // deprecatePatch once no ovirtSnapshotBackup run started before this patch can be open.
  const filesQueue = patched('repository-files-queue') ? repositoryFilesTaskQueueFor(taskQueue) : taskQueue;
  return {
    copy: proxyActivities<CopyActivities>({
      ...common,
      startToCloseTimeout: '12 hours',
      heartbeatTimeout: '10 seconds',
      // Detaching a disk that is still being read would fail the read in confusing ways.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    }).copyDisk,
    writeFile: proxyActivities<CopyActivities>({ ...common, taskQueue: filesQueue, startToCloseTimeout: '2 minutes' }).writeBackupFile,
  };
}

export async function ovirtSnapshotBackup(rawInput: unknown): Promise<OvirtBackupManifest> {
  const progress = new ProgressTracker('ovirtSnapshotBackup', OVIRT_BACKUP_STEPS);
  const input = parseWorkflowInput('ovirtSnapshotBackup', ovirtSnapshotBackupInput, rawInput);
  const { workflowId, runId } = workflowInfo();
  const startedAt = new Date().toISOString();
  tagRun('ovirt', input.vmId);
  progress.about(`VM ${input.vmId} on ${input.endpoint}`);
  const copyQueue = input.copyTaskQueue ?? copyTaskQueueFor(input.proxyVmId);
  const proxy = copyActivities(copyQueue);
  const { endpoint, vmId, proxyVmId } = input;
  const saga = new Saga({ onAttention: (leftovers) => progress.needsAttention(leftovers) });

  try {
    progress.enter('preflight');
    await ovirt.ovirtCheckEndpoint({ endpoint });
    const pre = await ovirt.ovirtPreflight({ endpoint, vmId, proxyVmId, diskIds: input.diskIds });
    progress.about(`VM ${pre.vm.name} (${vmId}) on ${endpoint}`);
    const backupDir = `ovirt/${safeName(pre.vm.name)}-${vmId.slice(0, 8)}/${startedAt.replace(/[:.]/g, '').slice(0, 15)}-${runId.slice(0, 8)}`;

    progress.enter('snapshot');
    // Registered before the create: a create whose reply was lost is still found (by its tag) and removed.
    const forgetSnapshot = saga.add(`delete snapshot of VM ${pre.vm.name}`, () =>
      ovirtUndo.ovirtDeleteSnapshot({ endpoint, vmId, runId, pollMs: input.pollIntervalMs }),
    );
    const { snapshotId } = await ovirt.ovirtCreateSnapshot({ endpoint, vmId, runId, description: input.description, diskIds: pre.eligibleDiskIds, keep: input.keepSnapshot });
    await proxyActivities<OvirtActivities>(
      forwardCreate({ startToCloseTimeout: (input.snapshotReadyTimeoutSeconds + 120) * 1000, heartbeatTimeout: '1 minute' }),
    ).ovirtWaitSnapshotReady({ endpoint, vmId, snapshotId, deadline: Date.now() + input.snapshotReadyTimeoutSeconds * 1000, pollMs: input.pollIntervalMs });

    progress.enter('config');
    const ovf = await ovirt.ovirtGetSnapshotConfig({ endpoint, vmId, snapshotId });
    const configFile = await proxy.writeFile({ dir: backupDir, fileName: 'vm-config.ovf', content: ovf.data });

    progress.enter('disks');
    const snapshotDisks = (await ovirt.ovirtListSnapshotDisks({ endpoint, vmId, snapshotId })).filter((d) => pre.eligibleDiskIds.includes(d.id));
    if (!snapshotDisks.length) throw ApplicationFailure.nonRetryable(`snapshot ${snapshotId} lists none of the disks it was asked to include`, 'SnapshotHasNoDisks');
    progress.update({ disksTotal: snapshotDisks.length, bytesTotal: snapshotDisks.reduce((n, d) => n + (d.provisionedSize ?? 0), 0) });

    progress.enter('attach');
    const attached: Array<{ diskId: string; attachmentId: string; logicalName?: string; forget: () => void }> = [];
    for (const disk of snapshotDisks) {
      const forget = saga.add(`detach disk ${disk.name ?? disk.id} from ${pre.proxyVm.name}`, () =>
        ovirtUndo.ovirtDetachDisk({ endpoint, proxyVmId, diskId: disk.id }),
      );
      const attachment = await ovirt.ovirtAttachSnapshotDisk({ endpoint, proxyVmId, diskId: disk.id, snapshotId });
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
      });
      const { attempt, ...copy } = result;
      copies.push({ id: disk.id, name: disk.name, format: disk.format, provisionedSize: disk.provisionedSize, ...copy, attempts: attempt });
      progress.update({ disksDone: copies.length, bytesCopied: copies.reduce((n, c) => n + c.bytes, 0) });
    }

    progress.enter('detach');
    for (const a of attached) {
      await ovirt.ovirtDetachDisk({ endpoint, proxyVmId, diskId: a.diskId });
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
      timings: progress.current.timings,
      startedAt,
      completedAt: new Date().toISOString(),
    };
    const written = await proxy.writeFile({ dir: backupDir, fileName: 'manifest.json', content: JSON.stringify(manifest, null, 2) });
    return { ...manifest, repository: { dir: backupDir, manifestPath: written.path } };
  } catch (err) {
    return failRun(progress, saga, err);
  }
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 64) || 'vm';
}
