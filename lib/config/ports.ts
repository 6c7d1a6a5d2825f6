/**
 * Before `npm start` opens anything: every port it will listen on is checked, so a clash reads
 * the same for each (which port, what wanted it, which variable moves it) instead of a raw stack
 * from whichever server happened to start first.
 */
import { createServer } from 'node:net';

export interface WantedPort {
  port: number;
  /** What listens there, e.g. "the codec server". */
  what: string;
  /** The environment variable that moves it. */
  variable: string;
}

/** Throws one error naming every wanted port that is taken (port 0, "any free port", is never checked). */
export async function assertPortsFree(wanted: WantedPort[], host = '127.0.0.1'): Promise<void> {
  const taken: WantedPort[] = [];
  for (const w of wanted) if (w.port !== 0 && !(await isFree(w.port, host))) taken.push(w);
  if (!taken.length) return;
  throw new PortInUseError(taken);
}

export class PortInUseError extends Error {
  constructor(readonly taken: WantedPort[]) {
    super(taken.map((t) => `port ${t.port} (${t.what}) is already in use: stop what listens there, or move it with ${t.variable}=<port>`).join('\n'));
    this.name = 'PortInUseError';
  }
}

function isFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
