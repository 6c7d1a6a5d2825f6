/**
 * The Altaro sessions this worker process holds open, written to the worker's own disk. A worker
 * killed in the middle of an activity cannot end its session (the token lived in its memory) and the
 * API caps open sessions; the next worker process on the same host ends those sessions from here.
 * Tokens stay on the host that already holds the password (mode 0600 files under the data folder);
 * they never reach Temporal.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { dataDir } from '../../lib/config/data-dir';
import { isAlive } from '../../lib/process/is-alive';

const entry = z.object({ baseUrl: z.string(), token: z.string(), pid: z.number().int(), openedAt: z.string() });
export type LedgerEntry = z.infer<typeof entry>;

/** The vendor's idle expiry has ended any session older than this: its entry is only dropped. */
const FORGET_AFTER_MS = 24 * 3_600_000;

export class SessionLedger {
  constructor(readonly dir: string) {}

  static forEnv(env: NodeJS.ProcessEnv = process.env): SessionLedger {
    return new SessionLedger(join(dataDir(env), 'altaro-sessions'));
  }

  private file(token: string, pid = process.pid): string {
    return join(this.dir, `${pid}-${createHash('sha256').update(token).digest('hex').slice(0, 32)}.json`);
  }

  async opened(baseUrl: string, token: string, pid = process.pid): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const record: LedgerEntry = { baseUrl, token, pid, openedAt: new Date().toISOString() };
    await writeFile(this.file(token, pid), JSON.stringify(record), { mode: 0o600 });
  }

  async ended(token: string, pid = process.pid): Promise<void> {
    await rm(this.file(token, pid), { force: true });
  }

  /** Sessions on this API opened by worker processes that are gone; entries past any idle expiry are dropped. */
  async orphans(baseUrl: string): Promise<LedgerEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const found: LedgerEntry[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const path = join(this.dir, name);
      let record: LedgerEntry;
      try {
        record = entry.parse(JSON.parse(await readFile(path, 'utf8')));
      } catch {
        await rm(path, { force: true });
        continue;
      }
      if (Date.now() - Date.parse(record.openedAt) > FORGET_AFTER_MS) await rm(path, { force: true });
      else if (record.baseUrl === baseUrl && record.pid !== process.pid && !isAlive(record.pid)) found.push(record);
    }
    return found;
  }
}
