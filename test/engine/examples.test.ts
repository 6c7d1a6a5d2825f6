/**
 * Every examples/<workflowType>.json end to end on the production engine: `npm start -- --engine
 * postgres` (the Temporal server on PostgreSQL, mTLS on its frontend, the simulators, the main
 * worker and the demo proxy's copy worker connecting with the engine's client certificate), then
 * each example started as a user's client would, with the certificate, and waited for. The order
 * is a user's: a backup before its restore, drill, listing, verification and pruning.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { fileRecoveryDoneAction } from '../../contracts/operator-actions';
import { dataConverterFromEnv } from '../../lib/codec/keys';
import { projectRoot } from '../../lib/temporal/cli-path';
import { DEFAULT_TASK_QUEUE } from '../../lib/temporal/task-queues';
import { engineSkipReason } from '../helpers/engine';
import { startNpmStack, type NpmStartStack } from '../helpers/npm-start-stack';
import { freePortRange } from '../helpers/ports';

const skip = engineSkipReason();
let stack: NpmStartStack;
let client: Client;
let connection: Connection;

/** Examples that need another's result first come after it; the rest keep their file order. */
const ORDER = ['ovirtSnapshotBackup', 'ovirtListBackups', 'verifyBackups', 'ovirtRestore', 'ovirtRestoreDrill', 'pruneBackups', 'onappBackup', 'onappRestore', 'azureVmBackup', 'azureRestore'];

beforeAll(async () => {
  if (skip) return;
  stack = await startNpmStack({ name: 'engine-examples', args: ['--engine', 'postgres'], env: { ENGINE_PORT_BASE: String(await freePortRange(9)) }, timeoutMs: 300_000 });
  const output = stack.output();
  assert.match(output, /engine {10}Temporal server on PostgreSQL/, output);
  const tls = (name: string) => new RegExp(`${name}=(\\S+)`).exec(output)?.[1];
  const file = (name: string) => readFile(tls(name) ?? assert.fail(`npm start printed no ${name}:\n${output}`));
  connection = await Connection.connect({
    address: `127.0.0.1:${stack.ports.temporal}`,
    tls: {
      serverNameOverride: tls('TEMPORAL_TLS_SERVER_NAME'),
      serverRootCACertificate: await file('TEMPORAL_TLS_CA_FILE'),
      clientCertPair: { crt: await file('TEMPORAL_TLS_CERT_FILE'), key: await file('TEMPORAL_TLS_KEY_FILE') },
    },
  });
  // The stack's payload keys (the environment's, else the local key npm start made in its data folder), as backupctl finds them.
  client = new Client({ connection, namespace: 'default', dataConverter: dataConverterFromEnv({ ...process.env, BACKUP_DATA_DIR: stack.dataDir }) });
}, 360_000);

afterAll(async () => {
  await connection?.close();
  await stack?.stop();
});

describe.skipIf(skip)(`every example on npm start --engine postgres${skip ? ` (skipped: ${skip})` : ''}`, () => {
  test('each examples/ input completes on the PostgreSQL engine, through the workers, with mTLS', async () => {
    const all = (await readdir(join(projectRoot, 'examples'))).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));
    const types = [...ORDER.filter((t) => all.includes(t)), ...all.filter((t) => !ORDER.includes(t))];
    const outcomes: string[] = [];
    for (const workflowType of types) {
      const input = JSON.parse(await readFile(join(projectRoot, 'examples', `${workflowType}.json`), 'utf8'));
      const started = Date.now();
      const handle = await client.workflow.start(workflowType, { taskQueue: DEFAULT_TASK_QUEUE, workflowId: `example-${workflowType}-${started}`, args: [input] });
      if (workflowType === 'azureFileRecovery') {
        // The session waits for the user: once it is open, "done" ends it (and revokes the connection).
        for (let i = 0; ; i++) {
          const progress = await handle.query<{ step?: string; state?: string }>('progress').catch(() => undefined);
          if (progress?.step === 'session' || i > 600) break;
          await new Promise((r) => setTimeout(r, 200));
        }
        await handle.signal(fileRecoveryDoneAction);
      }
      const result = await Promise.race([
        handle.result().then(
          () => 'completed',
          (err: unknown) => `failed: ${err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : String(err)}`,
        ),
        new Promise<string>((r) => setTimeout(() => r('still running after 3 minutes'), 180_000)),
      ]);
      outcomes.push(`${workflowType}: ${result} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      console.log(outcomes.at(-1));
    }
    const bad = outcomes.filter((o) => !/: completed/.test(o));
    assert.deepEqual(bad, [], `${outcomes.join('\n')}\n--- stack ---\n${stack.output().slice(-4000)}`);
  });

  test('backupctl in a second shell finds the engine and its client certificate from what npm start wrote, and lists the runs', async () => {
    const listed = await stack.cli(['list', '--json']);
    assert.equal(listed.code, 0, `${listed.stdout}\n${listed.stderr}`);
    assert.match(listed.stdout, /ovirtSnapshotBackup/);
  });
});
