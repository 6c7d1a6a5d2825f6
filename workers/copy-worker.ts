/**
 * Entry point of the copy worker, which runs on the backup-proxy VM: it reads attached disks and
 * writes the repository. Its queue is backup-copy-<proxy VM id> unless COPY_TASK_QUEUE says otherwise.
 */
import { NativeConnection } from '@temporalio/worker';
import { copySettingsFromEnv } from '../activities/copy/activities';
import { connectionOptions, describeWorkerSettings, loadWorkerSettings } from '../lib/config/worker-settings';
import { installRuntime } from '../lib/metrics/runtime';
import { copyTaskQueueFor, repositoryFilesTaskQueueFor } from '../lib/temporal/task-queues';
import { dataConverterFromEnv, encryptionNotice } from '../lib/codec/keys';
import { createCopyWorker } from './worker-factory';
import { shownRepository } from '../activities/copy/restic/restic-cli';
import { checkHugePageBuffers } from '../activities/copy/huge-pages';
import { deploymentVersion, promoteIfWanted, versionString, workerDeploymentOptions } from '../lib/temporal/worker-deployment';

const ws = loadWorkerSettings();
installRuntime(ws);
const settings = { namespace: ws.temporal.namespace };
const proxyVmId = ws.copy.proxyVmId;
const taskQueue = ws.copy.taskQueue ?? (proxyVmId ? copyTaskQueueFor(proxyVmId) : undefined);
if (!taskQueue) {
  console.error('set PROXY_VM_ID (the id of the VM this worker runs on) or COPY_TASK_QUEUE');
  process.exit(2);
}
const copy = copySettingsFromEnv();
const version = deploymentVersion(ws, 'copy');
const connection = await NativeConnection.connect(connectionOptions(ws));
const workers = await createCopyWorker({
  connection,
  namespace: settings.namespace,
  taskQueue,
  copy,
  maxConcurrentCopies: ws.copy.maxConcurrentCopies,
  maxConcurrentFileWrites: ws.copy.maxConcurrentFileWrites,
  dataConverter: dataConverterFromEnv(),
  // Activities only: the version says which copy workers a pinned run's copy goes to while two generations poll.
  workerDeploymentOptions: workerDeploymentOptions(version, ws.versioning.defaultBehavior),
});
console.log(
  `copy worker polling "${taskQueue}" and "${repositoryFilesTaskQueueFor(taskQueue)}" on ${describeWorkerSettings(ws)}: devices ${copy.deviceByIdDir} (by serial), ${copy.deviceDir ?? 'no folder'} (by logical name) → ${copy.restic ? `restic repository ${shownRepository(copy.restic.repository)}` : `repository ${copy.repositoryRoot}`}`,
);
console.log(encryptionNotice());
// Direct writes from 4 KiB pages leave in many small requests; the launchers ask for huge pages, and the log says whether they came.
if (copy.directWrites !== false) console.log(checkHugePageBuffers().notice);
console.log(version ? `worker deployment version ${versionString(version)}` : 'unversioned (WORKER_VERSIONING=false)');
// Ctrl-C / SIGTERM shut both down (the SDK's default shutdown signals), then run() resolves.
const running = Promise.all(workers.map((w) => w.run()));
if (version) {
  promoteIfWanted(connection.workflowService, settings.namespace, version, ws.versioning.setCurrent, { ignoreMissingTaskQueues: ws.versioning.setCurrent === 'always' }).then(
    (what) => console.log(`versioning: ${what}`),
    (err: Error) => console.error(`versioning: ${err.message}`),
  );
}
await running;
await connection.close();
