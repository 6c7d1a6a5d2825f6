import { createServer } from 'node:net';

/*
 * Ports are drawn below the kernel's ephemeral range (32768–60999 on Linux): a port handed out
 * there can be taken, between our check and the service's bind, by any outgoing connection or
 * `listen(0)` elsewhere in the suite, which is how `npm start` once met "port in use" in CI.
 * Below that range only another freePort() can pick it; the set keeps one process from doing so.
 */
const lowest = 20_000;
const highest = 32_000;
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A loopback port that was free a moment ago and that no outgoing connection will take meanwhile. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = lowest + Math.floor(Math.random() * (highest - lowest));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port between ${lowest} and ${highest} after 200 tries`);
}

/** `count` consecutive free loopback ports (for a server whose ports are a base plus offsets); returns the first. */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = lowest + Math.floor(Math.random() * (highest - lowest - count));
    const range = Array.from({ length: count }, (_, i) => base + i);
    if (range.some((p) => handedOut.has(p))) continue;
    let free = true;
    for (const port of range) if (!(await bindable(port))) free = false;
    if (free) {
      range.forEach((p) => handedOut.add(p));
      return base;
    }
  }
  throw new Error(`no ${count} consecutive free ports between ${lowest} and ${highest} after 200 tries`);
}
