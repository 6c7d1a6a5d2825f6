/**
 * Checks, before a backup takes its snapshot, that the copy worker's repository can take it: a
 * directory exists (or can be made) and is writable; a restic repository exists, opens with the
 * worker's password and is not locked by a live process (stale locks of dead restic processes are
 * removed), and restic is installed. Each failure is one non-retryable line naming the cause.
 */
import { access, constants, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ErrorTypes, nonRetryable } from '../../lib/errors';
import type { CopySettings } from './copy-disk';
import { resticBinary, runRestic, shownRepository, unlockStale, type ResticSettings } from './restic/restic-cli';

export interface RepositoryPreflight {
  kind: 'directory' | 'restic';
  /** The directory, or the restic repository with any password in its URL masked. */
  repository: string;
}

async function preflightRestic(restic: ResticSettings): Promise<RepositoryPreflight> {
  resticBinary(restic);
  if (restic.password === undefined && restic.passwordFile === undefined) {
    throw nonRetryable(`restic repository ${shownRepository(restic.repository)}: the copy worker has no password (set RESTIC_PASSWORD or RESTIC_PASSWORD_FILE)`, ErrorTypes.repositoryUnavailable);
  }
  // Opens the repository (missing, wrong password) and clears what crashed attempts left.
  await unlockStale(restic);
  // Takes and releases a lock: refused while a live process holds the repository exclusively.
  await runRestic(restic, ['cat', 'config'], { lockIsFatal: true });
  return { kind: 'restic', repository: shownRepository(restic.repository) };
}

async function preflightDirectory(root: string): Promise<RepositoryPreflight> {
  const path = resolve(root);
  try {
    await mkdir(path, { recursive: true });
    await access(path, constants.W_OK);
  } catch (err) {
    throw nonRetryable(`backup repository ${path} cannot be written: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, ErrorTypes.repositoryUnavailable);
  }
  return { kind: 'directory', repository: path };
}

export async function repositoryPreflight(settings: CopySettings): Promise<RepositoryPreflight> {
  return settings.restic ? preflightRestic(settings.restic) : preflightDirectory(settings.repositoryRoot);
}
