/**
 * What `npm start` tells clients on the same checkout about the stack it runs: the Temporal
 * server's address and the endpoint profiles its worker reads. Written to <data dir>/stack.json
 * (beside the local codec key) while the stack runs; a file whose process is gone is ignored.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { dataDir } from './data-dir';
import { isAlive } from '../process/is-alive';

const localStack = z.object({
  pid: z.number().int(),
  temporalAddress: z.string().min(1),
  uiUrl: z.string(),
  codecUrl: z.string(),
  endpointsFile: z.string().min(1),
  /** The proxy VMs whose copy workers the stack runs: a repository command without --proxy means the one there is. */
  proxyVmIds: z.array(z.string().min(1)).default([]),
  /** The client certificate settings (TEMPORAL_TLS_*) its server wants: set on `--engine postgres` (mTLS), paths only. */
  temporalTlsEnv: z.record(z.string(), z.string()).default({}),
});
export type LocalStack = z.output<typeof localStack>;

export function localStackFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(dataDir(env), 'stack.json');
}

/** The running local stack, if `npm start` runs on this checkout (BACKUP_LOCAL_STACK=off ignores it). */
export function readLocalStack(env: NodeJS.ProcessEnv = process.env): LocalStack | undefined {
  const file = localStackFile(env);
  if (env.BACKUP_LOCAL_STACK === 'off' || !existsSync(file)) return undefined;
  try {
    const stack = localStack.parse(JSON.parse(readFileSync(file, 'utf8')));
    return isAlive(stack.pid) ? stack : undefined;
  } catch {
    return undefined;
  }
}

export function writeLocalStack(stack: z.input<typeof localStack>, env: NodeJS.ProcessEnv = process.env): void {
  writeFileSync(localStackFile(env), JSON.stringify(stack, null, 2));
}

export function removeLocalStack(env: NodeJS.ProcessEnv = process.env): void {
  rmSync(localStackFile(env), { force: true });
}
