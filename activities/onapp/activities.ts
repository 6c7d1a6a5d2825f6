/**
 * OnApp activities: take a backup, wait until the server's backup list shows it built, list, and
 * remove. Each one is safe to retry: a take adopts the backup an earlier attempt of the same run
 * started (recognised by the run tag in its note), a delete treats "already gone" as done.
 */
import { Context } from '@temporalio/activity';
import { heartbeatWhile } from '../heartbeat-sleep';
import { pollUntil } from '../poll-until';
import { failAfterLateCreateGrace } from '../late-create';
import { ErrorTypes, VendorError, nonRetryable, notFoundAs } from '../../lib/errors';
import type { EndpointClients } from '../endpoint-clients';
import { OnappClient, type OnappBackupKind } from './client';
import type { OnappBackup } from './schemas';

export type { OnappBackup } from './schemas';

/** The note of every backup this tool takes starts with this tag. */
export function onappRunTag(runId: string): string {
  return `[backup-orchestrator ${runId}]`;
}

export interface OnappServerRef {
  endpoint: string;
  virtualServerId: number;
}

export function createOnappActivities(clients: EndpointClients) {
  const onapp = (endpoint: string) => clients.client(endpoint, 'onapp', (profile, env) => new OnappClient(profile, env));

  return {
    /** Resolves the profile without calling the vendor: a wrong name fails before anything happens. */
    async onappCheckEndpoint(input: { endpoint: string }): Promise<{ endpoint: string; url: string; format: string }> {
      const profile = clients.profile(input.endpoint, 'onapp');
      return { endpoint: input.endpoint, url: profile.url, format: profile.format };
    },

    /** The server exists; for a normal backup, the disk (given, or the primary one) belongs to it and is not swap. */
    async onappPreflight(
      input: OnappServerRef & { backupType: 'normal' | 'incremental'; diskId?: number },
    ): Promise<{ virtualServer: { id: number; label: string; identifier: string }; disk?: { id: number; label: string | null; sizeGb: number } }> {
      const client = onapp(input.endpoint);
      const vm = await client.getVirtualServer(input.virtualServerId).catch(notFoundAs(`virtual server ${input.virtualServerId} does not exist on endpoint "${input.endpoint}"`));
      const virtualServer = { id: vm.id, label: vm.label, identifier: vm.identifier };
      if (input.backupType === 'incremental') return { virtualServer };
      const disks = await client.listDisks(input.virtualServerId);
      const disk = input.diskId !== undefined ? disks.find((d) => d.id === input.diskId) : disks.find((d) => d.primary);
      if (!disk) {
        throw nonRetryable(
          input.diskId !== undefined
            ? `virtual server ${vm.label} has no disk ${input.diskId}; its disks: ${disks.map((d) => `${d.id} (${d.label ?? 'unlabelled'})`).join(', ') || 'none'}`
            : `virtual server ${vm.label} has no primary disk to back up`,
          ErrorTypes.invalidInput,
        );
      }
      if (disk.isSwap) throw nonRetryable(`disk ${disk.id} of ${vm.label} is a swap disk: OnApp does not back up swap`, ErrorTypes.invalidInput);
      return { virtualServer, disk: { id: disk.id, label: disk.label, sizeGb: disk.diskSizeGb } };
    },

    /**
     * Takes the backup, or adopts the one an earlier attempt of this run started. Heartbeats while
     * OnApp answers and always waits for that answer, cancelled or not: the workflow waits for this
     * activity to end before it undoes (forwardCreate), so the undo finds what the take made.
     */
    async onappTakeBackup(input: OnappServerRef & { runId: string; backupType: 'normal' | 'incremental'; diskId?: number; note?: string }): Promise<{ backup: OnappBackup; adopted: boolean }> {
      const client = onapp(input.endpoint);
      const tag = onappRunTag(input.runId);
      const existing = (await client.listBackups(input.virtualServerId)).find((b) => b.note?.startsWith(tag));
      if (existing) return { backup: existing, adopted: true };
      const note = input.note ? `${tag} ${input.note}` : tag;
      const take = input.backupType === 'normal' ? client.takeDiskBackup(input.diskId!, { note }) : client.takeIncrementalBackup(input.virtualServerId, { note });
      // A take whose answer timed out may still land: the retry adopts it by its tag, the undo finds it.
      const backup = await heartbeatWhile(take.catch((err: unknown) => failAfterLateCreateGrace(err, clients.profile(input.endpoint, 'onapp'))));
      return { backup, adopted: false };
    },

    /**
     * Polls the server's backup list until the backup is built (heartbeating the poll count, so a
     * retried attempt carries on counting); a backup that vanishes while being built fails clearly.
     */
    async onappWaitBackupBuilt(input: OnappServerRef & { backupId: number; deadline: number; pollMs: number }): Promise<{ backup: OnappBackup; polls: number }> {
      const client = onapp(input.endpoint);
      let polls = Number((Context.current().info.heartbeatDetails as { polls?: number } | undefined)?.polls ?? 0);
      return pollUntil(
        {
          intervalMs: input.pollMs,
          deadline: { at: input.deadline, stillWaiting: () => `backup ${input.backupId} is still not built` },
          details: () => ({ polls }),
          pollsBefore: polls,
        },
        async (poll) => {
          polls = poll;
          const backup = (await client.listBackups(input.virtualServerId)).find((b) => b.id === input.backupId);
          if (!backup) throw nonRetryable(`backup ${input.backupId} disappeared from virtual server ${input.virtualServerId} while being built`, ErrorTypes.vendorNotFound);
          return backup.built ? { backup, polls } : undefined;
        },
      );
    },

    /**
     * Deletes this run's backup (the given id, and any backup whose note carries the run tag, for
     * a take whose reply was lost). "Already gone" counts as done.
     */
    async onappDeleteRunBackup(input: OnappServerRef & { runId: string; backupId?: number }): Promise<{ deleted: number[] }> {
      const client = onapp(input.endpoint);
      const tag = onappRunTag(input.runId);
      const deleted: number[] = [];
      // An undo runs under a heartbeat timeout (a dead worker is noticed): a list and several
      // deletes on a slow appliance must not look like one.
      await heartbeatWhile(
        (async () => {
          const tagged = (await client.listBackups(input.virtualServerId)).filter((b) => b.note?.startsWith(tag)).map((b) => b.id);
          const targets = [...new Set([...(input.backupId !== undefined ? [input.backupId] : []), ...tagged])];
          for (const id of targets) {
            try {
              await client.deleteBackup(id);
              deleted.push(id);
            } catch (err) {
              if (!(err instanceof VendorError && err.isNotFound)) throw err;
            }
          }
        })(),
      );
      return { deleted };
    },

    async onappListBackups(input: OnappServerRef & { kind: OnappBackupKind }): Promise<OnappBackup[]> {
      const client = onapp(input.endpoint);
      await client.getVirtualServer(input.virtualServerId).catch(notFoundAs(`virtual server ${input.virtualServerId} does not exist on endpoint "${input.endpoint}"`));
      return client.listBackups(input.virtualServerId, input.kind);
    },
  };
}

export type OnappActivities = ReturnType<typeof createOnappActivities>;
