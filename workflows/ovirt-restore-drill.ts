/**
 * A restore drill: the restore's own steps into a sandbox VM named `<vm>-drill-<date>`, every disk
 * read back through the proxy and compared with the manifest, the VM optionally booted, and then,
 * pass or fail, the sandbox removed and the verdict recorded on the backup. A backup that does not
 * restore as recorded fails the run (BackupVerificationFailed) naming the disk, after the cleanup.
 * A drill that breaks for another reason (the engine, a cancel) fails as any run does, undone by the
 * saga, and records no verdict: it learnt nothing about the backup.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { ErrorTypes } from '../lib/errors';
import type { Verification } from '../activities/copy/restore-types';
import { ovirtRestoreDrillInput } from '../contracts/ovirt/restore-input';
import type { OvirtRestoreDrillResult } from '../contracts/ovirt/results';
import { OVIRT_DRILL_STEPS } from '../contracts/ovirt/steps';
import { derivedVmName } from './ovirt-restore-plan';
import { OvirtRestoreProcedure, hashMismatchOf } from './ovirt-restore-procedure';
import { openRun } from './shared/workflow-run';
import { recordVerified } from '../lib/metrics/workflow-metrics';

export async function ovirtRestoreDrill(rawInput: unknown): Promise<OvirtRestoreDrillResult> {
  const run = openRun(
    {
      workflowType: 'ovirtRestoreDrill',
      steps: OVIRT_DRILL_STEPS,
      input: ovirtRestoreDrillInput,
      about: (i) => `drill of backup ${i.backup}${i.vmId ? ` of VM ${i.vmId}` : ''} on ${i.endpoint}`,
      tag: (i) => ({ provider: 'ovirt', vmId: i.vmId }),
    },
    rawInput,
  );
  const { input, progress } = run;
  const drill = new OvirtRestoreProcedure(run, 'ovirtRestoreDrill');

  return run.steps(async () => {
    const found = await drill.preflight((sourceVmName) => derivedVmName(sourceVmName, 'drill', run.startedAt));
    let finding: string | undefined;
    let booted = false;
    try {
      await drill.createDisks();
      await drill.attachToProxy();
      await drill.writeImages();
      finding = await drill.readBack();
      if (!finding) {
        await drill.detachFromProxy();
        if (!input.disksOnly) {
          await drill.createVm();
          await drill.attachToVm();
          if (input.boot) {
            await drill.boot(input.bootTimeoutSeconds);
            booted = true;
          }
        }
      }
    } catch (err) {
      // An image that does not match its manifest while written is the drill's finding too.
      finding = hashMismatchOf(err);
      if (!finding) throw err;
    }

    progress.enter('cleanup');
    const cleanup = await run.cleanup();
    const removed = cleanup.filter((o) => o.ok).map((o) => o.label);
    const leftBehind = cleanup.filter((o) => !o.ok).map((o) => o.label);

    progress.enter('record');
    const disks = drill.restoredDisks();
    const verification: Verification = {
      at: new Date().toISOString(),
      by: 'drill',
      ok: !finding,
      workflowId: run.workflowId,
      summary: finding
        ? `restore drill failed: ${finding}`
        : `restore drill passed: ${disks.length} disk(s) restored into ${drill.target} and read back matching the manifest${booted ? ', VM booted' : ''}`,
    };
    await drill.repository.recordVerification({ dir: found.dir, verification });
    const sandbox = `sandbox ${leftBehind.length ? `NOT fully removed (left: ${leftBehind.join(', ')})` : 'removed'}`;
    if (finding) {
      throw ApplicationFailure.create({ type: ErrorTypes.verificationFailed, nonRetryable: true, message: `backup ${found.dir} failed its restore drill: ${finding}; ${sandbox}` });
    }

    recordVerified('ovirt', found.manifest.vm.id);
    progress.finish(
      'completed',
      removed,
      cleanup.filter((o) => !o.ok).map((o) => ({ label: o.label, error: o.error ?? '' })),
    );
    return {
      provider: 'ovirt',
      workflowId: run.workflowId,
      runId: run.runId,
      endpoint: input.endpoint,
      backup: drill.source(),
      sandbox: { vmName: drill.target, vmId: drill.vmId, booted, removed, leftBehind },
      disks: disks.map((d) => ({ ...d, readBackSha256: d.readBackSha256! })),
      verification,
      ...run.times(),
    };
  });
}
