/**
 * Builds the two kinds of worker from explicit settings, so the entry points, `npm start` and the
 * tests all run the same configuration.
 */
import { NativeConnection, Worker, type WorkerDeploymentOptions, type WorkerOptions } from '@temporalio/worker';
import { EndpointClients } from '../activities/endpoint-clients';
import { createCopyActivities, REPOSITORY_FILE_ACTIVITIES } from '../activities/copy/activities';
import type { CopySettings } from '../activities/copy/copy-disk';
import type { DataConverter } from '@temporalio/common';
import type { EndpointRegistry } from '../lib/config/endpoints';
import { createMainActivities } from './activities';
import { createAlertActivities } from '../activities/alerts/activities';
import { alertConfig, type AlertConfig } from '../activities/alerts/settings';
import { loadWorkerSettings } from '../lib/config/worker-settings';
import { metricsActivityInterceptor } from '../lib/metrics/activity-interceptor';
import { repositoryFilesTaskQueueFor } from '../lib/temporal/task-queues';
import { workflowPreloadModules, workflowsPath } from './workflow-bundle';

/** Worker tuning from lib/config/worker-settings.ts (env WORKER_MAX_*). */
export type WorkerTuning = Partial<Pick<WorkerOptions, 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows'>>;

type Bundle = WorkerOptions['workflowBundle'];

export interface MainWorkerSettings {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  endpoints: EndpointRegistry;
  env?: NodeJS.ProcessEnv;
  /** A prebuilt bundle (tests build it once); otherwise the worker bundles workflows itself. */
  workflowBundle?: Bundle;
  maxConcurrentActivityTaskExecutions?: number;
  tuning?: WorkerTuning;
  /** Payload encryption (lib/codec): the same converter as every client of these workflows. */
  dataConverter?: DataConverter;
  /** Where alerts go; by default from the worker settings in `env` (ALERT_WEBHOOK_URL, …). */
  alerts?: AlertConfig;
  /**
   * The Worker Deployment version this worker declares (lib/temporal/worker-deployment.ts); unset:
   * unversioned, as the tests' in-process workers are unless they test versioning.
   */
  workerDeploymentOptions?: WorkerDeploymentOptions;
}

export async function createMainWorker(settings: MainWorkerSettings): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const env = settings.env ?? process.env;
  const clients = new EndpointClients(settings.endpoints, settings.env);
  const alerts = createAlertActivities(settings.alerts ?? alertConfig(loadWorkerSettings(env), settings.namespace, env));
  const worker = await Worker.create({
    connection: settings.connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    ...(settings.workflowBundle ? { workflowBundle: settings.workflowBundle } : { workflowsPath, bundlerOptions: { preloadModules: workflowPreloadModules } }),
    activities: createMainActivities(clients, alerts.activities),
    dataConverter: settings.dataConverter,
    maxConcurrentActivityTaskExecutions: settings.maxConcurrentActivityTaskExecutions ?? 100,
    ...Object.fromEntries(Object.entries(settings.tuning ?? {}).filter(([, v]) => v !== undefined)),
    interceptors: { activity: [metricsActivityInterceptor] },
    ...(settings.workerDeploymentOptions ? { workerDeploymentOptions: settings.workerDeploymentOptions } : {}),
  });
  return { worker, close: async () => void (await Promise.all([clients.close(), alerts.close()])) };
}

export interface CopyWorkerSettings {
  connection: NativeConnection;
  namespace: string;
  /** The copy queue; the small files go to repositoryFilesTaskQueueFor(taskQueue). */
  taskQueue: string;
  copy: CopySettings;
  maxConcurrentCopies?: number;
  maxConcurrentFileWrites?: number;
  dataConverter?: DataConverter;
  /** As for the main worker: both queues join this version of the copy deployment. */
  workerDeploymentOptions?: WorkerDeploymentOptions;
}

/**
 * The copy worker is two workers on one connection: the disk copies on the copy queue, capped for
 * disk bandwidth (COPY_CONCURRENCY), and the small repository files (config, manifest) on a queue of
 * their own, so that a few KiB never wait behind gigabytes (so do the repository's manifest
 * reads and writes: findBackup, recordVerification, listBackups). The copy queue serves every copy
 * activity, writeBackupFile too for runs started before the files queue existed. Run both.
 */
export async function createCopyWorker(settings: CopyWorkerSettings): Promise<Worker[]> {
  const activities = createCopyActivities(settings.copy);
  const common = {
    connection: settings.connection,
    namespace: settings.namespace,
    dataConverter: settings.dataConverter,
    interceptors: { activity: [metricsActivityInterceptor] },
    ...(settings.workerDeploymentOptions ? { workerDeploymentOptions: settings.workerDeploymentOptions } : {}),
  };
  return Promise.all([
    Worker.create({
      ...common,
      taskQueue: settings.taskQueue,
      activities,
      maxConcurrentActivityTaskExecutions: settings.maxConcurrentCopies ?? 4,
      // Heartbeats carry the resume offset: send them often enough that a crash loses little.
      maxHeartbeatThrottleInterval: '2 seconds',
      defaultHeartbeatThrottleInterval: '2 seconds',
    }),
    Worker.create({
      ...common,
      taskQueue: repositoryFilesTaskQueueFor(settings.taskQueue),
      activities: { writeBackupFile: activities.writeBackupFile, ...Object.fromEntries(REPOSITORY_FILE_ACTIVITIES.map((name) => [name, activities[name]])) },
      maxConcurrentActivityTaskExecutions: settings.maxConcurrentFileWrites ?? 16,
    }),
  ]);
}
