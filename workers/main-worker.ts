/** Entry point of the main worker: workflows and vendor activities. */
import { NativeConnection } from '@temporalio/worker';
import { EndpointRegistry } from '../lib/config/endpoints';
import { connectionOptions, describeWorkerSettings, loadWorkerSettings } from '../lib/config/worker-settings';
import { installRuntime } from '../lib/metrics/runtime';
import { dataConverterFromEnv, encryptionNotice } from '../lib/codec/keys';
import { createMainWorker } from './worker-factory';
import { alertConfig } from '../activities/alerts/settings';
import { deploymentVersion, promoteIfWanted, versionString, workerDeploymentOptions } from '../lib/temporal/worker-deployment';

const ws = loadWorkerSettings();
installRuntime(ws);
const settings = { address: ws.temporal.address, namespace: ws.temporal.namespace, taskQueue: ws.main.taskQueue };
const endpoints = EndpointRegistry.load();
const version = deploymentVersion(ws, 'main');
const connection = await NativeConnection.connect(connectionOptions(ws));
const { worker, close } = await createMainWorker({
  connection,
  namespace: settings.namespace,
  taskQueue: settings.taskQueue,
  endpoints,
  dataConverter: dataConverterFromEnv(),
  alerts: alertConfig(ws, settings.namespace),
  maxConcurrentActivityTaskExecutions: ws.main.maxConcurrentActivities,
  tuning: { maxConcurrentWorkflowTaskExecutions: ws.main.maxConcurrentWorkflowTasks, maxCachedWorkflows: ws.main.maxCachedWorkflows },
  ...(ws.main.workflowBundlePath ? { workflowBundle: { codePath: ws.main.workflowBundlePath } } : {}),
  workerDeploymentOptions: workerDeploymentOptions(version, ws.versioning.defaultBehavior),
});
console.log(`main worker polling "${settings.taskQueue}" on ${describeWorkerSettings(ws)} (endpoints: ${endpoints.names().join(', ')})`);
console.log(encryptionNotice());
console.log(version ? `worker deployment version ${versionString(version)}, runs ${ws.versioning.defaultBehavior} by default` : 'unversioned (WORKER_VERSIONING=false)');
const running = worker.run();
if (version) {
  promoteIfWanted(connection.workflowService, settings.namespace, version, ws.versioning.setCurrent, { ignoreMissingTaskQueues: ws.versioning.setCurrent === 'always' }).then(
    (what) => console.log(`versioning: ${what}`),
    (err: Error) => console.error(`versioning: ${err.message}`),
  );
}
await running;
await close();
await connection.close();
