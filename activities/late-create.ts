/**
 * A create (snapshot, backup trigger, ILR provision) whose answer timed out may still reach the
 * vendor after the client gave up. Before the attempt fails, wait one more client timeout, so the
 * retry finds (adopts) what the late request made instead of creating it again. Heartbeats every
 * second meanwhile: the wait never trips a heartbeat timeout, and a cancel still arrives.
 */
import { heartbeat, sleep } from '@temporalio/activity';
import { mayStillBeHandled } from '../lib/errors';

export async function failAfterLateCreateGrace(err: unknown, clientTimeoutMs: number): Promise<never> {
  if (mayStillBeHandled(err)) {
    for (let left = clientTimeoutMs; left > 0; left -= 1_000) {
      heartbeat();
      await sleep(Math.min(1_000, left));
    }
  }
  throw err;
}
