/**
 * Worker settings from an optional JSON file (WORKER_SETTINGS_FILE) overridden by environment
 * variables, checked with zod. Secrets (the Temporal Cloud API key, the TLS key) are read from the
 * worker's environment or files only: they never reach a workflow input, result or history.
 * Every variable is documented in docs/production.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from '../temporal/task-queues';
import { describeTemporalAuth, envBoolean, temporalConnectionOptions, temporalConnectionSchema, TEMPORAL_CONNECTION_ENV } from '../temporal/connection';

const positiveInt = z.coerce.number().int().positive();

export const workerSettingsSchema = z.strictObject({
  /** Address, namespace and credentials: the schema every caller shares (lib/temporal/connection.ts). */
  temporal: temporalConnectionSchema,
  main: z
    .strictObject({
      taskQueue: z.string().min(1).default(DEFAULT_TASK_QUEUE),
      maxConcurrentActivities: positiveInt.default(100),
      maxConcurrentWorkflowTasks: positiveInt.optional(),
      maxCachedWorkflows: z.coerce.number().int().min(0).optional(),
      /** A bundle built ahead (scripts/bundle-workflows.ts, e.g. in the Docker image). */
      workflowBundlePath: z.string().min(1).optional(),
    })
    .prefault({}),
  copy: z
    .strictObject({
      /** backup-copy-<proxyVmId> unless taskQueue says otherwise. */
      proxyVmId: z.string().min(1).optional(),
      taskQueue: z.string().min(1).optional(),
      maxConcurrentCopies: positiveInt.default(4),
      /** Small repository files (config, manifest) on the copy worker's files queue, at once; not capped by the copies. */
      maxConcurrentFileWrites: positiveInt.default(16),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      /** host:port of the Prometheus endpoint (/metrics); unset = no metrics endpoint. */
      bindAddress: z
        .string()
        .regex(/^[^:\s]+:\d+$/, 'host:port, e.g. 0.0.0.0:9464')
        .optional(),
      /** Added to every metric, e.g. {"worker": "main"}. */
      globalTags: z.record(z.string(), z.string()).default({}),
    })
    .prefault({}),
  alerts: z
    .strictObject({
      /** The webhook alerts are posted to: a secret (env ALERT_WEBHOOK_URL or a file), never in a workflow. Unset = no alerts. */
      webhookUrl: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).optional(),
      /** A file holding the webhook URL (a mounted secret); ALERT_WEBHOOK_URL wins when both are set. */
      webhookUrlFile: z.string().min(1).optional(),
      /** `json`: {event, provider, vmId, workflowId, runId, step, reason, uiUrl, at, eventId, text}; `slack`: {"text": "one line"}. */
      format: z.enum(['json', 'slack']).default('json'),
      /** The Temporal Web UI the alert links into. */
      uiBaseUrl: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).default('http://localhost:8233'),
    })
    .prefault({}),
  /**
   * Worker Versioning (docs/production.md, "Upgrading workers while backups run"): each worker
   * declares a Worker Deployment version, `<deploymentName>-<role>` (role main or copy) and a build
   * id, and a run stays on the version it started on (PINNED) unless told otherwise.
   */
  versioning: z
    .strictObject({
      /** Off: the worker polls unversioned (the tests' in-process workers, a server before 1.29.1). */
      enabled: envBoolean.default(true),
      /** The deployment's name before `-main` / `-copy`. */
      deploymentName: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "-" and "_"')
        .default('backup-orchestrator'),
      /** Default `<package version>-<git commit>` (lib/temporal/worker-deployment.ts). */
      buildId: z
        .string()
        .regex(/^[A-Za-z0-9_.+-]+$/, 'letters, digits, ".", "+", "-" and "_"')
        .max(255)
        .optional(),
      /** What a workflow without its own versioning behaviour does when a new version becomes current. */
      defaultBehavior: z.enum(['PINNED', 'AUTO_UPGRADE']).default('PINNED'),
      /**
       * When this worker's version becomes the deployment's current one: `if-none` only on a first
       * install (the deployment has no current version and no other version), `always` at every
       * start (the dev stack), `never` (an operator does it: `temporal worker deployment set-current-version`).
       */
      setCurrent: z.enum(['if-none', 'always', 'never']).default('if-none'),
    })
    .prefault({}),
  logLevel: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
});

export type WorkerSettings = z.output<typeof workerSettingsSchema>;

