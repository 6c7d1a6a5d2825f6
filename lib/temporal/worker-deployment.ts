/**
 * Worker Versioning: which Worker Deployment version a worker declares (a deployment per role,
 * `<name>-main` and `<name>-copy`, and a build id from the package version and the git commit),
 * and making a version the deployment's current one. The rollout is described in
 * docs/production.md, "Upgrading workers while backups run".
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowService } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { WorkerDeploymentOptions } from '@temporalio/worker';
import type { WorkerSettings } from '../config/worker-settings';
import { projectRoot } from './cli-path';

/** What a worker polls as: the main worker (workflows and vendor activities) or a proxy VM's copy worker. */
export type WorkerRole = 'main' | 'copy';

export interface DeploymentVersion {
  deploymentName: string;
  buildId: string;
}

const enums = proto.temporal.api.enums.v1 as unknown as Record<'WorkerDeploymentVersionStatus' | 'VersionDrainageStatus', Record<string, unknown>>;

export class BuildIdError extends Error {}

/** The commit this checkout is at (with `-dirty` when tracked files differ), or the image's `BACKUP_GIT_COMMIT`. */
function gitCommit(env: NodeJS.ProcessEnv, root: string): string | undefined {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${commit}-dirty` : commit;
  } catch {
    const baked = env.BACKUP_GIT_COMMIT?.trim();
    return baked && baked !== 'unknown' ? baked.slice(0, 12) : undefined;
  }
}

/** An image built without GIT_COMMIT: the digest of its prebuilt workflow bundle (the code a pinned run depends on). */
function bundleDigest(env: NodeJS.ProcessEnv): string | undefined {
  if (!env.WORKFLOW_BUNDLE_PATH) return undefined;
  try {
    return `bundle${createHash('sha256').update(readFileSync(env.WORKFLOW_BUNDLE_PATH)).digest('hex').slice(0, 12)}`;
  } catch {
    return undefined;
  }
}

/**
 * `WORKER_BUILD_ID` when set; otherwise `<package version>-<commit>`, e.g. `0.1.0-3f2a1b9c0d1e`.
 * The commit comes from git (a checkout) or from `BACKUP_GIT_COMMIT` (the image's build argument
 * GIT_COMMIT), else the prebuilt bundle's digest stands for it; with none, the worker refuses to guess: two builds of one package version must
 * not share a build id, or a pinned run could land on code it did not start with.
 */
export function computeBuildId(env: NodeJS.ProcessEnv = process.env, root = projectRoot): string {
  if (env.WORKER_BUILD_ID) return env.WORKER_BUILD_ID;
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const commit = gitCommit(env, root) ?? bundleDigest(env);
  if (!commit) throw new BuildIdError('no build id: not a git checkout, BACKUP_GIT_COMMIT is unset and there is no prebuilt workflow bundle; set WORKER_BUILD_ID (or WORKER_VERSIONING=false)');
  return `${version}-${commit}`;
}

/** The deployment version a worker of `role` declares, or undefined when versioning is off. */
export function deploymentVersion(settings: WorkerSettings, role: WorkerRole, env: NodeJS.ProcessEnv = process.env): DeploymentVersion | undefined {
  const v = settings.versioning;
  if (!v.enabled) return undefined;
  return { deploymentName: `${v.deploymentName}-${role}`, buildId: v.buildId ?? computeBuildId(env) };
}

/** `Worker.create`'s workerDeploymentOptions for this version and the settings' default behaviour. */
export function workerDeploymentOptions(version: DeploymentVersion | undefined, behavior: WorkerSettings['versioning']['defaultBehavior'] = 'PINNED'): WorkerDeploymentOptions | undefined {
  return version ? { useWorkerVersioning: true, version, defaultVersioningBehavior: behavior } : undefined;
}

/** How the CLI and the UI write a version. */
export function versionString(v: DeploymentVersion): string {
  return `${v.deploymentName}:${v.buildId}`;
}

export interface DeploymentState {
  current?: DeploymentVersion;
  ramping?: DeploymentVersion & { percentage: number };
  /** Every version the deployment has seen, with its drainage status (DRAINING, DRAINED, …). */
  versions: Array<DeploymentVersion & { status: string; drainage: string }>;
}

/** A proto enum's short name (DRAINING for VERSION_DRAINAGE_STATUS_DRAINING, whether it came as a number or a name). */
const enumName = (values: Record<string, unknown>, value: unknown, prefix: string) => String((typeof value === 'number' ? values[value] : value) ?? 'UNSPECIFIED').replace(prefix, '');

/** The deployment's routing (current, ramping) and versions; undefined when it does not exist yet. */
export async function describeDeployment(service: WorkflowService, namespace: string, deploymentName: string): Promise<DeploymentState | undefined> {
  let response;
  try {
    response = await service.describeWorkerDeployment({ namespace, deploymentName });
  } catch (err) {
    if ((err as { code?: number }).code === 5 /* NOT_FOUND */) return undefined;
    throw err;
  }
  const info = response.workerDeploymentInfo;
  const routing = info?.routingConfig;
  const cur = routing?.currentDeploymentVersion;
  const ramp = routing?.rampingDeploymentVersion;
  return {
    ...(cur?.buildId ? { current: { deploymentName: cur.deploymentName ?? deploymentName, buildId: cur.buildId } } : {}),
    ...(ramp?.buildId ? { ramping: { deploymentName: ramp.deploymentName ?? deploymentName, buildId: ramp.buildId, percentage: routing?.rampingVersionPercentage ?? 0 } } : {}),
    versions: (info?.versionSummaries ?? []).map((s) => ({
      deploymentName: s.deploymentVersion?.deploymentName ?? deploymentName,
      buildId: s.deploymentVersion?.buildId ?? '',
      status: enumName(enums.WorkerDeploymentVersionStatus, s.status, 'WORKER_DEPLOYMENT_VERSION_STATUS_'),
      drainage: enumName(enums.VersionDrainageStatus, s.drainageStatus, 'VERSION_DRAINAGE_STATUS_'),
    })),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Makes `version` current, retrying while the server has not seen its pollers yet (a worker that
 * was just created). `ignoreMissingTaskQueues`: the dev stack, whose queues may have been renamed
 * between starts; production rollouts leave the server's protection on.
 */
export async function setCurrentVersion(
  service: WorkflowService,
  namespace: string,
  version: DeploymentVersion,
  { timeoutMs = 60_000, ignoreMissingTaskQueues = false, identity = 'backup-orchestrator' } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await service.setWorkerDeploymentCurrentVersion({ namespace, deploymentName: version.deploymentName, buildId: version.buildId, ignoreMissingTaskQueues, identity });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`could not make ${versionString(version)} current: ${(err as Error).message}`);
      await sleep(500);
    }
  }
}

/** Ramps `percentage` % of new runs to `version` (0 stops the ramp), retrying like setCurrentVersion. */
export async function setRampingVersion(
  service: WorkflowService,
  namespace: string,
  version: DeploymentVersion,
  percentage: number,
  { timeoutMs = 60_000, identity = 'backup-orchestrator' } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await service.setWorkerDeploymentRampingVersion({ namespace, deploymentName: version.deploymentName, buildId: version.buildId, percentage, identity });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`could not ramp ${versionString(version)} to ${percentage} %: ${(err as Error).message}`);
      await sleep(500);
    }
  }
}

/**
 * What a starting worker does about routing (settings.versioning.setCurrent): `always` makes its
 * version current; `if-none` only when the deployment has no current version and knows no other
 * version (a first install: without it nothing would route); `never` leaves it to the operator.
 * Returns what it did, for the worker's log line.
 */
export async function promoteIfWanted(
  service: WorkflowService,
  namespace: string,
  version: DeploymentVersion,
  mode: WorkerSettings['versioning']['setCurrent'],
  options: { ignoreMissingTaskQueues?: boolean } = {},
): Promise<string> {
  if (mode === 'never') return `${versionString(version)}: routing left to the operator`;
  if (mode === 'if-none') {
    // The version appears once the worker's first poll reaches the server.
    const deadline = Date.now() + 60_000;
    let state = await describeDeployment(service, namespace, version.deploymentName);
    while (!state?.versions.some((v) => v.buildId === version.buildId) && Date.now() < deadline) {
      await sleep(500);
      state = await describeDeployment(service, namespace, version.deploymentName);
    }
    if (state?.current)
      return `${versionString(version)}: current version is ${versionString(state.current)}${state.current.buildId === version.buildId ? '' : ' (this one gets runs once it is made current or ramped)'}`;
    if (state?.versions.some((v) => v.buildId !== version.buildId)) return `${versionString(version)}: the deployment has no current version; left to the operator`;
  }
  await setCurrentVersion(service, namespace, version, options);
  return `${versionString(version)}: made current`;
}
