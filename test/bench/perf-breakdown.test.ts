/** bench/perf-breakdown.ts: which place a `perf script` sample is charged to. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { breakdown } from '../../bench/perf-breakdown';

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
