/**
 * A create (snapshot, backup trigger, ILR provision) whose answer timed out may still reach the
 * vendor after the client gave up. Before the attempt fails, wait one more client timeout, so the
 * retry finds (adopts) what the late request made instead of creating it again, heartbeating
 * meanwhile (heartbeatSleep).
 */
import { mayStillBeHandled } from '../lib/errors';
import { DEFAULT_HTTP_TIMEOUT_MS } from '../lib/http/http-client';
import { heartbeatSleep } from './heartbeat-sleep';

/** `profile`: the endpoint profile whose client gave up (its timeout, or the HTTP layer's default). */
export async function failAfterLateCreateGrace(err: unknown, profile: { timeoutMs?: number }): Promise<never> {
  if (mayStillBeHandled(err)) await heartbeatSleep(profile.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS);
  throw err;
}
