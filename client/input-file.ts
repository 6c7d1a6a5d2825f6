/**
 * Reads a file a command was given (`--input @file`, a schedule policy). A file that is not there
 * or cannot be read is the caller's input, not a failure of the run: exit 2, with the path named.
 */
import { readFile } from 'node:fs/promises';
import { InvalidInputError } from './errors';

export async function readGivenFile(path: string, what: string, context: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'not readable (permission denied)' : (err as Error).message;
    throw new InvalidInputError([`${what} ${path}: ${why}`], context);
  }
}
