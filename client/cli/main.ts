/**
 * backupctl: start, follow, inspect, list and cancel backup runs, and manage schedules.
 * Exit codes: 0 success, 1 failed, 2 bad input or refused, 3 not found, 4 completed with failed items, 5 too late (the run had ended), 130 cancelled.
 */
import { parseArgs } from 'node:util';
import { EndpointRegistry } from '../../lib/config/endpoints';
import { BackupClient, failedItemsOf, type StartedRun } from '../backup-client';
import { BackupClientError, InvalidInputError, NotFoundError } from '../errors';
import { temporalSettings } from '../../lib/temporal/settings';
import { describeTemporalAuth } from '../../lib/temporal/connection';
import { workflowCatalog, type WorkflowEntry } from '../../contracts/catalog';
import { allProviderFlags, backupInput, providerCommands } from './backup-command';
import { ProgressView, actionsTable, fleetTable, listTable, onappBackupsTable, table } from './format';
import { runScheduleCommand, SCHEDULE_USAGE } from './schedule-command';
import { KEEP_FLAGS, REPOSITORY_USAGE, runPruneCommand, runRepositoryBackups, runVerifyCommand } from './repository-command';
import { readGivenFile } from '../input-file';
import { cleanupAction, operatorActions } from '../../contracts/operator-actions';

/** The run completed, but some of its items failed (a bulk delete's snapshot, a fleet's VM). */
const PARTIAL_FAILURE = 4;

const USAGE = `backupctl — VM backups as Temporal workflows

  backupctl start <workflowType> --input <json|@file> [--workflow-id ID] [--follow|--wait]
  backupctl backup <provider> [--endpoint NAME] [provider flags] [--follow|--wait]
${Object.values(providerCommands)
  .map((c) => `      ${c.usage}`)
  .join('\n')}
  backupctl backups onapp --vm VIRTUAL-SERVER-ID [--kind all|normal|incremental] [--endpoint NAME]   the backup catalogue
${REPOSITORY_USAGE}
  backupctl status <workflowId>
  backupctl result <workflowId>
  backupctl fleet <workflowId> [--outcome succeeded|failed|skipped|cancelled|not-started]   a fleet's per-VM table
  backupctl cancel <workflowId>
  backupctl cleanup <workflowId> --retry|--give-up [--note TEXT]   answer a run that needs attention
  backupctl done <workflowId>                  end an azureFileRecovery session now
  backupctl update|signal|query <workflowId> [NAME [JSON|@file]]   without NAME: what the run accepts
  backupctl list [--provider P] [--vm ID] [--status running|completed|failed|cancelled] [--type T] [--limit N]
  backupctl endpoints
  backupctl workflows
${SCHEDULE_USAGE}
Every command takes --json. Exit codes: 0 success, 1 failed, 2 bad input or refused, 3 not found, 4 completed with failed items,
5 too late (the run had already ended), 130 cancelled.
Environment: TEMPORAL_ADDRESS (else the local stack's, from what npm start writes under .data/, else 127.0.0.1:7233),
TEMPORAL_NAMESPACE (default), TEMPORAL_TASK_QUEUE (backup-orchestrator).
Credentials, as the workers': TEMPORAL_TLS_CERT_FILE + TEMPORAL_TLS_KEY_FILE (a client certificate, mTLS),
TEMPORAL_TLS_CA_FILE (the CA that signed the server's), TEMPORAL_TLS_SERVER_NAME, TEMPORAL_TLS=true, TEMPORAL_API_KEY.`;

/** The server this invocation talks to, and why: said in --help and under errors about runs. */
function serverLine(): string {
  try {
    const settings = temporalSettings();
    return `Temporal server: ${settings.address} (${settings.addressSource}), namespace ${settings.namespace}, ${describeTemporalAuth(settings.connection)}`;
  } catch (err) {
    return `Temporal server: not usable: ${(err as Error).message}`;
  }
}

async function readInput(value: string | undefined): Promise<unknown> {
  if (value === undefined) throw new InvalidInputError(['--input is required (JSON text, or @file)'], 'start');
  return readJson(value, '--input', 'start');
}

/** JSON text, or @file holding it. */
async function readJson(value: string, what: string, command: string): Promise<unknown> {
  const text = value.startsWith('@') ? await readGivenFile(value.slice(1), `${what} file`, command) : value;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError([`${what} is not valid JSON: ${(err as Error).message}`], command);
  }
}

