/**
 * The production engine, run here: PostgreSQL (Debian's server programs, as the `postgres` user
 * when we are root, on a data directory of ours, never a system service), the databases set up with
 * Temporal's SQL schema tool, and the Temporal server (4 history shards) started with the SAME
 * config file the compose stack mounts (deploy/temporal/config-postgres.yaml), the differences
 * (ports, database port and password, certificate folder) given as environment. The frontend
 * requires client certificates (scripts/make-certs.sh writes a test CA into <dir>/certs).
 *
 * Used by scripts/engine.ts, `npm start -- --engine postgres` and the `engine` test lane, which
 * SIGKILLs the server and restarts PostgreSQL under running backups.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { allSearchAttributes } from '../../contracts/search-attributes';
import { findPostgresBin, requireTemporalServer, type TemporalServerTools } from './server-path';
import { projectRoot } from './tool-path';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const ENGINE_CONFIG_FILE = join(projectRoot, 'deploy', 'temporal', 'config-postgres.yaml');
export const ENGINE_DYNAMIC_CONFIG_FILE = join(projectRoot, 'deploy', 'temporal', 'dynamicconfig.yaml');
/** How long closed runs stay listable (the compose stack's setup job registers the same). */
export const NAMESPACE_RETENTION_DAYS = 7;
export const NAMESPACE = 'default';

export interface EnginePorts {
  postgres: number;
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

/** The upstream defaults (the compose stack's): frontend 7233, PostgreSQL 5432. */
export const DEFAULT_ENGINE_PORTS: EnginePorts = {
  postgres: 5432,
  frontend: 7233,
  frontendHttp: 7243,
  frontendMembership: 6933,
  history: 7234,
  historyMembership: 6934,
  matching: 7235,
  matchingMembership: 6935,
  worker: 7239,
  workerMembership: 6939,
};

/**
 * Ports from the environment: the frontend on TEMPORAL_PORT (7233); ENGINE_PORT_BASE moves all the
 * others (PostgreSQL, then the services' gRPC and membership ports: base … base+8), else the
 * upstream defaults.
 */
export function enginePortsFromEnv(env: NodeJS.ProcessEnv = process.env): EnginePorts {
  const ports = { ...DEFAULT_ENGINE_PORTS, frontend: Number(env.TEMPORAL_PORT ?? DEFAULT_ENGINE_PORTS.frontend) };
  if (env.ENGINE_PORT_BASE) {
    const base = Number(env.ENGINE_PORT_BASE);
    (Object.keys(DEFAULT_ENGINE_PORTS) as Array<keyof EnginePorts>).filter((k) => k !== 'frontend').forEach((k, i) => (ports[k] = base + i));
  }
  return ports;
}

export interface EngineOptions {
  /** Everything the engine keeps: pgdata/, certs/, logs, the database password. */
  dir: string;
  ports?: Partial<EnginePorts>;
  /** mTLS on the frontend (default on). */
  tls?: boolean;
  /** fsync off: for throw-away test databases (a killed process loses nothing, a power cut would). */
  fast?: boolean;
  /** Each line the server and PostgreSQL print (default: dropped; logs are in <dir>/*.log too). */
  onLog?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** Client-side TLS files, as the worker settings name them (lib/config/worker-settings.ts). */
export interface ClientTls {
  TEMPORAL_TLS_CERT_FILE: string;
  TEMPORAL_TLS_KEY_FILE: string;
  TEMPORAL_TLS_CA_FILE: string;
  TEMPORAL_TLS_SERVER_NAME: string;
}

export class PostgresEngine {
  private server?: ChildProcess;
  private serverExit?: Promise<unknown>;
  readonly ports: EnginePorts;
  readonly tools: TemporalServerTools;
  readonly pgBin: string;
  readonly pgData: string;
  readonly certsDir: string;
  private readonly password: string;
  private readonly asPostgres: string[];

