/** `backupctl backups onapp`: the backup catalogue of a virtual server as a table, or as JSON. */
import { onappTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ONAPP_DEMO } from '../../simulators/onapp/state';
import type { OnappHarness } from '../helpers/onapp-harness';

const cli = fileURLToPath(new URL('../../bin/backupctl.js', import.meta.url));
const test = onappTest();

function backupctl(h: OnappHarness, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: h.taskQueue } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the catalogue prints as a table with one row per backup, and as the typed JSON', async ({ h }) => {
  await h.execute('onappBackup', { endpoint: 'onapp-sim', virtualServerId: ONAPP_DEMO.vmId, pollIntervalMs: 200 });
  await h.execute('onappBackup', { endpoint: 'onapp-sim', virtualServerId: ONAPP_DEMO.vmId, backupType: 'normal', pollIntervalMs: 200 });
  const json = await backupctl(h, 'backups', 'onapp', '--endpoint', 'onapp-sim', '--vm', String(ONAPP_DEMO.vmId), '--json');
  assert.equal(json.code, 0, json.stderr);
  const listing = JSON.parse(json.stdout) as { count: number; backups: Array<{ id: number; backupType: string }> };
  assert.ok(listing.count >= 2, 'both backups are listed');
  const table = await backupctl(h, 'backups', 'onapp', '--endpoint', 'onapp-sim', '--vm', String(ONAPP_DEMO.vmId));
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  assert.match(lines[0]!, /^ID\s+TYPE\s+TARGET\s+BUILT\s+SIZE\s+CREATED\s+BUILT AT\s+NOTE$/);
  assert.equal(lines.length, listing.count + 1);
  for (const b of listing.backups)
    assert.ok(
      lines.some((l) => l.startsWith(`${b.id} `) && l.includes(b.backupType)),
      `row for backup ${b.id}`,
    );
  const bad = await backupctl(h, 'backups', 'onapp', '--endpoint', 'onapp-sim', '--vm', 'web-01');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /virtualServerId/);
});
