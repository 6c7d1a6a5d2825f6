/**
 * Entry point of the copy worker, which runs on the backup-proxy VM: it reads attached disks and
 * writes the repository. Its queue is backup-copy-<proxy VM id> unless COPY_TASK_QUEUE says otherwise.
 */
import { NativeConnection } from '@temporalio/worker';
import { copySettingsFromEnv } from '../activities/copy/activities';
import { temporalSettings } from '../lib/temporal/settings';
import { copyTaskQueueFor } from '../lib/temporal/task-queues';
import { createCopyWorker } from './worker-factory';

const settings = temporalSettings();
const proxyVmId = process.env.PROXY_VM_ID;
const taskQueue = process.env.COPY_TASK_QUEUE ?? (proxyVmId ? copyTaskQueueFor(proxyVmId) : undefined);
if (!taskQueue) {
  console.error('set PROXY_VM_ID (the id of the VM this worker runs on) or COPY_TASK_QUEUE');
  process.exit(2);
}
const copy = copySettingsFromEnv();
const connection = await NativeConnection.connect({ address: settings.address });
const worker = await createCopyWorker({ connection, namespace: settings.namespace, taskQueue, copy, maxConcurrentCopies: Number(process.env.COPY_CONCURRENCY ?? 4) });
console.log(`copy worker polling "${taskQueue}": devices ${copy.deviceByIdDir} → repository ${copy.repositoryRoot}`);
await worker.run();
await connection.close();
