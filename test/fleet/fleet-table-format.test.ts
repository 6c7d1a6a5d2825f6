/** `backupctl fleet`: the per-VM table as a terminal shows it. */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { fleetTable } from '../../client/cli/format';

test('the fleet table lists each VM with its outcome and reason, and sums up under it', () => {
  const fleet = {
    workflowId: 'fleetBackup-1a2b',
    status: 'CANCELLED',
    runs: 2,
    counts: { succeeded: 1, failed: 1, skipped: 0, cancelled: 1, 'not-started': 1 },
    rows: [
      { vm: 'web-01', workflowId: 'backup-ovirt-web-01', outcome: 'succeeded' as const },
      { vm: 'web-02', workflowId: 'backup-ovirt-web-02', outcome: 'failed' as const, reason: 'step "snapshot" failed: storage domain in maintenance' },
      { vm: 'web-03', workflowId: 'backup-ovirt-web-03', outcome: 'cancelled' as const, reason: 'the run was cancelled (it undid what it had done)' },
      { vm: 'web-04', workflowId: '', outcome: 'not-started' as const, reason: 'the fleet was cancelled before this VM was started' },
    ],
  };
  const lines = fleetTable(fleet).split('\n');
  assert.match(lines[0]!, /^VM\s+OUTCOME\s+WORKFLOW ID\s+REASON$/);
  assert.match(lines[2]!, /^web-02\s+failed\s+backup-ovirt-web-02\s+step "snapshot" failed: storage domain in maintenance$/);
  assert.match(lines[4]!, /^web-04\s+not-started\s+the fleet was cancelled before this VM was started$/);
  assert.equal(lines.at(-1), 'fleetBackup-1a2b: CANCELLED, 4 VMs (1 succeeded, 1 failed, 1 cancelled, 1 not-started), 2 run(s)');
  assert.match(fleetTable(fleet, []), /no rows$/);
});
