/**
 * The test-only workflow bundle for fleet logic on the time-skipping server: the real fleetBackup
 * and scheduledBackup, and a stub in place of the vendor workflow they start.
 */
import { ApplicationFailure, CancellationScope, condition, isCancellation, proxyActivities } from '@temporalio/workflow';

export { fleetBackup } from '../../workflows/fleet-backup';

export interface StubActivities {
  /** What the stub's compensation did, for the test to see. */
  stubUndo(input: { vmId: string }): Promise<void>;
}
const stub = proxyActivities<StubActivities>({ startToCloseTimeout: '1 minute' });

/**
 * Stands in for ovirtSnapshotBackup: a vmId containing "fail" fails, one containing "hold" runs
 * until it is cancelled and then undoes (stubUndo), any other succeeds at once.
 */
export async function ovirtSnapshotBackup(input: { vmId: string }): Promise<{ vmId: string }> {
  if (input.vmId.includes('fail')) throw ApplicationFailure.nonRetryable(`the engine refused ${input.vmId}`, 'StubRefused');
  if (input.vmId.includes('hold')) {
    try {
      await condition(() => false);
    } catch (err) {
      if (isCancellation(err)) await CancellationScope.nonCancellable(() => stub.stubUndo({ vmId: input.vmId }));
      throw err;
    }
  }
  return { vmId: input.vmId };
}
