import { join, resolve } from 'node:path';
import { projectRoot } from '../temporal/cli-path';

/** The host's own state (local codec key, `npm start`'s server and repository, worker ledgers): BACKUP_DATA_DIR or .data/ in the checkout. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.BACKUP_DATA_DIR ?? join(projectRoot, '.data'));
}
