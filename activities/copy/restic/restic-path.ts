/**
 * The restic binary, found like the Temporal CLI: RESTIC_PATH, `restic` on PATH (Debian's `restic`
 * package), the copy under .tools/restic, else built there through the Go module proxy (pinned).
 */
import { execFileSync } from 'node:child_process';
import { findTool, installedToolPath, isExecutable, resolveTool, type ToolSpec } from '../../../lib/temporal/tool-path';

export const RESTIC_VERSION = 'v0.18.1';

export const resticTool: ToolSpec = {
  binary: 'restic',
  envVar: 'RESTIC_PATH',
  toolsDir: 'restic',
  goModule: `github.com/restic/restic/cmd/restic@${RESTIC_VERSION}`,
  // restic 0.18 needs a newer Go than some machines have; the go command fetches this one.
  goEnv: { GOTOOLCHAIN: 'go1.27.3' },
  howToInstall: '`apt-get install restic` (Debian) or https://restic.readthedocs.io/en/stable/020_installation.html, then set RESTIC_PATH if it is not on PATH.',
};

/** A restic that is already there, or undefined (nothing is installed). */
export function findRestic(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return findTool(resticTool, env);
}

/**
 * For the chaos runner and the bench: RESTIC_PATH, else the pinned restic under .tools/restic (a
 * Debian 12 PATH has 0.14, whose snapshots record no summary), else the one findRestic finds.
 */
export function findPinnedRestic(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const pinned = installedToolPath(resticTool);
  return env.RESTIC_PATH || (isExecutable(pinned) ? pinned : findRestic(env));
}

/** A working restic, built under .tools/restic if none is there. */
export function resolveRestic(env: NodeJS.ProcessEnv = process.env): string {
  return resolveTool(resticTool, env);
}

/** "restic 0.18.1 compiled with go1.27.3 on linux/amd64" → "0.18.1". */
export function resticVersion(path: string): string {
  const line = execFileSync(path, ['version'], { encoding: 'utf8' });
  return /restic\s+(\S+)/.exec(line)?.[1] ?? line.trim();
}
