/**
 * The `engine` lane's server: the Temporal server on PostgreSQL (lib/temporal/postgres-engine.ts)
 * with mTLS on its frontend, one per test file, on free ports and a throw-away folder under /tmp
 * (which the postgres user can reach). Without the server binary a file skips, saying how to
 * install it; in CI (CI set) a missing binary fails instead, so the lane cannot go quietly green.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { PostgresEngine, type EnginePorts } from '../../lib/temporal/postgres-engine';
import { findTemporalServer, findPostgresBin, INSTALL_SCRIPT } from '../../lib/temporal/server-path';
import { freePort } from './ports';
import { testDataConverter } from './temporal';

/** Why the lane cannot run here, or undefined when it can. Throws in CI: there the lane must run. */
export function engineSkipReason(): string | undefined {
  const { missing } = findTemporalServer();
  if (!findPostgresBin()) missing.push('PostgreSQL (initdb, pg_ctl)');
  if (!missing.length) return undefined;
  const reason = `the engine lane needs ${missing.join(', ')}: run \`bash ${INSTALL_SCRIPT}\` (and apt-get install postgresql)`;
  if (process.env.CI) throw new Error(`CI: ${reason}`);
  console.warn(`SKIPPED: ${reason}`);
  return reason;
}

export interface TestEngine {
  engine: PostgresEngine;
  dir: string;
  /** Server and PostgreSQL output, for failure messages. */
  log(): string;
  /** A test environment (client + native connection for in-process workers) with the lane's client certificate. */
  testEnv(): Promise<TestWorkflowEnvironment>;
  stop(): Promise<void>;
}

export async function startTestEngine(name: string): Promise<TestEngine> {
  // The lane's files start their engines side by side, each drawing ten ports in its own process:
  // a server that exits while starting (seen once in CI, its cause cut off the log) is started
  // once more on fresh ports and a fresh folder; a second exit fails the file with both reasons.
  const first = await startOnFreshPorts(name).catch((err: Error) => err);
  if (!(first instanceof Error)) return withHelpers(first);
  if (!/the Temporal server exited/.test(first.message)) throw first;
  console.warn(`[engine ${name}] the server exited while starting; starting again on fresh ports:\n${first.message.slice(0, 2000)}`);
  return withHelpers(await startOnFreshPorts(name));
}

async function startOnFreshPorts(name: string): Promise<{ engine: PostgresEngine; dir: string; lines: string[] }> {
  const dir = await mkdtemp(join('/tmp', `engine-${name}-`));
  const ports = {} as EnginePorts;
  for (const key of ['postgres', 'frontend', 'frontendHttp', 'frontendMembership', 'history', 'historyMembership', 'matching', 'matchingMembership', 'worker', 'workerMembership'] as const) {
    ports[key] = await freePort();
  }
  const lines: string[] = [];
  const engine = await PostgresEngine.start({ dir, ports, fast: true, onLog: (line) => lines.push(line) }).catch(async (err: Error) => {
    await rm(dir, { recursive: true, force: true });
    // The server's own reason is in its first error lines, before the stack the exit message ends with.
    const reasons = lines
      .filter((l) => /error|fatal|panic|address already in use/i.test(l))
      .slice(0, 5)
      .map((l) => l.slice(0, 500));
    if (reasons.length) err.message = `${err.message.split('\n')[0]}\n${reasons.join('\n')}\n${err.message.split('\n').slice(1).join('\n')}`;
    throw err;
  });
  return { engine, dir, lines };
}

function withHelpers({ engine, dir, lines }: { engine: PostgresEngine; dir: string; lines: string[] }): TestEngine {
  assert.ok(engine.tls, 'the lane runs with mTLS on');
  return {
    engine,
    dir,
    log: () => lines.slice(-80).join('\n'),
    testEnv: () =>
      TestWorkflowEnvironment.createFromExistingServer({
        address: engine.address,
        namespace: 'default',
        connectionOptions: { tls: engine.connectionOptions().tls },
        client: { dataConverter: testDataConverter },
      }),
    async stop() {
      await engine.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
