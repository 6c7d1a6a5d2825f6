import { altaroTest } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ALTARO_INSTRUCTION_KINDS } from '../../contracts/altaro/instruction-kinds';
import type { AltaroOperationResult, AltaroProgress } from '../../contracts/altaro/results';
import { startAltaroHarness, vendorReports, type AltaroHarness } from '../helpers/altaro-harness';

const run = promisify(execFile);
const test = altaroTest({ extraVersions: { 'altaro-v8': '8.6.1', 'altaro-v90': '9.0.4', 'altaro-v91': '9.1.0' } });

test('backupctl start altaroBackup --input @examples/altaroBackup.json --wait completes; the result holds the report; no session is left open', async ({ h }) => {
  const before = (await vendorReports(h, 'backup', h.demo.vmRef)).length;
  const { stdout } = await run(process.execPath, ['bin/backupctl.js', 'start', 'altaroBackup', '--input', '@examples/altaroBackup.json', '--wait', '--json'], {
    env: { ...process.env, TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: h.taskQueue },
    timeout: 60_000,
  });
  const result = JSON.parse(stdout) as AltaroOperationResult;
  assert.equal(result.kind, 'take-backup');
  assert.equal(result.outcome, 'success');
  assert.equal(result.report.Result, 'Success');
  assert.ok(result.timeline.length >= 1, `timeline: ${JSON.stringify(result.timeline)}`);
  assert.ok(result.timeline.some((s) => s.status === 'Processing'));
  assert.deepEqual(
    result.timings.map((t) => t.step),
    ['validate', 'instruct', 'track', 'report'],
  );
  const reports = await vendorReports(h, 'backup', h.demo.vmRef);
  assert.equal(reports.length, before + 1, 'exactly one new backup report at the vendor');
  assert.equal(reports[0]!.DateTime, result.report.DateTime, 'the result holds the newest report');
  assert.equal(await h.openSessions(), 0, 'no session left open');
});

test('every instruction kind runs end to end and reads the matching report', async ({ h }) => {
  for (const kind of ALTARO_INSTRUCTION_KINDS) {
    h.simulator.calls.clear();
    const result = await h.execute<AltaroOperationResult>('altaroOperation', {
      ...h.input(),
      kind,
      options: kind.includes('restore') ? { RestoreAsName: `web-01-${kind}` } : undefined,
    });
    assert.equal(result.kind, kind);
    assert.equal(result.outcome, 'success', kind);
    assert.equal(result.reportType, kind === 'restore' || kind === 'sandbox-restore' || kind === 'verification' ? 'restore' : 'backup', kind);
    const path = new RegExp(`^/rest/instructions/${kind}/[^/]+/${h.demo.vmRef}$`);
    assert.equal(h.calls('POST', path).length, 1, `one ${kind} instruction sent`);
  }
  const restores = await vendorReports(h, 'restore', h.demo.vmRef);
  assert.ok(
    restores.some((r) => r.RestoreAsName === 'web-01-restore'),
    'the restore options reached the vendor',
  );
  assert.equal(await h.openSessions(), 0);
});

test('a report with warnings completes the run and surfaces the warning', async ({ h }) => {
  const handle = await h.start('altaroBackup', h.input({ vmRef: h.demo.warningVmRef }));
  const result = (await handle.result()) as AltaroOperationResult;
  assert.equal(result.outcome, 'warning');
  assert.match(result.warnings[0]!, /crash-consistent/);
  const progress = await handle.query<AltaroProgress>('progress');
  assert.equal(progress.state, 'completed');
  assert.match(progress.message ?? '', /completed with warnings: .*crash-consistent/);
  assert.ok(progress.operation.operationGuid, 'the progress query shows the OperationGuid');
  assert.equal(await h.openSessions(), 0);
});

test('the progress query shows Status, Percentage and SubOperation while the operation runs', async ({ h }) => {
  h.state.operationMs['take-backup'] = 3_000;
  try {
    const handle = await h.start('altaroBackup', h.input({ maxPollIntervalMs: 200 }));
    let seen: AltaroProgress['operation'] | undefined;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const p = await handle.query<AltaroProgress>('progress');
      if (p.step === 'track' && p.operation.status === 'Processing' && (p.operation.percentage ?? 0) > 0) {
        seen = p.operation;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(seen, 'saw a live status');
    assert.ok(seen.subOperation, 'with a SubOperation');
    await handle.result();
  } finally {
    h.state.operationMs['take-backup'] = 1_200;
  }
});

test('the product version picks the base path: 8.x and 9.0.x under /api, 9.1.x under /api/rest', async ({ h }) => {
  for (const [endpoint, prefix] of [
    ['altaro-v8', ''],
    ['altaro-v90', ''],
    ['altaro-v91', '/rest'],
  ] as const) {
    h.simulator.calls.clear();
    const result = await h.execute<AltaroOperationResult>('altaroBackup', h.input({ endpoint }));
    assert.equal(result.outcome, 'success', endpoint);
    const calls = h.simulator.calls.all();
    assert.ok(calls.length >= 6, `${endpoint}: ${calls.length} calls`);
    for (const c of calls) assert.ok(prefix ? c.path.startsWith('/rest/') : !c.path.startsWith('/rest/'), `${endpoint}: ${c.path}`);
  }
  assert.equal(await h.openSessions(), 0);
});

test('examples/altaroOperation.json runs as is against the demo inventory', async ({ h }) => {
  const input = JSON.parse(await readFile('examples/altaroOperation.json', 'utf8')) as Record<string, unknown>;
  assert.equal(input.endpoint, 'altaro-sim');
  const result = await h.execute<AltaroOperationResult>('altaroOperation', input);
  assert.equal(result.kind, input.kind);
  assert.equal(result.outcome, 'success');
  assert.equal(await h.openSessions(), 0);
});