  private constructor(readonly options: EngineOptions) {
    const env = options.env ?? process.env;
    this.tools = requireTemporalServer(env);
    const pgBin = findPostgresBin(env);
    if (!pgBin) throw new Error('PostgreSQL is not installed: `apt-get install postgresql` (Debian), or set PG_BIN_DIR to the folder holding initdb and pg_ctl');
    this.pgBin = pgBin;
    this.ports = { ...DEFAULT_ENGINE_PORTS, ...options.ports };
    this.pgData = join(options.dir, 'pgdata');
    this.certsDir = join(options.dir, 'certs');
    // initdb and pg_ctl refuse root: as root they run as the postgres user, which must own pgdata.
    this.asPostgres = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
    const passwordFile = join(options.dir, 'postgres-password');
    if (!existsSync(passwordFile)) {
      mkdirSync(options.dir, { recursive: true });
      writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
    }
    this.password = readFileSync(passwordFile, 'utf8').trim();
  }

  /** Sets up what is missing (cluster, databases, schema, certificates), starts both servers, registers the namespace and search attributes. */
  static async start(options: EngineOptions): Promise<PostgresEngine> {
    const engine = new PostgresEngine({ ...options, dir: resolve(options.dir) });
    await engine.prepare();
    await engine.startPostgres();
    await engine.setupSchema();
    await engine.startServer();
    await engine.registerNamespace();
    return engine;
  }

  get address(): string {
    return `127.0.0.1:${this.ports.frontend}`;
  }

  get tls(): boolean {
    return this.options.tls !== false;
  }

  /** The files a caller with the lane's client certificate uses (cert "client"; "stranger" is signed by another CA). */
  clientTls(cert: 'client' | 'stranger' = 'client'): ClientTls {
    return {
      TEMPORAL_TLS_CERT_FILE: join(this.certsDir, `${cert}.pem`),
      TEMPORAL_TLS_KEY_FILE: join(this.certsDir, `${cert}-key.pem`),
      TEMPORAL_TLS_CA_FILE: join(this.certsDir, 'ca.pem'),
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    };
  }

  /** Environment for a worker, backupctl or the client library: address plus TLS files. */
  clientEnv(): Record<string, string> {
    return { TEMPORAL_ADDRESS: this.address, TEMPORAL_NAMESPACE: NAMESPACE, ...(this.tls ? this.clientTls() : {}) };
  }

  /** Options for Connection.connect / NativeConnection.connect with the lane's client certificate. */
  connectionOptions(cert: 'client' | 'stranger' | 'none' = 'client') {
    if (!this.tls) return { address: this.address };
    const files = cert === 'none' ? undefined : this.clientTls(cert);
    return {
      address: this.address,
      tls: {
        serverNameOverride: 'localhost',
        serverRootCACertificate: readFileSync(join(this.certsDir, 'ca.pem')),
        ...(files ? { clientCertPair: { crt: readFileSync(files.TEMPORAL_TLS_CERT_FILE), key: readFileSync(files.TEMPORAL_TLS_KEY_FILE) } } : {}),
      },
    };
  }

  /** `temporal` CLI flags for this engine (address and client certificate). */
  cliArgs(): string[] {
    const t = this.clientTls();
    return [
      '--address',
      this.address,
      ...(this.tls
        ? ['--tls-cert-path', t.TEMPORAL_TLS_CERT_FILE, '--tls-key-path', t.TEMPORAL_TLS_KEY_FILE, '--tls-ca-path', t.TEMPORAL_TLS_CA_FILE, '--tls-server-name', t.TEMPORAL_TLS_SERVER_NAME]
        : []),
    ];
  }

  private log(line: string): void {
    this.options.onLog?.(line);
  }