export function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints a completed run's result; one that reports failed items exits PARTIAL_FAILURE, saying so. */
function printResult(result: unknown, workflowId: string): number {
  print(result);
  const failed = failedItemsOf(result);
  if (!failed) return 0;
  console.error(`backupctl: ${workflowId} completed, but ${failed} of its items failed (see "failed" and the results above)`);
  return PARTIAL_FAILURE;
}

async function follow(client: BackupClient, workflowId: string, json: boolean): Promise<void> {
  const bar = Boolean(process.stderr.isTTY) && !json;
  const view = new ProgressView();
  let last = '';
  for await (const status of client.follow(workflowId, 1000)) {
    const line = view.line(status, bar);
    if (line === last) continue;
    last = line;
    process.stderr.write(bar ? `\r\x1b[2K${line}` : `${line}\n`);
  }
  if (bar) process.stderr.write('\n');
}

async function startAndReport(client: BackupClient, run: StartedRun, workflowType: string, values: { follow: boolean; wait: boolean; json: boolean }): Promise<number> {
  process.stderr.write(run.alreadyRunning ? `a run for the same VM is already running: ${run.workflowId}; not starting a second one\n` : `started ${workflowType} as ${run.workflowId}\n`);
  // A run that waits for a person says so up front, with the command that answers it.
  for (const action of operatorActions(workflowType).filter((a) => a.kind === 'update' && a.name !== cleanupAction && a.command)) {
    process.stderr.write(`it waits for you: when finished, ${action.command!.replace('<id>', run.workflowId)} (${action.summary})\n`);
  }
  if (values.follow) await follow(client, run.workflowId, values.json);
  if (values.follow || values.wait) return printResult(await client.result(run.workflowId), run.workflowId);
  if (values.json) print(run);
  else console.log(run.workflowId);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const providerFlags = allProviderFlags();
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      input: { type: 'string' },
      'workflow-id': { type: 'string' },
      'task-queue': { type: 'string' },
      follow: { type: 'boolean', default: false },
      retry: { type: 'boolean', default: false },
      'give-up': { type: 'boolean', default: false },
      wait: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      provider: { type: 'string' },
      vm: { type: 'string' },
      status: { type: 'string' },
      type: { type: 'string' },
      limit: { type: 'string' },
      note: { type: 'string' },
      id: { type: 'string' },
      start: { type: 'string' },
      end: { type: 'string' },
      overlap: { type: 'string' },
      kind: { type: 'string' },
      outcome: { type: 'string' },
      all: { type: 'boolean', default: false },
      subset: { type: 'string' },
      proxy: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'time-zone': { type: 'string' },
      ...Object.fromEntries(Object.values(KEEP_FLAGS).map((f) => [f, { type: 'string' as const }])),
      ...Object.fromEntries(providerFlags.strings.filter((f) => f !== 'vm').map((f) => [f, { type: 'string' as const }])),
      ...Object.fromEntries(providerFlags.booleans.map((f) => [f, { type: 'boolean' as const }])),
    },
  });
  const [command, arg, ...rest] = positionals;
  if (!command || values.help) {
    console.log(`${USAGE}\n${serverLine()}`);
    return command || values.help ? 0 : 2;
  }

  if (command === 'endpoints') {
    const list = EndpointRegistry.load().publicList();
    if (values.json) print(list);
    else console.log(table([['NAME', 'VENDOR', 'API', 'URL'], ...list.map((e) => [e.name, e.vendor, e.apiVersion ?? '', e.url])]));
    return 0;
  }
  if (command === 'workflows') {
    const entries = Object.entries(workflowCatalog as Record<string, WorkflowEntry>).map(([name, e]) => ({ name, provider: e.provider, kind: e.kind ?? 'operation', summary: e.summary }));
    if (values.json) print(entries);
    else console.log(table([['WORKFLOW', 'PROVIDER', 'SUMMARY'], ...entries.map((e) => [e.name, e.provider, e.summary])]));
    return 0;
  }

  const needsArg = ['start', 'backup', 'backups', 'status', 'result', 'fleet', 'cancel', 'cleanup', 'done', 'update', 'signal', 'query'];
  if (needsArg.includes(command) && !arg) throw new InvalidInputError([`${command} needs an argument (see backupctl --help)`], command);
  if (!['list', 'schedule', 'verify', 'prune', ...needsArg].includes(command)) throw new InvalidInputError([`unknown command "${command}" (see backupctl --help)`], command);

  const client = await BackupClient.connect();
  try {
    switch (command) {
      case 'start': {
        const run = await client.start(arg!, await readInput(values.input), { workflowId: values['workflow-id'], taskQueue: values['task-queue'] });
        return await startAndReport(client, run, arg!, values);
      }
      case 'backup': {
        if (!providerCommands[arg!]) throw new InvalidInputError([`unknown provider "${arg}"; known: ${Object.keys(providerCommands).join(', ')}`], 'backup');
        const { workflowType, input } = backupInput(arg!, values as Record<string, string | boolean | undefined>);
        const run = await client.start(workflowType, input, { workflowId: values['workflow-id'], taskQueue: values['task-queue'] });
        return await startAndReport(client, run, workflowType, values);
      }
      case 'verify':
        return await runVerifyCommand(client, arg, values);
      case 'prune':
        if (arg !== undefined) throw new InvalidInputError([`prune takes no argument ("${arg}"): say whose backups with --vm ID or --all`], 'prune');
        return await runPruneCommand(client, values);
      case 'backups': {
        if (arg === 'ovirt') return await runRepositoryBackups(client, values);
        if (arg !== 'onapp')
          throw new InvalidInputError([`backups lists OnApp catalogues ("backups onapp") and the oVirt repository ("backups ovirt --proxy ID"); for other vendors use their workflows`], 'backups');
        const { input } = backupInput('onapp', values as Record<string, string | boolean | undefined>);
        const listing = (await client.execute('onappListBackups', { endpoint: input.endpoint, virtualServerId: input.virtualServerId, ...(values.kind ? { kind: values.kind } : {}) })) as Parameters<
          typeof onappBackupsTable
        >[0];
        if (values.json) print(listing);
        else console.log(onappBackupsTable(listing));
        return 0;
      }
      case 'status': {
        const status = await client.status(arg!);
        if (values.json) print(status);
        else console.log(new ProgressView().line(status, false));
        return 0;
      }
      case 'result':
        return printResult(await client.result(arg!), arg!);
      case 'fleet': {
        const fleet = await client.fleetTable(arg!);
        const rows = values.outcome ? fleet.rows.filter((r) => r.outcome === values.outcome) : fleet.rows;
        if (values.json) print({ ...fleet, rows });
        else console.log(fleetTable(fleet, rows));
        return 0;
      }
      case 'cancel':
        await client.cancel(arg!);
        if (values.json) print({ workflowId: arg, cancelRequested: true });
        else console.log(`cancellation requested for ${arg}`);
        return 0;
      case 'cleanup': {
        if (values.retry === values['give-up']) throw new InvalidInputError(['give exactly one of --retry and --give-up'], 'cleanup');
        const answer = await client.resolveCleanup(arg!, values.retry ? 'retry' : 'give-up', values.note);
        if (values.json) print({ workflowId: arg, ...answer });
        else console.log(`${arg} took "${answer.action}" for ${answer.leftovers.join(', ')}: ${answer.next}`);
        return 0;
      }
      case 'done': {
        const answer = (await client.update(arg!, 'done')) as { next?: string };
        if (values.json) print({ workflowId: arg, ...answer });
        else console.log(`${arg}: the session ends; ${answer.next ?? ''}`.trimEnd());
        return 0;
      }
      case 'update':
      case 'signal':
      case 'query': {
        const [name, given] = rest;
        if (!name) {
          const accepted = await client.actions(arg!);
          if (values.json) print(accepted);
          else console.log(actionsTable(accepted));
          return 0;
        }
        const argument = given === undefined ? undefined : await readJson(given, `${command} argument`, command);
        if (command === 'signal') {
          await client.signal(arg!, name, argument);
          if (values.json) print({ workflowId: arg, signal: name, sent: true });
          else console.log(`signal "${name}" sent to ${arg}`);
          return 0;
        }
        print(command === 'update' ? await client.update(arg!, name, argument) : await client.query(arg!, name, argument));
        return 0;
      }
      case 'list': {
        const limit = values.limit === undefined ? undefined : Number(values.limit);
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new InvalidInputError(['--limit must be a whole number ≥ 1'], 'list');
        const runs = await client.list({ provider: values.provider, vmId: values.vm, status: values.status, type: values.type, limit });
        if (values.json) print(runs);
        else console.log(runs.length ? listTable(runs) : 'no runs');
        return 0;
      }
      case 'schedule':
        return await runScheduleCommand(client, arg, rest, values);
    }
    return 2;
  } finally {
    await client.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof BackupClientError) {
      // A run that is not there may be on another server: say which one was asked.
      console.error(`backupctl: ${err.message}${err instanceof NotFoundError ? `\n  (asked: ${serverLine()})` : ''}`);
      process.exit(err.exitCode);
    }
    console.error(`backupctl: ${(err as Error).message ?? String(err)}`);
    process.exit(1);
  },
);
