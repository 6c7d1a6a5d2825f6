/**
 * Azure Backup activities. Each one is safe to retry: protection is a PUT, a backup or restore
 * adopts the job an earlier attempt started, revoke/disable accept "already gone". Long waits
 * (async operations, cancellation) poll inside the activity with heartbeats.
 */
import { Context } from '@temporalio/activity';
import { ErrorTypes, VendorError, nonRetryable } from '../../lib/errors';
import { failAfterLateCreateGrace } from '../late-create';
import { pollUntil } from '../poll-until';
import type { EndpointClients } from '../endpoint-clients';
import { AzureClient, type FollowOperation } from './client';
import { followOperation } from './follow-operation';
import { extractIlrPassword, fileRecoveryRoot, removeFileRecovery, storeFileRecovery, writeFileRecoveryRecord, type StoredFileRecovery } from './file-recovery-store';
import { followJobSlice, type FollowJobInput, type FollowJobSlice } from './follow-job';
import { jobOfAcceptedOperation, ownJobSince, triggerOwnJob, type TriggerKnowledge } from './job-ownership';
import { summarizeJob, type AzureJobSummary } from './job-summary';
import type { AzureRecoveryPoint } from './schemas';

export { summarizeJob, type AzureJobSummary } from './job-summary';
export type { TriggerKnowledge } from './job-ownership';

export interface AzureVmSelector {
  endpoint: string;
  vmName?: string;
  vmResourceId?: string;
}

export interface AzureItemRef {
  endpoint: string;
  containerName: string;
  protectedItemName: string;
}

export interface AzureVmInfo {
  vmName: string;
  sourceResourceId: string;
  containerName: string;
  protectedItemName: string;
  protected: boolean;
  protectionState?: string;
  policyId?: string;
}

export interface AzureRecoveryPointInfo {
  name: string;
  id: string;
  time: string;
  type: string;
  osType?: string;
  ilrSessionActive: boolean;
}

function rpInfo(rp: AzureRecoveryPoint): AzureRecoveryPointInfo {
  return {
    name: rp.name,
    id: rp.id,
    time: rp.properties.recoveryPointTime,
    type: rp.properties.recoveryPointType,
    osType: rp.properties.osType,
    ilrSessionActive: rp.properties.isInstantIlrSessionActive,
  };
}

const tracking = (client: AzureClient, pollMs: number, details?: () => unknown): FollowOperation => followOperation(client, { pollMs, details });

/** Waits until the job has ended, heartbeating its id and status as last read. */
async function jobEnded(client: AzureClient, jobId: string, pollMs: number): Promise<AzureJobSummary> {
  let status: string | undefined;
  return pollUntil({ intervalMs: pollMs, details: () => ({ jobId, status }) }, async () => {
    const job = summarizeJob(await client.getJob(jobId));
    status = job.status;
    return job.terminal ? job : undefined;
  });
}

const vmNameOf = (resourceId: string) => resourceId.split('/').pop() ?? resourceId;