  private async prepare(): Promise<void> {
    const { dir } = this.options;
    mkdirSync(dir, { recursive: true });
    // The postgres user must reach pgdata: the folder itself is opened up for traversal (not reading).
    chmodSync(dir, 0o711);
    if (this.tls) await run('bash', [join(projectRoot, 'scripts', 'make-certs.sh'), this.certsDir]);
    if (existsSync(join(this.pgData, 'PG_VERSION'))) return;
    mkdirSync(this.pgData, { recursive: true, mode: 0o700 });
    const pwFile = join(dir, 'initdb-password');
    writeFileSync(pwFile, this.password, { mode: 0o600 });
    if (this.asPostgres.length) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(this.pgData, Number(stdout.trim()), Number(gid.trim()));
      chownSync(pwFile, Number(stdout.trim()), Number(gid.trim()));
    }
    try {
      await run(this.asPostgres[0] ?? join(this.pgBin, 'initdb'), [
        ...this.asPostgres.slice(1),
        ...(this.asPostgres.length ? [join(this.pgBin, 'initdb')] : []),
        '-D',
        this.pgData,
        '-U',
        'temporal',
        `--pwfile=${pwFile}`,
        '--auth=scram-sha-256',
        '-E',
        'UTF8',
        '--locale=C',
      ]);
    } finally {
      rmSync(pwFile, { force: true });
    }
  }

  private pgCtl(args: string[]): Promise<{ stdout: string; stderr: string }> {
    const pgCtl = join(this.pgBin, 'pg_ctl');
    const argv = this.asPostgres.length ? [...this.asPostgres.slice(1), pgCtl, ...args] : args;
    return run(this.asPostgres[0] ?? pgCtl, argv, { timeout: 120_000 });
  }

  /** pg_ctl start on the engine's port, loopback only, no Unix socket; waits until it accepts connections. */
  async startPostgres(): Promise<void> {
    const settings = [
      `-p ${this.ports.postgres}`,
      "-c listen_addresses='127.0.0.1'",
      "-c unix_socket_directories=''",
      '-c max_connections=200',
      ...(this.options.fast ? ['-c fsync=off', '-c full_page_writes=off'] : []),
    ].join(' ');
    await this.pgCtl(['start', '-D', this.pgData, '-w', '-t', '60', '-l', join(this.pgData, 'postgresql.log'), '-o', settings]);
  }

  /** pg_ctl stop (fast: open connections are cut, as in a database failover). */
  async stopPostgres(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.pgCtl(['stop', '-D', this.pgData, '-w', '-m', mode]).catch((err: Error) => {
      if (!/not running|No such file|does not exist/i.test(err.message)) throw err;
    });
  }

  /** `pg_ctl restart -m fast`: every connection the server holds is cut, then the database is back. */
  async restartPostgres(): Promise<void> {
    await this.stopPostgres('fast');
    await this.startPostgres();
  }

  /** The postmaster's pid (first line of postmaster.pid), for a SIGKILL. */
  postgresPid(): number | undefined {
    const file = join(this.pgData, 'postmaster.pid');
    return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : undefined;
  }

  private sqlTool(database: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
    return run(this.tools.sqlTool, ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(this.ports.postgres), '-u', 'temporal', '--pw', this.password, '--db', database, ...args], {
      timeout: 300_000,
    });
  }

  /** Both databases, created once and brought to the schema version of the pinned server (update-schema is idempotent). */
  private async setupSchema(): Promise<void> {
    for (const [database, schema] of [
      ['temporal', 'temporal'],
      ['temporal_visibility', 'visibility'],
    ] as const) {
      const marker = join(this.options.dir, `${database}.created`);
      if (!existsSync(marker)) {
        await this.sqlTool(database, ['create-database']).catch((err: Error) => {
          if (!/already exists/i.test(err.message)) throw err;
        });
        await this.sqlTool(database, ['setup-schema', '-v', '0.0']);
        writeFileSync(marker, new Date().toISOString());
      }
      await this.sqlTool(database, ['update-schema', '-d', join(this.tools.schemaDir, 'v12', schema, 'versioned')]);
    }
  }

