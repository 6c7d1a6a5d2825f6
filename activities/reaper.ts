/**
 * What every vendor's reaper activities (activities/<vendor>/reaper.ts) hand the reaper workflow:
 * one shape for an object this tool made, tagged with the run that made it. The workflow asks
 * Temporal about the run (activities/run-status.ts) and decides; the vendor files only find and remove.
 */
import { heartbeat } from '@temporalio/activity';
import { ErrorTypes, VendorError, nonRetryable } from '../lib/errors';
import type { EndpointProfile } from '../lib/config/endpoints';
import type { EndpointClients } from './endpoint-clients';

export type ReaperVendor = 'ovirt' | 'manageiq' | 'onapp' | 'azure';

export interface ReapObject {
  vendor: ReaperVendor;
  /** snapshot, attachment (oVirt), backup (OnApp), ilr-session (Azure). */
  kind: string;
  endpoint: string;
  /** The vendor's id of the object (for an attachment: the disk id). */
  id: string;
  /** What an admin recognises: "snapshot bo-20261125T010203-1a2b3c4d of VM 42". */
  label: string;
  /** The run that made it; with `runLookup`, only the first characters of its id (ManageIQ names). */
  runId: string;
  runLookup?: { workflowType: string; vmId: string };
  /** The VM (or server, resource, protected item) the object belongs to. */
  vmId: string;
  /** When the vendor says it was made (ISO), to give runs not yet visible the benefit of the doubt. */
  createdAt?: string;
  /**
   * Whether a run that got far enough keeps this object as its product (a ManageIQ snapshot, a
   * built OnApp backup). Such an object is removed only when Temporal says its run ended before
   * that point; a run Temporal does not know keeps it.
   */
  mayBeProduct: boolean;
  /** Removal order within a vendor: lower first (oVirt detaches before deleting snapshots). */
  order: number;
  /** Objects sharing this key are one thing at the vendor (an Azure ILR connection per recovery point). */
  sharedKey?: string;
  /** Vendor details the remove activity needs (oVirt snapshot/disk ids, ManageIQ collection, …). */
  details?: Record<string, string | number | boolean | undefined>;
}

/** The run id in a `[backup-orchestrator <runId>]` tag at the start of a note or description this tool wrote. */
export function runIdOfTag(text: string | null | undefined): string | undefined {
  return /^\[backup-orchestrator ([^\]]+)\]/.exec(text ?? '')?.[1];
}

/**
 * Finds, VM by VM, what this tool left on one endpoint: ids not of the vendor's form are skipped
 * (the VM list comes from Temporal, not from this endpoint), and heartbeats mark the progress.
 */
export async function findPerVm(vmIds: string[], idForm: RegExp, find: (vmId: string) => Promise<ReapObject[]>): Promise<ReapObject[]> {
  const objects: ReapObject[] = [];
  for (const vmId of vmIds) {
    heartbeat({ vmId });
    if (idForm.test(vmId)) objects.push(...(await find(vmId)));
  }
  return objects;
}

/** What a listing call answers, or undefined when the thing listed is not on this endpoint (404). */
export async function unlessMissing<T>(list: Promise<T>): Promise<T | undefined> {
  try {
    return await list;
  } catch (err) {
    if (err instanceof VendorError && err.isNotFound) return undefined;
    throw err;
  }
}

export interface ReapRemoveInput {
  object: ReapObject;
  pollMs: number;
  /** Another object with the same sharedKey stays (its run is open or keeps it): remove only this run's part. */
  sharedWithKept: boolean;
}

export function createReaperActivities(clients: EndpointClients) {
  return {
    /** The vendor of each named profile, from the worker's config; an unknown name fails at once. */
    async reaperEndpointVendors(input: { endpoints: string[] }): Promise<Record<string, EndpointProfile['vendor']>> {
      const out: Record<string, EndpointProfile['vendor']> = {};
      for (const name of input.endpoints) {
        const profile = clients.registry.get(name);
        if (!profile) {
          throw nonRetryable(`unknown endpoint profile "${name}"; configured profiles: ${clients.registry.names().join(', ') || '(none)'}`, ErrorTypes.unknownEndpoint);
        }
        out[name] = profile.vendor;
      }
      return out;
    },
  };
}
