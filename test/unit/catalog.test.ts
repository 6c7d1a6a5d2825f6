import { test } from 'vitest';
import assert from 'node:assert/strict';
import { workflowCatalog, type WorkflowEntry } from '../../contracts/catalog';
import { workflowRoute, workflowRoutes } from '../../contracts/routing';

test('a client checks an input against the schema the fleet loads for that workflow type', async () => {
  assert.deepEqual(Object.keys(workflowCatalog), Object.keys(workflowRoutes));
  for (const [type, entry] of Object.entries(workflowCatalog as Record<string, WorkflowEntry>)) {
    assert.equal(await entry.loadInput(), entry.input, type);
  }
});

test('only catalog entries route, not what every object has', () => {
  for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) assert.equal(workflowRoute(name), undefined, name);
  assert.equal(workflowRoute('ovirtSnapshotBackup')?.provider, 'ovirt');
});
