/**
 * `npm start` as a new user runs it, on free ports and a throw-away data folder, so a test's stack
 * never collides with a developer's own. `cli()` runs `npx backupctl …` against it the way the
 * README says (the CLI finds the stack's server, payload key and endpoint file in its data folder).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../lib/temporal/cli-path';
import { simulatorDemos } from '../../simulators/serve';
import { freePort } from './ports';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command in the project folder and collects its output. */
export function runCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: projectRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface NpmStartStack {
  dataDir: string;
  ports: { temporal: number; ui: number; codec: number };
  /** Each simulator's port, by its demo's name (ovirt, altaro, …). */
  simulatorPort(demo: string): number;
  /** Everything the stack printed so far (for failure messages). */
  output(): string;
  /** What `backupctl` needs to reach this stack. */
  cliEnv: NodeJS.ProcessEnv;
  /** `npx backupctl <args>` against this stack. */
  cli(args: string[]): Promise<CommandResult>;
  stop(): Promise<void>;
}

type StackOptions = {
  name: string;
  waitForCopyWorker?: boolean;
  timeoutMs?: number;
  /** Arguments after `npm start --`, e.g. ['--engine', 'postgres']. */
  args?: string[];
  /** Further environment for the stack. */
  env?: Record<string, string>;
};

/**
 * Starts `npm start` and waits until the workers poll (the copy worker too unless told otherwise).
 * A port taken between our pick and the stack's bind (npm start then starts nothing and says which)
 * is the suite's race, not the stack's fault: such a start is tried again on fresh ports.
 */
export async function startNpmStack(options: StackOptions): Promise<NpmStartStack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof PortClash)) throw error;
    }
  }
}

class PortClash extends Error {}

async function startOnce(options: StackOptions): Promise<NpmStartStack> {
  const dataDir = await mkdtemp(join(tmpdir(), `${options.name}-`));
  // The PostgreSQL engine runs as the postgres user, which must reach <dataDir>/engine.
  await chmod(dataDir, 0o711);
  const ports = { temporal: await freePort(), ui: await freePort(), codec: await freePort() };
  const simulatorPorts: Record<string, number> = {};
  for (const demo of simulatorDemos) simulatorPorts[demo.name] = await freePort();
  const child: ChildProcess = spawn('npm', ['start', ...(options.args?.length ? ['--', ...options.args] : [])], {
    cwd: projectRoot,
    // Its own process group: stop() signals npm, tsx and every server it started at once.
    detached: true,
    env: {
      ...process.env,
      ...Object.fromEntries(simulatorDemos.map((demo) => [demo.portEnv, String(simulatorPorts[demo.name])])),
      BACKUP_DATA_DIR: dataDir,
      CODEC_SERVER_PORT: String(ports.codec),
      TEMPORAL_PORT: String(ports.temporal),
      TEMPORAL_UI_PORT: String(ports.ui),
      ...options.env,
    },
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(-child.pid!, 'SIGINT');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  const ready = [/main worker polling/, ...(options.waitForCopyWorker === false ? [] : [/copy worker polling/])];
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  while (!ready.every((r) => r.test(output))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      if (/nothing was started[\s\S]*is already in use/.test(output)) throw new PortClash(output);
      assert.fail(`the stack did not come up:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  // Only the data folder, as for a user in a second shell of the same checkout: the CLI finds the
  // server, the endpoint profiles and the payload key from what npm start wrote there.
  const cliEnv = { TEMPORAL_ADDRESS: '', BACKUP_ENDPOINTS_FILE: '', BACKUP_DATA_DIR: dataDir };
  return {
    dataDir,
    ports,
    simulatorPort(demo) {
      const port = simulatorPorts[demo];
      assert.ok(port, `${demo} is one of npm start's simulators (${Object.keys(simulatorPorts).join(', ')})`);
      return port;
    },
    output: () => output,
    cliEnv,
    cli: (args) => runCommand('npx', ['backupctl', ...args], cliEnv),
    stop,
  };
}
