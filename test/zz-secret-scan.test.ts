/**
 * Runs last (test files run in name order): adds up what every harness of this `npm test` run
 * found when it scanned all its workflow histories and worker logs for the passwords, client
 * secrets, tokens and recovery passwords in play. The total must be zero hits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../lib/temporal/cli-path';
import type { SecretHit } from './helpers/secret-scan';

test('no secret in any history or worker log produced by the suite', async (t) => {
  const dir = join(projectRoot, '.artifacts', 'secret-scan');
  const files = await readdir(dir).catch(() => [] as string[]);
  if (!files.length) {
    t.skip('no scans recorded: run the whole suite (npm test) for this check');
    return;
  }
  let histories = 0;
  let logEntries = 0;
  let secrets = 0;
  const hits: Array<SecretHit & { file: string }> = [];
  for (const file of files) {
    const scan = JSON.parse(await readFile(join(dir, file), 'utf8')) as { histories: number; logEntries: number; secrets: number; hits: SecretHit[] };
    histories += scan.histories;
    logEntries += scan.logEntries;
    secrets += scan.secrets;
    hits.push(...scan.hits.map((h) => ({ ...h, file })));
  }
  console.log(`secret scan: ${files.length} harnesses, ${histories} histories, ${logEntries} log entries, ${secrets} secrets looked for, ${hits.length} hits`);
  assert.ok(histories > 50, `the scan saw the suite's histories (${histories})`);
  assert.ok(secrets > files.length, 'it looked for issued tokens as well as configured passwords');
  assert.deepEqual(hits, []);
});
