/** A restic repository in a temp folder for tests, and the restic binary they need (they skip, saying why, without one). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRestic, type ResticSettings } from '../../activities/copy/restic/restic-cli';
import { findRestic, resticVersion } from '../../activities/copy/restic/restic-path';

export const RESTIC_TEST_PASSWORD = 'restic-test-Pa55phrase';

/** The restic the tests use, or undefined after saying why they skip. */
export function resticForTests(): string | undefined {
  const binary = findRestic();
  if (!binary) console.warn('restic tests skipped: no restic (RESTIC_PATH, PATH or .tools/restic); `apt-get install restic` or see .ci/run');
  else console.info(`restic tests use ${binary} (restic ${resticVersion(binary)})`);
  return binary;
}

/** A new, initialised repository; `remove` deletes it. */
export async function tempResticRepository(binary: string): Promise<{ settings: ResticSettings; path: string; remove: () => Promise<void> }> {
  const base = await mkdtemp(join(tmpdir(), 'restic-'));
  const settings: ResticSettings = { repository: join(base, 'repo'), password: RESTIC_TEST_PASSWORD, binary, host: 'test-proxy' };
  await runRestic(settings, ['init']);
  return { settings, path: settings.repository, remove: () => rm(base, { recursive: true, force: true }) };
}
