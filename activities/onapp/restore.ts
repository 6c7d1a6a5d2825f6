/**
 * OnApp restore activities: choose and check the backup and its server, start the restore
 * (`POST /backups/:id/restore`), and wait while the restore keeps the server locked. OnApp restores
 * a backup onto the server it was taken of and locks that server when it accepts the restore.
 */
import { Context } from '@temporalio/activity';
import { heartbeatWhile } from '../heartbeat-sleep';
import { pollUntil } from '../poll-until';
import { failAfterLateCreateGrace } from '../late-create';
import { ErrorTypes, nonRetryable, notFoundAs, VendorError } from '../../lib/errors';
import type { EndpointClients } from '../endpoint-clients';
import { OnappClient } from './client';
import type { OnappBackup } from './schemas';

export interface OnappRestorePick {
  endpoint: string;
  virtualServerId: number;
  backupId: number | 'latest';
  backupType?: 'normal' | 'incremental';
  diskId?: number;
}

export interface OnappRestorePlan {
  virtualServer: { id: number; label: string; identifier: string };
  backup: OnappBackup;
  /** Whether the backup was named by id or picked as the newest built one. */
  chosen: 'given' | 'latest';
}

const refused = (message: string) => nonRetryable(message, ErrorTypes.invalidInput);

function newestFirst(a: OnappBackup, b: OnappBackup): number {
  return (b.builtAt ?? '').localeCompare(a.builtAt ?? '') || b.id - a.id;
}

function describePick(pick: OnappRestorePick): string {
  if (pick.diskId !== undefined) return ` of disk ${pick.diskId}`;
  return pick.backupType ? ` of type ${pick.backupType}` : '';
}

export function createOnappRestoreActivities(clients: EndpointClients) {
  const onapp = (endpoint: string) => clients.client(endpoint, 'onapp', (profile, env) => new OnappClient(profile, env));

  return {
    /**
     * The backup (given, or the server's newest built one) belongs to the server, is built and is
     * not being restored; the server is not locked. Each refusal is one line, before any change.
     */
    async onappRestorePreflight(pick: OnappRestorePick): Promise<OnappRestorePlan> {
      const client = onapp(pick.endpoint);
      const vm = await client.getVirtualServer(pick.virtualServerId).catch(notFoundAs(`virtual server ${pick.virtualServerId} does not exist on endpoint "${pick.endpoint}"`));
      const name = `virtual server ${vm.label} (${vm.id})`;
      const backups = await client.listBackups(vm.id);
      let backup: OnappBackup | undefined;
      if (pick.backupId === 'latest') {
        const fits = (b: OnappBackup) => b.built && (pick.diskId !== undefined ? b.targetType === 'Disk' && b.targetId === pick.diskId : !pick.backupType || b.backupType === pick.backupType);
        backup = backups.filter(fits).sort(newestFirst)[0];
        if (!backup) throw refused(`${name} has no built backup${describePick(pick)} to restore on endpoint "${pick.endpoint}"`);
      } else {
        const id = pick.backupId;
        backup = backups.find((b) => b.id === id);
        if (!backup) {
          const exists = await client.getBackup(id).then(
            () => true,
            (err: unknown) => (err instanceof VendorError && err.isNotFound ? false : Promise.reject(err)),
          );
          throw refused(
            exists
              ? `backup ${id} is not a backup of ${name}: OnApp restores a backup onto the server it was taken of; ${name}'s backups: ${backups.map((b) => b.id).join(', ') || 'none'}`
              : `backup ${id} does not exist on endpoint "${pick.endpoint}"`,
          );
        }
        if (!backup.built) throw refused(`backup ${id} of ${name} is not built yet: nothing was restored; restore it once it is built`);
      }
      if (vm.locked) throw refused(`${name} is locked by another operation: nothing was restored; restore once it is unlocked`);
      if (backup.locked) throw refused(`backup ${backup.id} is locked by a running restore: nothing was restored`);
      return { virtualServer: { id: vm.id, label: vm.label, identifier: vm.identifier }, backup, chosen: pick.backupId === 'latest' ? 'latest' : 'given' };
    },

    /**
     * Starts the restore. A retried attempt (an earlier one's reply was lost, or its worker died)
     * first looks at the backup: locked (its restore is running) or changed since the preflight read
     * it (`seenUpdatedAt`: a restore locks and unlocks it) means the earlier attempt's restore
     * landed, and it is adopted rather than started a second time. The first attempt always asks:
     * a restore someone else started meanwhile is OnApp's to refuse.
     */
    async onappStartRestore(input: { endpoint: string; backupId: number; seenUpdatedAt: string }): Promise<{ adopted: boolean }> {
      const client = onapp(input.endpoint);
      if (Context.current().info.attempt > 1) {
        const backup = await client.getBackup(input.backupId).catch(notFoundAs(`backup ${input.backupId} disappeared before its restore was confirmed`));
        if (backup.locked || backup.updatedAt !== input.seenUpdatedAt) return { adopted: true };
      }
      // A restore whose answer timed out may still start: the retry adopts it, seeing the backup locked.
      await heartbeatWhile(client.restoreBackup(input.backupId).catch((err: unknown) => failAfterLateCreateGrace(err, clients.profile(input.endpoint, 'onapp'))));
      return { adopted: false };
    },

    /** Reads the server until the restore no longer keeps it locked (heartbeating the poll count, so a retried attempt carries on counting). */
    async onappWaitServerUnlocked(input: { endpoint: string; virtualServerId: number; deadline: number; pollMs: number }): Promise<{ polls: number; booted: boolean | null }> {
      const client = onapp(input.endpoint);
      let polls = Number((Context.current().info.heartbeatDetails as { polls?: number } | undefined)?.polls ?? 0);
      return pollUntil(
        {
          intervalMs: input.pollMs,
          deadline: { at: input.deadline, stillWaiting: () => `virtual server ${input.virtualServerId} is still locked by the restore (it may still be running on the appliance)` },
          details: () => ({ polls }),
          pollsBefore: polls,
        },
        async (poll) => {
          polls = poll;
          const vm = await client
            .getVirtualServer(input.virtualServerId)
            .catch((err: unknown) =>
              err instanceof VendorError && err.isNotFound
                ? Promise.reject(nonRetryable(`virtual server ${input.virtualServerId} disappeared while being restored`, ErrorTypes.vendorNotFound))
                : Promise.reject(err),
            );
          return vm.locked ? undefined : { polls, booted: vm.booted };
        },
      );
    },
  };
}

export type OnappRestoreActivities = ReturnType<typeof createOnappRestoreActivities>;
