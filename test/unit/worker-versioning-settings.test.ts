/** Worker Versioning settings: on and PINNED by default, a deployment per role, the build id from the package version and commit or WORKER_BUILD_ID. */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { loadWorkerSettings, WorkerSettingsError } from '../../lib/config/worker-settings';
import { computeBuildId, deploymentVersion, workerDeploymentOptions } from '../../lib/temporal/worker-deployment';

test('production defaults: versioned, PINNED, made current only on a first install; a deployment per role', () => {
  const s = loadWorkerSettings({ WORKER_BUILD_ID: '1.2.3-abc' });
  assert.deepEqual(s.versioning, { enabled: true, deploymentName: 'backup-orchestrator', buildId: '1.2.3-abc', defaultBehavior: 'PINNED', setCurrent: 'if-none' });
  assert.deepEqual(deploymentVersion(s, 'main'), { deploymentName: 'backup-orchestrator-main', buildId: '1.2.3-abc' });
  assert.deepEqual(deploymentVersion(s, 'copy'), { deploymentName: 'backup-orchestrator-copy', buildId: '1.2.3-abc' });
  assert.deepEqual(workerDeploymentOptions(deploymentVersion(s, 'main'), s.versioning.defaultBehavior), {
    useWorkerVersioning: true,
    version: { deploymentName: 'backup-orchestrator-main', buildId: '1.2.3-abc' },
    defaultVersioningBehavior: 'PINNED',
  });
});

test('WORKER_VERSIONING=false: no deployment options (unversioned polling)', () => {
  const s = loadWorkerSettings({ WORKER_VERSIONING: 'false' });
  assert.equal(deploymentVersion(s, 'main'), undefined);
  assert.equal(workerDeploymentOptions(undefined), undefined);
});

test('the build id: package version and git commit in a checkout, WORKER_BUILD_ID first', () => {
  assert.match(computeBuildId({}), /^0\.1\.0-[0-9a-f]{12}(-dirty)?$/);
  assert.equal(computeBuildId({ WORKER_BUILD_ID: 'v7' }), 'v7');
});

test('bad values are refused naming the variable', () => {
  assert.throws(
    () => loadWorkerSettings({ WORKER_VERSIONING_BEHAVIOR: 'SOMETIMES' }),
    (err: Error) => err instanceof WorkerSettingsError && /versioning\.defaultBehavior \(WORKER_VERSIONING_BEHAVIOR\)/.test(err.message),
  );
  assert.throws(() => loadWorkerSettings({ WORKER_DEPLOYMENT_NAME: 'a.b:c' }), /WORKER_DEPLOYMENT_NAME/);
  assert.throws(() => loadWorkerSettings({ WORKER_SET_CURRENT_VERSION: 'maybe' }), /WORKER_SET_CURRENT_VERSION/);
});