export function createAzureActivities(clients: EndpointClients) {
  const azure = (endpoint: string) => clients.client(endpoint, 'azure', (profile, env) => new AzureClient(profile, env));

  return {
    /** Resolves the profile without calling Azure: a wrong name fails before anything happens. */
    async azureCheckEndpoint(input: { endpoint: string }): Promise<{ endpoint: string; url: string; vault: string; apiVersion: string }> {
      const p = clients.profile(input.endpoint, 'azure');
      return { endpoint: input.endpoint, url: p.url, vault: `${p.resourceGroup}/${p.vaultName}`, apiVersion: p.apiVersion };
    },

    /** The vault's IaaS VM policy of that name (case-insensitive), or a clear list of what exists. */
    async azureResolvePolicy(input: { endpoint: string; policyName: string }): Promise<{ policyId: string; policyName: string }> {
      const client = azure(input.endpoint);
      const policies = await client.listPolicies();
      let policy = policies.find((p) => p.name.toLowerCase() === input.policyName.toLowerCase());
      if (!policy) {
        policy = await client.getPolicy(input.policyName).catch((err) => {
          if (err instanceof VendorError && err.isNotFound) {
            throw nonRetryable(
              `backup policy "${input.policyName}" does not exist in vault ${client.profile.vaultName}; its IaaS VM policies: ${policies.map((p) => p.name).join(', ') || '(none)'}`,
              ErrorTypes.invalidInput,
            );
          }
          throw err;
        });
      }
      return { policyId: policy.id, policyName: policy.name };
    },

    /**
     * Finds the VM: among protected items first; otherwise refreshes the vault's containers (an async
     * operation) and looks among the protectable items.
     */
    async azureFindVm(input: AzureVmSelector & { pollMs: number }): Promise<AzureVmInfo> {
      const client = azure(input.endpoint);
      const want = (name?: string, id?: string) =>
        (input.vmResourceId && id?.toLowerCase() === input.vmResourceId.toLowerCase()) || (!input.vmResourceId && input.vmName && name?.toLowerCase() === input.vmName.toLowerCase());
      const protectedItems = (await client.listProtectedItems()).filter((i) => want(i.properties.friendlyName ?? vmNameOf(i.properties.sourceResourceId), i.properties.sourceResourceId));
      if (protectedItems.length > 1) throw nonRetryable(`${protectedItems.length} protected VMs are named "${input.vmName}"; give vmResourceId instead`, ErrorTypes.invalidInput);
      const item = protectedItems[0];
      if (item) {
        const container = /protectionContainers\/([^/]+)\/protectedItems\//i.exec(item.id)?.[1];
        return {
          vmName: item.properties.friendlyName ?? vmNameOf(item.properties.sourceResourceId),
          sourceResourceId: item.properties.sourceResourceId,
          containerName: decodeURIComponent(container ?? `IaasVMContainer;${item.properties.containerName}`),
          protectedItemName: item.name,
          protected: true,
          protectionState: item.properties.protectionState,
          policyId: item.properties.policyId,
        };
      }
      await client.refreshContainers(tracking(client, input.pollMs));
      const candidates = (await client.listProtectableItems()).filter((i) => want(i.properties.friendlyName, i.properties.virtualMachineId));
      if (candidates.length > 1) throw nonRetryable(`${candidates.length} VMs are named "${input.vmName}"; give vmResourceId instead`, ErrorTypes.invalidInput);
      const found = candidates[0];
      if (!found) {
        throw nonRetryable(
          `VM ${input.vmResourceId ?? input.vmName} is neither protected by vault ${client.profile.vaultName} nor among its protectable VMs (after a container refresh)`,
          ErrorTypes.invalidInput,
        );
      }
      const container = /protectionContainers\/([^/]+)\/protectableItems\//i.exec(found.id)?.[1];
      return {
        vmName: found.properties.friendlyName,
        sourceResourceId: found.properties.virtualMachineId,
        containerName: decodeURIComponent(container ?? `IaasVMContainer;${found.name}`),
        protectedItemName: `VM;${found.name}`,
        protected: false,
      };
    },

    /** PUT of the protected item (idempotent by nature), followed to its end. */
    async azureEnableProtection(input: AzureItemRef & { sourceResourceId: string; policyId: string; pollMs: number }): Promise<{ protectionState: string; policyId?: string; via: string }> {
      const client = azure(input.endpoint);
      const outcome = await client.enableProtection(input.containerName, input.protectedItemName, input.sourceResourceId, input.policyId, tracking(client, input.pollMs));
      const item = await client.getProtectedItem(input.containerName, input.protectedItemName);
      if (!item)
        throw new VendorError({ vendor: 'azure', operation: 'enable protection', vendorMessage: `protection of ${input.protectedItemName} succeeded but the item is not there`, retryable: true });
      return { protectionState: item.properties.protectionState, policyId: item.properties.policyId, via: outcome.via };
    },

    /**
     * Undo of a protection this run enabled: stop protection and delete its backup data. A protection
     * still being configured (its PUT's reply lost or garbled) would appear after the delete: its
     * Configure backup job is waited for first.
     */
    async azureDisableProtection(input: AzureItemRef & { pollMs: number }): Promise<{ result: string }> {
      const client = azure(input.endpoint);
      const vmName = input.protectedItemName.split(';').pop()!;
      for (const job of await client.findJobs(vmName, 'ConfigureBackup', 'InProgress')) await jobEnded(client, job.name, input.pollMs);
      return { result: await client.disableProtection(input.containerName, input.protectedItemName, tracking(client, input.pollMs)) };
    },

    /**
     * Triggers an on-demand backup and names its job. A retry goes on from the operation an earlier
     * attempt's request started, or adopts the job that request started after a lost reply (`since`:
     * when the run's trigger began), even one that already ended. A backup of the VM that someone
     * else started (the vault's policy schedule) is waited for, never adopted (job-ownership.ts).
     */
    async azureTriggerBackup(input: AzureItemRef & { vmName: string; expiry?: string; pollMs: number; since?: string }): Promise<{ jobId: string; adopted: boolean; via: string }> {
      const client = azure(input.endpoint);
      const request = { method: 'POST' as const, path: `${client.itemPath(input.containerName, input.protectedItemName)}/backup` };
      return triggerOwnJob(client, { vmName: input.vmName, operation: 'Backup', since: input.since, pollMs: input.pollMs, request }, (options) =>
        client.triggerBackup(input.containerName, input.protectedItemName, input.expiry, options),
      );
    },

    /** One look at a job: the poll of runs that reached their job step before 'azure-follow-job-in-activity'. */
    async azureGetJob(input: { endpoint: string; jobId: string }): Promise<AzureJobSummary> {
      return summarizeJob(await azure(input.endpoint).getJob(input.jobId));
    },

    /**
     * Follows a job for one slice (job ended, status changed, progress crossed a step, or maxSliceMs
     * passed), polling inside the activity: the run's history grows per slice, not per poll.
     */
    async azureFollowJob(input: FollowJobInput): Promise<FollowJobSlice> {
      return followJobSlice(azure(input.endpoint), input);
    },

    /**
     * Cancels the run's job and waits until it has ended; a job that already ended is left as it is.
     * Without a job id (the trigger was cut off) only a job the run knows is its own is cancelled:
     * the one its request's operation names, else one started since its trigger began that was not
     * running before it asked. A job someone else started (the vault's policy) is never touched.
     */
    async azureCancelJob(input: {
      endpoint: string;
      jobId?: string;
      vmName?: string;
      operation?: string;
      since?: string;
      trigger?: TriggerKnowledge;
      pollMs: number;
    }): Promise<AzureJobSummary | undefined> {
      const client = azure(input.endpoint);
      let jobId = input.jobId;
      const since = input.trigger?.since ?? input.since;
      if (!jobId && input.vmName && input.operation && since) {
        const known: TriggerKnowledge = { since, foreign: input.trigger?.foreign ?? [], accepted: input.trigger?.accepted };
        const request = { method: 'POST' as const, path: `the ${input.operation} request of VM ${input.vmName}` };
        jobId = known.accepted
          ? await jobOfAcceptedOperation(client, input.vmName, input.operation, known, request, tracking(client, input.pollMs))
          : (await ownJobSince(client, input.vmName, input.operation, known))?.name;
      }
      if (!jobId) return undefined;
      const ownJobId = jobId;
      let job = summarizeJob(await client.getJob(ownJobId));
      if (!job.terminal && job.status !== 'Cancelling') {
        try {
          await client.cancelJob(
            ownJobId,
            tracking(client, input.pollMs, () => ({ jobId: ownJobId })),
          );
        } catch (err) {
          // It may have ended between the look and the cancel: only a job still running is a problem.
          job = summarizeJob(await client.getJob(ownJobId));
          if (!job.terminal) throw err;
        }
      }
      return jobEnded(client, ownJobId, input.pollMs);
    },

    /** The newest recovery point (optionally taken after `after`), or the one with that name. */
    async azureFindRecoveryPoint(input: AzureItemRef & { recoveryPoint?: string; after?: string }): Promise<AzureRecoveryPointInfo> {
      const client = azure(input.endpoint);
      if (input.recoveryPoint && input.recoveryPoint !== 'latest') {
        const rp = await client.getRecoveryPoint(input.containerName, input.protectedItemName, input.recoveryPoint).catch((err) => {
          if (err instanceof VendorError && err.isNotFound) throw nonRetryable(`recovery point ${input.recoveryPoint} of ${input.protectedItemName} does not exist`, ErrorTypes.invalidInput);
          throw err;
        });
        return rpInfo(rp);
      }
      const points = (await client.listRecoveryPoints(input.containerName, input.protectedItemName))
        .filter((rp) => !input.after || Date.parse(rp.properties.recoveryPointTime) >= Date.parse(input.after))
        .sort((a, b) => Date.parse(b.properties.recoveryPointTime) - Date.parse(a.properties.recoveryPointTime));
      if (!points[0]) {
        const what = input.after ? ` taken after ${input.after}` : '';
        // Right after a backup job the point can take a moment to be listed: let Temporal retry.
        throw new VendorError({ vendor: 'azure', operation: 'list recovery points', vendorMessage: `${input.protectedItemName} has no recovery point${what}`, retryable: Boolean(input.after) });
      }
      return rpInfo(points[0]);
    },

    /** Triggers a restore and names its job, with the same rules as azureTriggerBackup for retries and jobs of others. */
    async azureTriggerRestore(
      input: AzureItemRef & {
        vmName: string;
        recoveryPoint: string;
        restore: Parameters<AzureClient['restore']>[3];
        pollMs: number;
        since?: string;
      },
    ): Promise<{ jobId: string; adopted: boolean; via: string }> {
      const client = azure(input.endpoint);
      const request = { method: 'POST' as const, path: `${client.itemPath(input.containerName, input.protectedItemName)}/recoveryPoints/${encodeURIComponent(input.recoveryPoint)}/restore` };
      return triggerOwnJob(client, { vmName: input.vmName, operation: 'Restore', since: input.since, pollMs: input.pollMs, request }, (options) =>
        client.restore(input.containerName, input.protectedItemName, input.recoveryPoint, input.restore, options),
      );
    },

    /**
     * Provisions item-level recovery and keeps the script and its password on the worker's side:
     * the result carries only where they are, never the password or the suffix that holds it.
     */
    async azureProvisionFileRecovery(
      input: AzureItemRef & { recoveryPoint: string; sourceResourceId: string; initiatorName: string; ref: string; pollMs: number },
    ): Promise<Omit<StoredFileRecovery, never> & { osType?: string; via: string }> {
      const client = azure(input.endpoint);
      // Before provisioning: which run opens which connection, so the reaper can revoke it if the run is terminated.
      const run = Context.current().info.workflowExecution;
      const { endpoint, containerName, protectedItemName, recoveryPoint } = input;
      if (run) await writeFileRecoveryRecord(fileRecoveryRoot(client.profile), input.ref, { endpoint, containerName, protectedItemName, recoveryPoint, ...run, createdAt: new Date().toISOString() });
      const outcome = await client
        .provisionItemLevelRecovery(
          input.containerName,
          input.protectedItemName,
          input.recoveryPoint,
          {
            objectType: 'IaasVMILRRegistrationRequest',
            recoveryPointId: input.recoveryPoint,
            virtualMachineId: input.sourceResourceId,
            initiatorName: input.initiatorName,
            renewExistingRegistration: true,
          },
          tracking(client, input.pollMs),
        )
        .catch((err: unknown) => failAfterLateCreateGrace(err, client.profile));
      let props = outcome.operation?.properties;
      if (!props && outcome.operationId) props = (await client.getItemOperationStatus(input.containerName, input.protectedItemName, outcome.operationId)).properties;
      if (!props || props.objectType !== 'OperationStatusProvisionILRExtendedInfo') {
        throw new VendorError({ vendor: 'azure', operation: 'provisionInstantItemRecovery', vendorMessage: 'the operation succeeded without a recovery target (no client script)', retryable: false });
      }
      const script = props.recoveryTarget.clientScripts.find((s) => s.scriptNameSuffix) ?? props.recoveryTarget.clientScripts[0]!;
      if (!script.scriptNameSuffix)
        throw new VendorError({ vendor: 'azure', operation: 'provisionInstantItemRecovery', vendorMessage: 'the client script has no scriptNameSuffix (no password to hand over)', retryable: false });
      let secret: ReturnType<typeof extractIlrPassword>;
      try {
        secret = extractIlrPassword(script.scriptNameSuffix);
      } catch (err) {
        throw new VendorError({ vendor: 'azure', operation: 'provisionInstantItemRecovery', vendorMessage: (err as Error).message, retryable: false });
      }
      const root = fileRecoveryRoot(client.profile);
      const stored = await storeFileRecovery(root, input.ref, { scriptContent: script.scriptContent, scriptExtension: script.scriptExtension, ...secret });
      return { ...stored, osType: script.osType, via: outcome.via };
    },

    /** Revokes the ILR connection (a recovery point that is gone counts as revoked) and deletes the stored credentials. */
    async azureRevokeFileRecovery(input: AzureItemRef & { recoveryPoint: string; ref: string; pollMs: number }): Promise<{ revoked: boolean }> {
      const client = azure(input.endpoint);
      let revoked = true;
      try {
        await client.revokeItemLevelRecovery(input.containerName, input.protectedItemName, input.recoveryPoint, tracking(client, input.pollMs));
      } catch (err) {
        if (!(err instanceof VendorError && err.isNotFound)) throw err;
        revoked = false;
      }
      await removeFileRecovery(fileRecoveryRoot(client.profile), input.ref);
      return { revoked };
    },

    /** The current state of a recovery point (e.g. whether an ILR session is still open). */
    async azureGetRecoveryPoint(input: AzureItemRef & { recoveryPoint: string }): Promise<AzureRecoveryPointInfo> {
      return rpInfo(await azure(input.endpoint).getRecoveryPoint(input.containerName, input.protectedItemName, input.recoveryPoint));
    },
  };
}

export type AzureActivities = ReturnType<typeof createAzureActivities>;
