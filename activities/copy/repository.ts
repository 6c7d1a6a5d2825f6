/** The backup repository: a folder on the proxy VM where disk images, configs and manifests land. */
import { createHash } from 'node:crypto';
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { ErrorTypes, nonRetryable } from '../../lib/errors';

/** Resolves a repository-relative path, refusing anything that would land outside the root. */
export function repositoryPath(root: string, dir: string, fileName: string): string {
  const full = resolve(root, dir, fileName);
  const rel = relative(resolve(root), full);
  if (rel.startsWith('..') || isAbsolute(rel) || fileName.includes('/')) {
    throw nonRetryable(`repository path ${dir}/${fileName} escapes the repository root`, ErrorTypes.invalidInput);
  }
  return full;
}

/**
 * Makes a rename (or a new file) in `dir` durable: the file's own fsync does not cover its directory
 * entry. The folders mkdir created above it ride on the same journal commit on ext4/xfs.
 */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes a small file atomically (temp + fsync + rename + directory fsync) and returns its digest:
 * once the activity reports it written, a crash of the proxy VM cannot lose it or leave it empty.
 */
export async function writeRepositoryFile(root: string, dir: string, fileName: string, content: string): Promise<{ path: string; bytes: number; sha256: string }> {
  const path = repositoryPath(root, dir, fileName);
  await mkdir(dirname(path), { recursive: true });
  const data = Buffer.from(content, 'utf8');
  const handle = await open(`${path}.tmp`, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(`${path}.tmp`, path);
  await syncDirectory(dirname(path));
  return { path, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}
