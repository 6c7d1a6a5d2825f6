/**
 * The events this worker host has delivered, one id per line in a file under its data dir. A line
 * is appended and fsynced once the webhook took the post, before the activity reports: an attempt
 * retried after a delivery whose completion never reached Temporal (a crash, a lost reply) finds
 * its event here and does not post again.
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export class DeliveredLedger {
  constructor(readonly path: string) {}

  async has(eventId: string): Promise<boolean> {
    const text = await readFile(this.path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    return text.split('\n').some((line) => line === eventId);
  }

  async record(eventId: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const file = await open(this.path, 'a');
    try {
      await file.write(`${eventId}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
  }
}
