/**
 * The Temporal server and its SQL schema tool for the PostgreSQL engine, found like the CLI
 * (tool-path.ts): TEMPORAL_SERVER_PATH / TEMPORAL_SQL_TOOL_PATH, then temporal-server /
 * temporal-sql-tool on PATH, then the copies under .tools/temporal-server/bin. Nothing here builds:
 * scripts/install-temporal-server.sh does (about 6 minutes), at the version pinned there and in
 * docker-compose.yml.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findTool, projectRoot, type ToolSpec } from './tool-path';

export const TEMPORAL_SERVER_VERSION = '1.32.2';
export const INSTALL_SCRIPT = 'scripts/install-temporal-server.sh';

const howToInstall = `run \`bash ${INSTALL_SCRIPT}\` (builds v${TEMPORAL_SERVER_VERSION} through the Go module proxy into .tools/temporal-server)`;
const serverSpec: ToolSpec = { binary: 'temporal-server', envVar: 'TEMPORAL_SERVER_PATH', toolsDir: 'temporal-server', howToInstall };
const sqlToolSpec: ToolSpec = { binary: 'temporal-sql-tool', envVar: 'TEMPORAL_SQL_TOOL_PATH', toolsDir: 'temporal-server', howToInstall };

export interface TemporalServerTools {
  server: string;
  sqlTool: string;
  /** schema/postgresql of the server's module: v12/{temporal,visibility}/versioned. */
  schemaDir: string;
}

/** The server, the schema tool and the schema, or undefined with what is missing (nothing is installed). */
export function findTemporalServer(env: NodeJS.ProcessEnv = process.env): { tools?: TemporalServerTools; missing: string[] } {
  const server = findTool(serverSpec, env);
  const sqlTool = findTool(sqlToolSpec, env);
  const schemaDir = env.TEMPORAL_SCHEMA_DIR ?? join(projectRoot, '.tools', 'temporal-server', 'schema', 'postgresql');
  const missing = [
    ...(server ? [] : ['temporal-server']),
    ...(sqlTool ? [] : ['temporal-sql-tool']),
    ...(existsSync(join(schemaDir, 'v12', 'temporal', 'versioned')) ? [] : [`the PostgreSQL schema (${schemaDir})`]),
  ];
  return { tools: missing.length ? undefined : { server: server!, sqlTool: sqlTool!, schemaDir }, missing };
}

export function requireTemporalServer(env: NodeJS.ProcessEnv = process.env): TemporalServerTools {
  const { tools, missing } = findTemporalServer(env);
  if (!tools) throw new Error(`the Temporal server is not installed (${missing.join(', ')} missing): ${howToInstall}`);
  return tools;
}

/** PostgreSQL's server programs (initdb, pg_ctl, postgres): PG_BIN_DIR, else PATH, else Debian's newest /usr/lib/postgresql/<n>/bin. */
export function findPostgresBin(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PG_BIN_DIR) return env.PG_BIN_DIR;
  const onPath = findTool({ binary: 'pg_ctl', envVar: 'PG_CTL_PATH', toolsDir: 'postgresql', howToInstall: '' }, env);
  if (onPath && !onPath.includes(`${projectRoot}/.tools`)) return join(onPath, '..');
  const debian = '/usr/lib/postgresql';
  if (!existsSync(debian)) return undefined;
  const versions = readdirSync(debian)
    .filter((v) => existsSync(join(debian, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(debian, versions[0], 'bin') : undefined;
}
