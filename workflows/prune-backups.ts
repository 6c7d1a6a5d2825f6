/**
 * Retention on a proxy's repository: lists the backups (of one VM or all), asks Temporal which
 * runs are still open, decides with the keep rules (contracts/retention/keep-rules.ts, the same
 * decision for every repository kind) and removes the rest on the copy worker, one folder at a
 * time, unless it is a dry run. In a restic repository a removal is `restic forget` of the backup's
 * snapshots, and one `restic prune` at the end frees the space they held. The result lists every
 * backup: kept with its reasons, or removed.
 */
import { ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import { ErrorTypes } from '../lib/errors';
import type { createRunStatusActivities } from '../activities/run-status';
import type { OvirtIncrementalActivities } from '../activities/ovirt/incremental-activities';
import { decideRetention, describeKeepRules, KEEP_RULES, type KeepRules, type RetentionCandidate } from '../contracts/retention/keep-rules';
import { pruneBackupsInput } from '../contracts/retention/input';
import type { PruneBackupsResult } from '../contracts/retention/results';
import { PRUNE_BACKUPS_STEPS } from '../contracts/retention/steps';
import { quickCall } from './shared/activity-options';
import { repositoryActivities } from './shared/repository-activities';
import { openRun } from './shared/workflow-run';

const runStatus = proxyActivities<ReturnType<typeof createRunStatusActivities>>({ ...quickCall, heartbeatTimeout: '1 minute' });
const engine = proxyActivities<OvirtIncrementalActivities>({ ...quickCall, heartbeatTimeout: '1 minute' });

export async function pruneBackups(rawInput: unknown): Promise<PruneBackupsResult> {
  const run = openRun(
    {
      workflowType: 'pruneBackups',
      steps: PRUNE_BACKUPS_STEPS,
      input: pruneBackupsInput,
      about: (i) => `${i.dryRun ? 'dry run: ' : ''}prune ${i.all ? 'every VM' : `VM ${i.vmId}`} on ${i.copyTaskQueue ?? `proxy ${i.proxyVmId}`}`,
      tag: (i) => ({ provider: 'ovirt', ...(i.vmId !== undefined ? { vmId: i.vmId } : {}) }),
    },
    rawInput,
  );
  const { input, progress } = run;
  const repo = repositoryActivities(input);
  const rules: KeepRules = Object.fromEntries(KEEP_RULES.filter((r) => input[r] !== undefined).map((r) => [r, input[r]]));
  const timeZone = input.timeZone ?? 'UTC';
  const dryRun = input.dryRun ?? false;

  return run.steps(async () => {
    progress.enter('list');
    const scope = input.vmId !== undefined ? { vmId: input.vmId } : {};
    // With the incremental chains' points, whose parents the decision keeps with them.
    const listed = await repo.listBackups({ ...scope, chains: true });
    const open = new Set(await runStatus.openRunIds(scope));

    progress.enter('decide');
    // Each VM's newest chain point is its chain's head: the next incremental starts from its checkpoint.
    const headOf = new Map<string, string>();
    for (const b of listed) if (b.kind === 'incremental' && !headOf.has(b.vm.id)) headOf.set(b.vm.id, b.dir);
    const heads = new Set(headOf.values());
    const candidates: RetentionCandidate[] = listed.map((b) => ({
      id: b.dir,
      time: b.completedAt,
      vmId: b.vm.id,
      // Listed backups have their manifest: every file was written.
      good: true,
      verified: b.lastVerification?.ok === true,
      runOpen: open.has(b.runId),
      ...(b.parent !== undefined ? { parent: b.parent } : {}),
      ...(heads.has(b.dir) ? { chainHead: true } : {}),
    }));
    let decision: ReturnType<typeof decideRetention>;
    try {
      decision = decideRetention(candidates, rules, { timeZone });
    } catch (err) {
      // A manifest whose time does not parse: no retry reads it differently.
      if (err instanceof RangeError) throw ApplicationFailure.nonRetryable(err.message, ErrorTypes.invalidInput);
      throw err;
    }
    const { kept, removed } = decision;
    progress.update({ message: `${describeKeepRules(rules)}: ${kept.length} kept, ${removed.length} to remove` });

    progress.enter('remove');
    let pruneAfter = false;
    if (!dryRun) {
      for (const [i, b] of removed.entries()) {
        progress.update({ message: `removing ${b.id} (${i + 1} of ${removed.length})` });
        pruneAfter = (await repo.removeBackup({ dir: b.id })).pruneAfter === true || pruneAfter;
      }
    }
    // The engine's checkpoints of removed chain points, from the root while the root is one of them
    // (only the root can be removed). Only runs that removed chain points make these calls: older
    // histories listed none (their listBackups did not ask for chains), so no patch is needed.
    const checkpoints: NonNullable<PruneBackupsResult['checkpoints']> = [];
    if (!dryRun) {
      // A checkpoint whose point went while it was not the root (an older point was kept) stays on
      // the engine until it becomes the root: the repository records it before the point's folder
      // goes, and every prune removes the recorded ones that are the root by now, never one a point
      // that stays still names. Guards the record's two activities, added later; can go once no
      // pruneBackups run started before it is open (docs/patches.md).
      const record = patched('prune-recorded-checkpoints');
      const removedIds = new Set(removed.map((b) => b.id));
      const groups = new Map<string, { vmId: string; endpoint: string; checkpointIds: string[] }>();
      const add = (vmId: string, endpoint: string, checkpointId: string) => {
        // Runs from before the record made one call per VM.
        const key = record ? `${vmId} ${endpoint}` : vmId;
        const group = groups.get(key) ?? { vmId, endpoint, checkpointIds: [] };
        if (!group.checkpointIds.includes(checkpointId)) group.checkpointIds.push(checkpointId);
        groups.set(key, group);
      };
      for (const b of listed) {
        if (removedIds.has(b.dir) && b.checkpointId !== undefined && b.endpoint !== undefined) add(b.vm.id, b.endpoint, b.checkpointId);
      }
      const forget = new Map<string, string[]>();
      if (record) {
        const stays = new Set(listed.filter((b) => !removedIds.has(b.dir) && b.checkpointId !== undefined).map((b) => b.checkpointId!));
        for (const { vmId, checkpoints: recorded } of await repo.pendingChainCheckpoints(scope)) {
          for (const c of recorded) {
            if (stays.has(c.checkpointId)) forget.set(vmId, [...(forget.get(vmId) ?? []), c.checkpointId]);
            else add(vmId, c.endpoint, c.checkpointId);
          }
        }
      }
      for (const { vmId, endpoint, checkpointIds } of groups.values()) {
        progress.update({ message: `removing the engine's root checkpoints of VM ${vmId} that removed backups held` });
        const done = await engine.ovirtRemoveRootCheckpoints({ endpoint, vmId, checkpointIds });
        checkpoints.push({ vmId, endpoint, ...done });
        // What the engine no longer lists is settled; the rest waits for a later prune.
        if (record) forget.set(vmId, [...(forget.get(vmId) ?? []), ...checkpointIds.filter((id) => !done.left.includes(id))]);
      }
      for (const [vmId, checkpointIds] of forget) {
        if (checkpointIds.length) await repo.forgetChainCheckpoints({ vmId, checkpointIds });
      }
    }
    // A restic repository's removals are forgets: one prune frees their space. Guards that call,
    // added later: histories recorded before it ran no such activity (a directory repository's
    // removals never ask for it). Can go once no pruneBackups run started before it is open.
    let repository: PruneBackupsResult['repository'];
    if (pruneAfter && patched('prune-repository-after-remove')) {
      progress.update({ message: `${removed.length} removed; freeing their space in the repository` });
      repository = await repo.pruneRepository({});
    }
    const checkpointsRemoved = checkpoints.reduce((n, c) => n + c.removed.length, 0);
    progress.update({
      message: `${kept.length} kept, ${removed.length} ${dryRun ? 'would be removed (dry run)' : 'removed'}${checkpoints.length ? `; ${checkpointsRemoved} engine checkpoint(s) removed` : ''}${repository ? `; ${repository.summary}` : ''}`,
    });
    progress.finish('completed');
    return { dryRun, rules, timeZone, kept, removed, ...(checkpoints.length ? { checkpoints } : {}), ...(repository ? { repository } : {}) };
  });
}
