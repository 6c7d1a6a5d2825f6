/**
 * The one oVirt call that destroys a backup's data if it goes out wrong: in API v3,
 * `DELETE /vms/{id}/disks/{diskId}` without the `<action><detach>true</detach></action>` body does
 * not detach the disk, it removes it with all its volumes (for a snapshot disk plugged into the
 * proxy, the snapshot's copy). This tool only ever detaches, so every such DELETE is checked here,
 * whatever code path built it, before it is sent.
 */
import { ErrorTypes, nonRetryable } from '../../lib/errors';
import { parseXml } from '../../lib/xml';
import type { HttpRequest } from '../../lib/http/http-client';
import { detachRequestV3 } from './schemas';

const VM_DISK = /(^|\/)vms\/[^/]+\/disks\/[^/]+\/?$/;

/** Throws (non-retryable) for a DELETE of a VM's disk whose body is not the detach action. */
export function refuseDiskRemoval(req: Pick<HttpRequest, 'method' | 'path' | 'body'>): void {
  if (req.method.toUpperCase() !== 'DELETE' || !VM_DISK.test(req.path.split('?')[0]!)) return;
  if (isDetachAction(req.body)) return;
  throw nonRetryable(
    `refusing to send DELETE ${req.path} without <action><detach>true</detach></action>: in oVirt API v3 that removes the disk and its data instead of detaching it`,
    ErrorTypes.invalidInput,
  );
}

function isDetachAction(body: HttpRequest['body']): boolean {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
  if (!text?.trim()) return false;
  try {
    return detachRequestV3.safeParse(parseXml(text)).success;
  } catch {
    return false;
  }
}