  /** The environment the shared config file is rendered with. */
  serverEnv(): NodeJS.ProcessEnv {
    const p = this.ports;
    return {
      ...(this.options.env ?? process.env),
      POSTGRES_SEEDS: '127.0.0.1',
      POSTGRES_PORT: String(p.postgres),
      POSTGRES_USER: 'temporal',
      POSTGRES_PWD: this.password,
      BIND_ON_IP: '127.0.0.1',
      TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
      FRONTEND_GRPC_PORT: String(p.frontend),
      FRONTEND_HTTP_PORT: String(p.frontendHttp),
      FRONTEND_MEMBERSHIP_PORT: String(p.frontendMembership),
      HISTORY_GRPC_PORT: String(p.history),
      HISTORY_MEMBERSHIP_PORT: String(p.historyMembership),
      MATCHING_GRPC_PORT: String(p.matching),
      MATCHING_MEMBERSHIP_PORT: String(p.matchingMembership),
      WORKER_GRPC_PORT: String(p.worker),
      WORKER_MEMBERSHIP_PORT: String(p.workerMembership),
      DYNAMIC_CONFIG_FILE_PATH: ENGINE_DYNAMIC_CONFIG_FILE,
      TEMPORAL_TLS_DIR: this.tls ? this.certsDir : '',
    };
  }

  /** Starts the server (a previous one must be gone) and waits until the frontend answers over mTLS. */
  async startServer(timeoutMs = 120_000): Promise<void> {
    const child = spawn(this.tools.server, ['--config-file', ENGINE_CONFIG_FILE, '--allow-no-auth', 'start'], {
      cwd: projectRoot,
      env: this.serverEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.server = child;
    this.serverExit = once(child, 'exit');
    let tail = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) this.log(line);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the Temporal server exited (${child.exitCode ?? child.signalCode}):\n${tail}`);
      try {
        const connection = await Connection.connect({ ...this.connectionOptions(), connectTimeout: 2_000 });
        try {
          await connection.workflowService.getSystemInfo({});
          return;
        } finally {
          await connection.close();
        }
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`the Temporal server on ${this.address} did not answer in ${timeoutMs / 1000} s: ${(err as Error).message}\n${tail}`);
        await sleep(500);
      }
    }
  }

  /** SIGKILL: no shutdown, whatever was in flight is lost; startServer() brings it back on the same databases. */
  async killServer(): Promise<void> {
    if (!this.server || this.server.exitCode !== null || this.server.signalCode !== null) return;
    this.server.kill('SIGKILL');
    await this.serverExit;
  }

  async stopServer(): Promise<void> {
    if (!this.server || this.server.exitCode !== null || this.server.signalCode !== null) return;
    this.server.kill('SIGTERM');
    const killed = setTimeout(() => this.server?.kill('SIGKILL'), 30_000);
    await this.serverExit;
    clearTimeout(killed);
  }

  /** The `default` namespace and the project's search attributes (contracts/search-attributes.ts), idempotent. */
  private async registerNamespace(): Promise<void> {
    const connection = await Connection.connect(this.connectionOptions());
    try {
      await connection.workflowService
        .registerNamespace({ namespace: NAMESPACE, workflowExecutionRetentionPeriod: msToTs(`${NAMESPACE_RETENTION_DAYS} days`) })
        .catch((err: Error & { code?: number }) => {
          if (err.code !== 6 /* ALREADY_EXISTS */) throw err;
        });
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: NAMESPACE });
          const missing = allSearchAttributes.filter((a) => !(a.name in (customAttributes ?? {})));
          if (!missing.length) return;
          // 2 = KEYWORD (temporal.api.enums.v1.IndexedValueType).
          await connection.operatorService.addSearchAttributes({ namespace: NAMESPACE, searchAttributes: Object.fromEntries(missing.map((a) => [a.name, 2])) });
        } catch (err) {
          // A namespace just registered takes a few seconds to reach every service's cache.
          if (Date.now() > deadline) throw err;
          await sleep(1_000);
        }
      }
    } finally {
      await connection.close();
    }
  }

  async stop(): Promise<void> {
    await this.stopServer();
    await this.stopPostgres('fast');
  }
}