/** Environment variable → path in the settings object. */
export const WORKER_ENV_VARS: Record<string, readonly [keyof WorkerSettings, string] | readonly ['logLevel']> = {
  ...Object.fromEntries(Object.entries(TEMPORAL_CONNECTION_ENV).map(([name, field]) => [name, ['temporal', field] as const])),
  TEMPORAL_TASK_QUEUE: ['main', 'taskQueue'],
  WORKER_MAX_CONCURRENT_ACTIVITIES: ['main', 'maxConcurrentActivities'],
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: ['main', 'maxConcurrentWorkflowTasks'],
  WORKER_MAX_CACHED_WORKFLOWS: ['main', 'maxCachedWorkflows'],
  WORKFLOW_BUNDLE_PATH: ['main', 'workflowBundlePath'],
  PROXY_VM_ID: ['copy', 'proxyVmId'],
  COPY_TASK_QUEUE: ['copy', 'taskQueue'],
  COPY_CONCURRENCY: ['copy', 'maxConcurrentCopies'],
  COPY_FILE_CONCURRENCY: ['copy', 'maxConcurrentFileWrites'],
  METRICS_BIND_ADDRESS: ['metrics', 'bindAddress'],
  ALERT_WEBHOOK_URL: ['alerts', 'webhookUrl'],
  ALERT_WEBHOOK_URL_FILE: ['alerts', 'webhookUrlFile'],
  ALERT_WEBHOOK_FORMAT: ['alerts', 'format'],
  TEMPORAL_UI_URL: ['alerts', 'uiBaseUrl'],
  WORKER_VERSIONING: ['versioning', 'enabled'],
  WORKER_DEPLOYMENT_NAME: ['versioning', 'deploymentName'],
  WORKER_BUILD_ID: ['versioning', 'buildId'],
  WORKER_VERSIONING_BEHAVIOR: ['versioning', 'defaultBehavior'],
  WORKER_SET_CURRENT_VERSION: ['versioning', 'setCurrent'],
  LOG_LEVEL: ['logLevel'],
};

export class WorkerSettingsError extends Error {}

/** WORKER_SETTINGS_FILE (JSON, same shape as the schema), then env variables on top; every problem listed. */
export function loadWorkerSettings(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): WorkerSettings {
  let raw: Record<string, any> = {};
  if (env.WORKER_SETTINGS_FILE) {
    const path = resolve(cwd, env.WORKER_SETTINGS_FILE);
    if (!existsSync(path)) throw new WorkerSettingsError(`WORKER_SETTINGS_FILE ${path} does not exist`);
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new WorkerSettingsError(`WORKER_SETTINGS_FILE ${path}: ${(err as Error).message}`);
    }
  }
  for (const [name, path] of Object.entries(WORKER_ENV_VARS)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (path.length === 1) raw[path[0]] = value;
    else raw[path[0]] = { ...(raw[path[0]] ?? {}), [path[1]]: value };
  }
  // METRICS_PORT alone means every interface on that port.
  if (env.METRICS_PORT && !env.METRICS_BIND_ADDRESS) raw.metrics = { ...(raw.metrics ?? {}), bindAddress: `0.0.0.0:${env.METRICS_PORT}` };
  const parsed = workerSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const envName = (p: PropertyKey[]) => Object.entries(WORKER_ENV_VARS).find(([, v]) => v.join('.') === p.join('.'))?.[0];
    const problems = parsed.error.issues.map((i) => {
      const name = envName(i.path);
      return `${i.path.join('.') || '(root)'}${name ? ` (${name})` : ''}: ${i.message}`;
    });
    throw new WorkerSettingsError(`invalid worker settings: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** Options for NativeConnection.connect: the one function every caller uses (lib/temporal/connection.ts). */
export function connectionOptions(settings: WorkerSettings) {
  return temporalConnectionOptions(settings.temporal);
}

/** What may be logged: never the API key, never key material. */
export function describeWorkerSettings(settings: WorkerSettings): string {
  const t = settings.temporal;
  const auth = describeTemporalAuth(t);
  const alerts = settings.alerts.webhookUrl || settings.alerts.webhookUrlFile ? `, alerts to a webhook (${settings.alerts.format})` : '';
  return `${t.address} namespace ${t.namespace} (${auth})${settings.metrics.bindAddress ? `, metrics on http://${settings.metrics.bindAddress}/metrics` : ''}${alerts}`;
}
