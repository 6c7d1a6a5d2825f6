/**
 * Waiting inside an activity (between polls, or for a late create): in pieces of at most a second
 * with a heartbeat before each and at the end, so a wait never trips a heartbeat timeout, a cancel
 * arrives within a second, and a dead worker is noticed. The SDK throttles the heartbeats it sends.
 */
import { heartbeat, sleep } from '@temporalio/activity';

export async function heartbeatSleep(ms: number, details?: unknown): Promise<void> {
  for (let left = ms; left > 0; left -= 1_000) {
    heartbeat(details);
    await sleep(Math.min(1_000, left));
  }
  heartbeat(details);
}
