/**
 * Waiting inside an activity (between polls, for a late create, or for one slow vendor call): in
 * pieces of at most a second with a heartbeat before each and at the end, so a wait never trips a
 * heartbeat timeout, a cancel arrives within a second, and a dead worker is noticed. The SDK
 * throttles the heartbeats it sends.
 */
import { heartbeat, sleep } from '@temporalio/activity';

export async function heartbeatSleep(ms: number, details?: unknown): Promise<void> {
  for (let left = ms; left > 0; left -= 1_000) {
    heartbeat(details);
    await sleep(Math.min(1_000, left));
  }
  heartbeat(details);
}

/**
 * Heartbeats every second while one vendor call runs (a create the vendor may answer slowly), so a
 * dead worker is noticed and a cancel is delivered. The call itself is never cut off: a create
 * abandoned half-way may still land, and the workflow must learn of it before it undoes.
 */
export async function heartbeatWhile<T>(call: Promise<T>, details?: unknown): Promise<T> {
  heartbeat(details);
  const ticker = setInterval(() => heartbeat(details), 1_000);
  try {
    return await call;
  } finally {
    clearInterval(ticker);
  }
}
