/**
 * composeChainImage as a test, a chaos check or a benchmark calls it, outside a worker: in a mock
 * activity context (it writes through the copy loop, which heartbeats and is open to cancellation).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { composeChainImage } from '../../activities/copy/incremental-chain';

export function composeChainImageHere(...args: Parameters<typeof composeChainImage>): ReturnType<typeof composeChainImage> {
  return new MockActivityEnvironment().run(() => composeChainImage(...args)) as ReturnType<typeof composeChainImage>;
}
