/**
 * The production engine on this machine: PostgreSQL on <data dir>/engine/pgdata (initdb once, as the
 * postgres user when run as root), both Temporal databases set up with the schema tool, the Temporal
 * server with deploy/temporal/config-postgres.yaml (the compose stack's file) and mTLS on its
 * frontend, the project's namespace and search attributes registered. Ctrl-C stops both.
 *
 *   npm run engine       # frontend on TEMPORAL_PORT (7233); ENGINE_PORT_BASE moves PostgreSQL and the rest
 *
 * The server is built by scripts/install-temporal-server.sh. Clients connect with the printed
 * TEMPORAL_TLS_* files (the lane's test CA, <data dir>/engine/certs). `npm start -- --engine postgres`
 * runs the whole stack on it.
 */
import { join } from 'node:path';
import { dataDir } from '../lib/config/data-dir';
import { enginePortsFromEnv, PostgresEngine } from '../lib/temporal/postgres-engine';
import { TEMPORAL_SERVER_VERSION } from '../lib/temporal/server-path';

const env = process.env;
const dir = join(dataDir(env), 'engine');
const engine = await PostgresEngine.start({
  dir,
  ports: enginePortsFromEnv(env),
  tls: env.ENGINE_TLS !== 'off',
  onLog: (line) => process.stdout.write(`[temporal-server] ${line}\n`),
});
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await engine.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
console.log(`
Temporal server ${TEMPORAL_SERVER_VERSION} (${engine.tools.server}) on PostgreSQL (data in ${dir})
  frontend   ${engine.address} (${engine.tls ? 'mTLS: a client certificate signed by certs/ca.pem is required' : 'plaintext'})
${Object.entries(engine.clientEnv())
  .map(([k, v]) => `  ${k}=${v}`)
  .join('\n')}
Ctrl-C stops the server and PostgreSQL.`);
