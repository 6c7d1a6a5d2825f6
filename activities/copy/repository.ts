/** The backup repository: a folder on the proxy VM where disk images, configs and manifests land. */
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
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

/** Writes a small file atomically (temp + rename) and returns its digest. */
export async function writeRepositoryFile(root: string, dir: string, fileName: string, content: string): Promise<{ path: string; bytes: number; sha256: string }> {
  const path = repositoryPath(root, dir, fileName);
  await mkdir(dirname(path), { recursive: true });
  const data = Buffer.from(content, 'utf8');
  await writeFile(`${path}.tmp`, data);
  await rename(`${path}.tmp`, path);
  return { path, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}
