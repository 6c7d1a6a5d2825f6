/** The pure pieces of an alert: which kind a failure is, its event id, its one line and its link. */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { alertEventId, alertLine, failureKind, runUiUrl } from '../../contracts/alerts/events';

test('drills and repository checks fail as their own kinds; every other run as "failed"', () => {
  assert.equal(failureKind('ovirtRestoreDrill'), 'drill-failed');
  assert.equal(failureKind('verifyBackups'), 'check-failed');
  assert.equal(failureKind('ovirtSnapshotBackup'), 'failed');
  assert.equal(failureKind('ovirtRestore'), 'failed');
});

test('the event id is per run and kind, or per VM and due time for a missed RPO', () => {
  const run = { provider: 'ovirt', vmId: 'vm-1', workflowId: 'w', runId: 'r' };
  assert.equal(alertEventId({ ...run, kind: 'failed' }), 'failed:w:r');
  assert.notEqual(alertEventId({ ...run, kind: 'needs-attention' }), alertEventId({ ...run, kind: 'failed' }));
  assert.equal(alertEventId({ ...run, kind: 'rpo-missed', dueAt: 'T' }), 'rpo-missed:ovirt:vm-1:T');
  assert.equal(alertEventId({ ...run, runId: 'other', kind: 'rpo-missed', dueAt: 'T' }), 'rpo-missed:ovirt:vm-1:T');
});

test('the line is one line; the link is the run in the Web UI', () => {
  const url = runUiUrl('http://localhost:8233/', 'default', 'backup-ovirt-vm 1', 'r1');
  assert.equal(url, 'http://localhost:8233/namespaces/default/workflows/backup-ovirt-vm%201/r1/history');
  const line = alertLine({ kind: 'failed', provider: 'onapp', workflowType: 'onappBackup', workflowId: 'w', runId: 'r', step: 'take', reason: 'a\nb', at: 'T' }, url);
  assert.equal(line, `onapp run: onappBackup failed at step "take": a b — run w/r ${url}`);
});
