/**
 * Where a file of a backup is in a restic repository. A backup keeps the directory repository's
 * layout (ovirt/<vm>-<id8>/<time>-<run>/<file>) as the file's path inside its snapshot, and the
 * manifest records each file's `path` as `restic:<snapshot id>:/<that path>`.
 */
import { posix } from 'node:path';
import { ErrorTypes, nonRetryable } from '../../../lib/errors';

export interface ResticLocation {
  snapshotId: string;
  /** Absolute inside the snapshot. */
  file: string;
}

/** The path of a backup's file inside its snapshot, refusing what could name another place. */
export function fileInSnapshot(dir: string, fileName: string): string {
  const file = posix.join('/', dir, fileName);
  if (fileName.includes('/') || dir.split('/').includes('..') || file !== `/${dir.replace(/^\/+|\/+$/g, '')}/${fileName}`) {
    throw nonRetryable(`repository path ${dir}/${fileName} is not a plain backup path`, ErrorTypes.invalidInput);
  }
  return file;
}

export function resticPath(location: ResticLocation): string {
  return `restic:${location.snapshotId}:${location.file}`;
}

export function parseResticPath(path: string | undefined): ResticLocation | undefined {
  const match = /^restic:([0-9a-f]{8,64}):(\/.+)$/.exec(path ?? '');
  return match ? { snapshotId: match[1]!, file: match[2]! } : undefined;
}
