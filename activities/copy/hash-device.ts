/** A drill's read-back: the device of a restored disk attached to this proxy, hashed up to the image's size. */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import { deviceFolders, type CopySettings } from './copy-disk';
import { requireDevice } from './device-locator';
import { hashRange } from './hash-read';
import type { RepositoryActivities } from './restore-types';

export type HashDeviceInput = Parameters<RepositoryActivities['hashDevice']>[0];

export async function hashDevice(settings: CopySettings, input: HashDeviceInput): ReturnType<RepositoryActivities['hashDevice']> {
  const ctx = Context.current();
  const device = await requireDevice(input.diskId, deviceFolders(settings), input.logicalName);
  const hash = createHash('sha256');
  const handle = await open(device.path, 'r');
  try {
    const bytes = await hashRange(handle, 0, input.expectedBytes, hash, settings.chunkBytes, { ctx, details: (position) => ({ position }) });
    return { device: device.path, bytes, sha256: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}
