/** bench/perf-breakdown.ts: which place a `perf script` sample is charged to. */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { breakdown, offsetsIn, samplesOf, serverBreakdown, serverUnitOf } from '../../bench/perf-breakdown';

const ROOT = '/srv/backup-orchestrator/';

// Four samples as `perf script` prints them (header line, frames leaf first, blank line).
const SCRIPT = `node 100 [001] 1.000001:    2004008 cpu-clock:ppp:
	    7f5474afda04 Builtins_LoadIC+0x4 (/usr/bin/node)
	    7f5474afda05 JS:*parseXml /srv/backup-orchestrator/node_modules/fast-xml-parser/src/xmlparser/OrderedObjParser.js:291:1+0x4 (/tmp/perf-100.map)
	    7f5474afda06 JS:~getVm /srv/backup-orchestrator/activities/ovirt/client.ts:80:3+0x9 (/tmp/perf-100.map)

node 100 [000] 1.000002:    2004008 cpu-clock:ppp:
	    7f5474afda07 JS:^get /srv/backup-orchestrator/activities/ovirt/client.ts:70:3+0x9 (/tmp/perf-100.map)
	          14cde03 Builtins_JSEntry+0x83 (/usr/bin/node)

node 101 [000] 1.000003:    2004008 cpu-clock:ppp:
	          c494db v8::internal::compiler::GraphReducer::ReduceTop+0x12b (/usr/bin/node)
	          c4a574 start_thread+0x64 (/usr/lib/x86_64-linux-gnu/libc.so.6)

temporal 200 [001] 1.000004:    2004008 cpu-clock:ppp:
	          495fc1 runtime.mallocgc+0x1 (/usr/local/bin/temporal)
`;

test('each sample of the command goes to its innermost JavaScript frame, else its native library; other commands are left out', () => {
  const { samples, byPlace } = breakdown(SCRIPT.split('\n'), 'node', ROOT);
  assert.equal(samples, 3);
  assert.deepEqual(Object.fromEntries(byPlace), {
    'fast-xml-parser': 1,
    'activities/ovirt/client.ts': 1,
    'native: node': 1,
  });
});

test('the server is counted by its own command name', () => {
  const { samples, byPlace } = breakdown(SCRIPT.split('\n'), 'temporal', ROOT);
  assert.equal(samples, 1);
  assert.deepEqual(Object.fromEntries(byPlace), { 'native: temporal': 1 });
});

test('a server sample goes to its innermost gRPC method or history queue task, else GC or transport', () => {
  assert.equal(
    serverUnitOf([
      'modernc.org/sqlite/lib._sqlite3VdbeExec',
      'go.temporal.io/server/service/history.(*visibilityQueueTaskExecutor).processUpsertExecution',
      'go.temporal.io/server/service/history.(*visibilityQueueTaskExecutor).Execute',
    ]),
    'visibility queue processUpsertExecution',
  );
  assert.equal(serverUnitOf(['go.temporal.io/server/service/history.(*transferQueueActiveTaskExecutor).processActivityTask']), 'transfer queue (active) processActivityTask');
  assert.equal(
    serverUnitOf([
      undefined,
      'runtime.mallocgc',
      'go.temporal.io/server/api/historyservice/v1._HistoryService_RespondWorkflowTaskCompleted_Handler',
      'google.golang.org/grpc.(*Server).processUnaryRPC',
    ]),
    'history RespondWorkflowTaskCompleted',
  );
  assert.equal(serverUnitOf(['go.temporal.io/api/workflowservice/v1._WorkflowService_PollWorkflowTaskQueue_Handler']), 'frontend PollWorkflowTaskQueue');
  assert.equal(serverUnitOf(['runtime.scanobject', 'runtime.gcDrain', 'runtime.gcBgMarkWorker']), 'Go GC (background)');
  assert.equal(serverUnitOf(['runtime.memmove', 'google.golang.org/grpc/internal/transport.(*loopyWriter).run']), 'gRPC (transport)');
  assert.equal(serverUnitOf(['runtime.copystack', 'runtime.newstack']), 'other');
  assert.equal(serverUnitOf([undefined, undefined]), 'unknown (outside the binary)');
});

test("the server's samples are named through the binary's function table; frames of other files are not looked up", () => {
  const script = `temporal 200 [001] 1.000001:    2004008 cpu-clock:ppp:
	         21bcf0d [unknown] (/opt/temporal)
	         2343651 [unknown] (/opt/temporal)

temporal 200 [000] 1.000002:    2004008 cpu-clock:ppp:
	    ffffffff81bdc7a7 __list_del_entry_valid_or_report ([kernel.kallsyms])
	         21bcf0d [unknown] (/opt/other)

node 100 [000] 1.000003:    2004008 cpu-clock:ppp:
	         21bcf0d [unknown] (/opt/temporal)
`;
  const samples = samplesOf(script.split('\n'), 'temporal');
  assert.deepEqual([...offsetsIn(samples, '/opt/temporal')].sort(), ['21bcf0d', '2343651']);
  const names = new Map([
    ['21bcf0d', 'modernc.org/sqlite/lib._sqlite3Step'],
    ['2343651', 'go.temporal.io/server/service/history.(*visibilityQueueTaskExecutor).processUpsertExecution'],
  ]);
  const { samples: n, byPlace } = serverBreakdown(samples, '/opt/temporal', names);
  assert.equal(n, 2);
  assert.deepEqual(Object.fromEntries(byPlace), { 'visibility queue processUpsertExecution': 1, 'unknown (outside the binary)': 1 });
});
