/**
 * `npm start`: the local stack. Temporal dev server (state in a SQLite file under .data/, UI on
 * :8233), the vendor simulators, the main worker and the demo proxy VM's copy worker. Ctrl-C stops
 * all of it. Ports and folders can be moved with environment variables (see README).
 *
 * `npm start -- --engine postgres`: the same stack on the production engine instead of the dev
 * server: the Temporal server on PostgreSQL (lib/temporal/postgres-engine.ts, the compose stack's
 * config), mTLS on its frontend, the workers connecting with the engine's client certificate. It
 * has no Web UI of its own (the compose stack runs temporalio/ui).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { projectRoot, resolveTemporalCli } from '../lib/temporal/cli-path';
import { searchAttributeArgs } from '../lib/temporal/search-attributes';
import { copyTaskQueueFor } from '../lib/temporal/task-queues';
import { OVIRT_DEMO } from '../simulators/ovirt';
import { simulatorDemos, startSimulators } from '../simulators/serve';
import { assertPortsFree, PortInUseError } from '../lib/config/ports';
import { removeLocalStack, writeLocalStack } from '../lib/config/local-stack';
import { AesGcmCodec } from '../lib/codec/aes-gcm-codec';
import { CodecServer } from '../lib/codec/codec-server';
import { codecAuthConfigured, codecAuthFromEnv, CodecAuthConfigError, ensureLocalCodecToken, localCodecTokenFile, type CodecAuthOptions } from '../lib/codec/codec-auth';
import { codecKeysFromEnv, encryptionNotice, ensureLocalKeyFile, localKeyFile } from '../lib/codec/keys';
import { dataDir as dataDirOf } from '../lib/config/data-dir';
import { TEMPORAL_CREDENTIAL_ENV, temporalConnectionFromEnv, temporalConnectionOptions } from '../lib/temporal/connection';
import { enginePortsFromEnv, PostgresEngine } from '../lib/temporal/postgres-engine';
import { hugePageTunables } from '../activities/copy/huge-pages';

/** `--engine dev` (default) or `--engine postgres` (also STACK_ENGINE). */
function engineChoice(argv: string[]): 'dev' | 'postgres' {
  const i = argv.indexOf('--engine');
  const value = (i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--engine='))?.slice('--engine='.length)) ?? process.env.STACK_ENGINE ?? 'dev';
  if (value !== 'dev' && value !== 'postgres') {
    console.error(`npm start: --engine ${value} is not one of dev, postgres`);
    process.exit(2);
  }
  return value;
}
const engineKind = engineChoice(process.argv.slice(2));

const env = process.env;
const dataDir = dataDirOf(env);
const port = Number(env.TEMPORAL_PORT ?? 7233);
const uiPort = Number(env.TEMPORAL_UI_PORT ?? 8233);
const address = `127.0.0.1:${port}`;
// The stack's own dev server: plaintext on loopback, whatever TEMPORAL_TLS_* the shell carries for other servers.
const stackConnection = temporalConnectionFromEnv({}, { address });
const withoutCredentials = Object.fromEntries(TEMPORAL_CREDENTIAL_ENV.map((name) => [name, '']));
const children: ChildProcess[] = [];
let stopping = false;
let engine: PostgresEngine | undefined;
const enginePorts = () => enginePortsFromEnv(env);

function prefixed(name: string, child: ChildProcess): ChildProcess {
  const write = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) process.stdout.write(`[${name}] ${line}\n`);
  };
  child.stdout?.on('data', write);
  child.stderr?.on('data', write);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[${name}] exited (${signal ?? code}); stopping the stack`);
      void stop(1);
    }
  });
  children.push(child);
  return child;
}

async function waitForServer(): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const connection = await Connection.connect({ ...temporalConnectionOptions(stackConnection), connectTimeout: 1000 });
      await connection.healthService.check({});
      await connection.close();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Temporal server on ${address} did not come up: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

let sims: Awaited<ReturnType<typeof startSimulators>> | undefined;

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const child of [...children].reverse()) child.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  await sims?.stop();
  await codecServer?.stop();
  await engine?.stop().catch((err: Error) => console.error(`[engine] ${err.message}`));
  removeLocalStack({ ...env, BACKUP_DATA_DIR: dataDir });
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

await mkdir(dataDir, { recursive: true });
const codecPort = Number(env.CODEC_SERVER_PORT ?? 8234);
try {
  await assertPortsFree([
    { port, what: 'the Temporal server', variable: 'TEMPORAL_PORT' },
    ...(engineKind === 'dev'
      ? [{ port: uiPort, what: "Temporal's Web UI", variable: 'TEMPORAL_UI_PORT' }]
      : Object.entries(enginePorts())
          .filter(([k]) => k !== 'frontend')
          .map(([k, p]) => ({ port: p, what: `the engine's ${k}`, variable: 'ENGINE_PORT_BASE' }))),
    { port: codecPort, what: 'the codec server', variable: 'CODEC_SERVER_PORT' },
    ...simulatorDemos.map((d) => ({ port: Number(env[d.portEnv] ?? d.defaultPort), what: `the ${d.name} simulator`, variable: d.portEnv })),
    ...(env.METRICS_PORT ? [{ port: Number(env.METRICS_PORT), what: "the worker's metrics", variable: 'METRICS_PORT' }] : []),
  ]);
} catch (err) {
  if (!(err instanceof PortInUseError)) throw err;
  console.error(`npm start: nothing was started.\n${err.message}`);
  process.exit(1);
}
// Payloads are encrypted in the demo as in production: a local key unless one is configured.
const codecEnv: Record<string, string> = {};
if (!env.BACKUP_CODEC_KEYS && !env.BACKUP_CODEC_KEYS_FILE) {
  ensureLocalKeyFile(localKeyFile({ ...env, BACKUP_DATA_DIR: dataDir }));
  codecEnv.BACKUP_CODEC_KEYS_FILE = localKeyFile({ ...env, BACKUP_DATA_DIR: dataDir });
}
const codecKeys = codecKeysFromEnv({ ...env, ...codecEnv })!;
// The codec server is never open. Configured credentials are used as in production; otherwise a
// random token is made into .data/ (0600) for the CLI and scripts, and the UI's own origin is
// admitted without one on loopback, as the dev server's UI cannot send a token (docs/web-ui.md).
const codecTokenFile = localCodecTokenFile({ ...env, BACKUP_DATA_DIR: dataDir });
let codecAuth: CodecAuthOptions;
try {
  codecAuth = codecAuthConfigured(env) ? codecAuthFromEnv(env) : { tokens: [ensureLocalCodecToken(codecTokenFile)] };
} catch (err) {
  if (!(err instanceof CodecAuthConfigError)) throw err;
  console.error(`npm start: nothing was started: codec server: ${err.message}`);
  process.exit(2);
}
const codecServer = new CodecServer({
  codec: new AesGcmCodec(codecKeys),
  allowedOrigins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
  auth: codecAuth,
  demoAdmitUiOrigins: true,
});
const codecUrl = await codecServer.start(codecPort);
if (engineKind === 'dev') {
  const cli = resolveTemporalCli();
  prefixed(
    'temporal',
    spawn(
      cli,
      [
        'server',
        'start-dev',
        '--db-filename',
        join(dataDir, 'temporal.db'),
        '--port',
        String(port),
        '--ui-port',
        String(uiPort),
        '--ip',
        '127.0.0.1',
        '--log-level',
        'warn',
        '--ui-disable-news-fetch',
        '--ui-codec-endpoint',
        codecUrl,
        ...searchAttributeArgs(),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
} else {
  try {
    engine = await PostgresEngine.start({ dir: join(dataDir, 'engine'), ports: enginePorts(), onLog: (line) => process.stdout.write(`[temporal-server] ${line}\n`) });
  } catch (err) {
    console.error(`[engine] ${(err as Error).message}`);
    await stop(1);
  }
}
sims = await startSimulators({ dataDir: join(dataDir, 'simulators') });
const endpointsFile = join(dataDir, 'endpoints.simulators.json');
await writeFile(endpointsFile, JSON.stringify({ endpoints: sims.endpoints }, null, 2));
if (!engine) await waitForServer(); // the engine waited for its frontend itself (over mTLS)

const repositoryDir = env.BACKUP_REPOSITORY_DIR ?? join(dataDir, 'repository');
const workerEnv = {
  ...env,
  ...codecEnv,
  ...sims.secrets,
  ...withoutCredentials,
  // On the engine: the frontend's client certificate (mTLS), as TEMPORAL_TLS_* (lib/config/worker-settings.ts).
  ...engine?.clientEnv(),
  TEMPORAL_ADDRESS: address,
  BACKUP_ENDPOINTS_FILE: env.BACKUP_ENDPOINTS_FILE ?? endpointsFile,
  // Versioned as in production, but one generation of workers at a time: each start makes its
  // workers' version current, and open runs move along (AUTO_UPGRADE, as before versioning, with
  // patched() keeping them replayable); a run pinned to a previous commit's version would wait for
  // workers that never come back. Either can be set to try the production behaviour.
  WORKER_SET_CURRENT_VERSION: env.WORKER_SET_CURRENT_VERSION ?? 'always',
  WORKER_VERSIONING_BEHAVIOR: env.WORKER_VERSIONING_BEHAVIOR ?? 'AUTO_UPGRADE',
};
const tsx = ['--import', 'tsx'];
prefixed('worker', spawn(process.execPath, [...tsx, join(projectRoot, 'workers/main-worker.ts')], { env: workerEnv, stdio: ['ignore', 'pipe', 'pipe'] }));
prefixed(
  'copy-worker',
  spawn(process.execPath, [...tsx, join(projectRoot, 'workers/copy-worker.ts')], {
    env: {
      ...workerEnv,
      COPY_TASK_QUEUE: copyTaskQueueFor(OVIRT_DEMO.proxyVmId),
      COPY_DEVICE_BY_ID_DIR: sims.extra.ovirtDeviceByIdDir,
      COPY_DEVICE_DIR: sims.extra.ovirtDeviceDir,
      // The simulated imageio's self-signed certificate: the CA of ovirtIncrementalBackup's transfer URLs.
      ...(sims.extra.ovirtImageioCaFile ? { IMAGEIO_CA_FILE: sims.extra.ovirtImageioCaFile } : {}),
      BACKUP_REPOSITORY_DIR: repositoryDir,
      GLIBC_TUNABLES: hugePageTunables(env),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }),
);

// Clients on this checkout (backupctl in another shell) find the server and the profiles here, as they find the codec key.
writeLocalStack(
  {
    pid: process.pid,
    temporalAddress: address,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    codecUrl,
    endpointsFile: workerEnv.BACKUP_ENDPOINTS_FILE,
    proxyVmIds: [OVIRT_DEMO.proxyVmId],
    temporalTlsEnv: Object.fromEntries(Object.entries(engine?.clientEnv() ?? {}).filter(([k]) => k.startsWith('TEMPORAL_TLS_'))),
  },
  { ...env, BACKUP_DATA_DIR: dataDir },
);

console.log(`
backup-orchestrator local stack
  Temporal        ${address} (namespace default, task queue backup-orchestrator)
${
  engine
    ? `  engine          Temporal server on PostgreSQL (${join(dataDir, 'engine')}), frontend with mTLS; clients need:
${Object.entries(engine.clientEnv())
  .map(([k, v]) => `                    ${k}=${v}`)
  .join('\n')}`
    : `  Web UI          http://127.0.0.1:${uiPort} (payloads decoded by the codec server ${codecUrl})`
}
  codec server    ${codecUrl}: callers need ${codecServer.describeAuth()}${codecAuthConfigured(env) ? '' : `; the token is in ${codecTokenFile}`}
  payloads        ${encryptionNotice({ ...env, ...codecEnv })}
  simulators      ${sims.simulators.map((s) => `${s.name} ${s.url}`).join(', ')}
  endpoints       ${endpointsFile}
  repository      ${repositoryDir}
Try:  npx backupctl start ovirtSnapshotBackup --input @examples/ovirtSnapshotBackup.json --follow
      temporal workflow show -w <id> --address ${address} --codec-endpoint ${codecUrl} --codec-auth "Bearer $(cat ${codecAuthConfigured(env) ? '<your token file>' : codecTokenFile})"
Ctrl-C stops everything.`);
