/**
 * A create (snapshot, backup trigger, ILR provision) whose answer timed out may still reach the
 * vendor after the client gave up. Before the attempt fails, wait one more client timeout, so the
 * retry finds (adopts) what the late request made instead of creating it again, heartbeating
 * meanwhile (heartbeatSleep).
 */
import { mayStillBeHandled } from '../lib/errors';
import { heartbeatSleep } from './heartbeat-sleep';

export async function failAfterLateCreateGrace(err: unknown, clientTimeoutMs: number): Promise<never> {
  if (mayStillBeHandled(err)) await heartbeatSleep(clientTimeoutMs);
  throw err;
}
