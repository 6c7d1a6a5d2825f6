/**
 * backupctl: start, follow, inspect and cancel backup runs.
 * Exit codes: 0 success, 1 failed, 2 bad input, 3 not found, 130 cancelled.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { EndpointRegistry } from '../../lib/config/endpoints';
import { BackupClient } from '../backup-client';
import { BackupClientError, InvalidInputError } from '../errors';
import { workflowCatalog } from '../workflow-catalog';
import { progressLine } from './format';

const USAGE = `backupctl — VM backups as Temporal workflows

  backupctl start <workflowType> --input <json|@file> [--workflow-id ID] [--follow|--wait] [--json]
  backupctl status <workflowId> [--json]
  backupctl result <workflowId>
  backupctl cancel <workflowId>
  backupctl endpoints [--json]
  backupctl workflows

Environment: TEMPORAL_ADDRESS (127.0.0.1:7233), TEMPORAL_NAMESPACE (default), TEMPORAL_TASK_QUEUE (backup-orchestrator).`;

async function readInput(value: string | undefined): Promise<unknown> {
  if (value === undefined) throw new InvalidInputError(['--input is required (JSON text, or @file)'], 'start');
  const text = value.startsWith('@') ? await readFile(value.slice(1), 'utf8') : value;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError([`--input is not valid JSON: ${(err as Error).message}`], 'start');
  }
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

async function follow(client: BackupClient, workflowId: string, json: boolean): Promise<void> {
  const tty = process.stderr.isTTY && !json;
  let last = '';
  for await (const status of client.follow(workflowId, 1000)) {
    const line = progressLine(status);
    if (line === last) continue;
    last = line;
    if (tty) process.stderr.write(`\r\x1b[2K${line}`);
    else process.stderr.write(`${line}\n`);
  }
  if (tty) process.stderr.write('\n');
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      input: { type: 'string' },
      'workflow-id': { type: 'string' },
      'task-queue': { type: 'string' },
      follow: { type: 'boolean', default: false },
      wait: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, arg] = positionals;
  if (!command || values.help) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }

  if (command === 'endpoints') {
    const list = EndpointRegistry.load().publicList();
    if (values.json) print(list);
    else for (const e of list) console.log(`${e.name.padEnd(20)} ${e.vendor.padEnd(9)} ${(e.apiVersion ?? '').padEnd(6)} ${e.url}`);
    return 0;
  }
  if (command === 'workflows') {
    for (const [name, entry] of Object.entries(workflowCatalog)) console.log(`${name.padEnd(24)} ${entry.summary}`);
    return 0;
  }

  if (!arg) throw new InvalidInputError([`${command} needs an argument`], command);
  const client = await BackupClient.connect();
  try {
    switch (command) {
      case 'start': {
        const run = await client.start(arg, await readInput(values.input), { workflowId: values['workflow-id'], taskQueue: values['task-queue'] });
        process.stderr.write(run.alreadyRunning ? `${run.workflowId} is already running; following that run\n` : `started ${arg} as ${run.workflowId}\n`);
        if (values.json && !values.wait && !values.follow) print(run);
        if (values.follow) await follow(client, run.workflowId, values.json);
        if (values.follow || values.wait) print(await client.result(run.workflowId));
        else if (!values.json) console.log(run.workflowId);
        return 0;
      }
      case 'status': {
        const status = await client.status(arg);
        if (values.json) print(status);
        else console.log(progressLine(status));
        return 0;
      }
      case 'result':
        print(await client.result(arg));
        return 0;
      case 'cancel':
        await client.cancel(arg);
        console.log(`cancellation requested for ${arg}`);
        return 0;
      default:
        throw new InvalidInputError([`unknown command "${command}"`, USAGE], command);
    }
  } finally {
    await client.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof BackupClientError) {
      console.error(`backupctl: ${err.message}`);
      process.exit(err.exitCode);
    }
    console.error(`backupctl: ${(err as Error).message ?? String(err)}`);
    process.exit(1);
  },
);
