/**
 * A create (snapshot, backup trigger, ILR provision, OnApp take) whose answer timed out may still
 * reach the vendor after the client gave up. Before the attempt fails, wait one more client
 * timeout, so the retry finds (adopts) what the late request made instead of creating it again.
 * A cancel does not cut the wait short: the workflow waits for a create to stop before it undoes
 * (forwardCreate), and an undo that ran while the late create could still land would miss it.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { mayStillBeHandled } from '../lib/errors';
import { DEFAULT_HTTP_TIMEOUT_MS } from '../lib/http/http-client';
import { heartbeatWhile } from './heartbeat-sleep';

/** `profile`: the endpoint profile whose client gave up (its timeout, or the HTTP layer's default). */
export async function failAfterLateCreateGrace(err: unknown, profile: { timeoutMs?: number }): Promise<never> {
  if (mayStillBeHandled(err)) await heartbeatWhile(delay(profile.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS));
  throw err;
}
