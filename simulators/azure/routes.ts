/**
 * ARM routes of the Azure Backup simulator, below /subscriptions. Every request body is checked
 * with the client's own zod schemas written from the REST reference, and every body returned is
 * checked too (a mismatch is a simulator bug and answers 500).
 */
import type { z } from 'zod';
import { Router } from '../framework/router';
import type { SimRequest, SimResponse } from '../framework/types';
import { formatZodIssues } from '../../lib/schema';
import * as schemas from '../../activities/azure/schemas';
import { ArmError, AzureState, containerName, isoDuration, itemName, vmKey, type SimJob, type SimOperation, type SimProtectedItem, type SimRecoveryPoint, type SimVm } from './state';

const V = '/:sub/resourceGroups/:rg/providers/Microsoft.RecoveryServices/vaults/:vault';
const ITEM = `${V}/backupFabrics/:fabric/protectionContainers/:container/protectedItems/:item`;
const RP = `${ITEM}/recoveryPoints/:rp`;

export function armError(status: number, code: string, message: string): SimResponse {
  return json(status, checked(schemas.armErrorBody, { error: { code, message } }));
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): SimResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', 'x-ms-request-id': crypto.randomUUID(), ...headers }, body: JSON.stringify(body) };
}

/** Every body the simulator returns passes the reference schema, or the simulator is wrong. */
function checked<S extends z.ZodType>(schema: S, body: z.input<S>): z.input<S> {
  const r = schema.safeParse(body);
  if (!r.success) throw new Error(`simulator response does not match its schema: ${formatZodIssues(r.error)}`);
  return body;
}

function parseBody<S extends z.ZodType>(schema: S, req: SimRequest): z.output<S> {
  let raw: unknown;
  try {
    raw = req.body ? JSON.parse(req.body) : undefined;
  } catch {
    throw new ArmError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.');
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw new ArmError(400, 'BMSUserErrorInvalidInput', `Input provided for the call is invalid: ${formatZodIssues(r.error)}`);
  return r.data;
}

/** Parses `a eq 'x' and b eq 'y'` into { a: 'x', b: 'y' }. */
export function parseFilter(filter: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (filter ?? '').split(/\s+and\s+/i)) {
    const m = /^\s*(\w+)\s+eq\s+'([^']*)'\s*$/i.exec(part);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

export function createArmRouter(state: AzureState): Router {
  const router = new Router();
  const o = state.options;

  /** Wraps a handler: vault scope check, clock tick, ArmError → ARM error body. */
  const h =
    (fn: (req: SimRequest) => SimResponse) =>
    (req: SimRequest): SimResponse => {
      try {
        state.tick();
        if (req.params.vault !== undefined) {
          if (req.params.sub !== o.subscriptionId) throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${req.params.sub}' could not be found.`);
          if (req.params.rg!.toLowerCase() !== o.resourceGroup.toLowerCase()) throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${req.params.rg}' could not be found.`);
          if (req.params.vault!.toLowerCase() !== o.vaultName.toLowerCase())
            throw new ArmError(404, 'ResourceNotFound', `The Resource 'Microsoft.RecoveryServices/vaults/${req.params.vault}' under resource group '${req.params.rg}' was not found.`);
        }
        if (req.params.fabric !== undefined && req.params.fabric !== 'Azure') throw new ArmError(404, 'BMSUserErrorFabricNotFound', `Fabric ${req.params.fabric} not found.`);
        return fn(req);
      } catch (err) {
        if (err instanceof ArmError) return armError(err.status, err.code, err.message);
        throw err;
      }
    };

  const vaultId = () => state.vaultId;
  const apiVersion = (req: SimRequest) => req.query.get('api-version') ?? '';

  /** 202 with Location (operationResults) and, unless told otherwise, Azure-AsyncOperation (operationsStatus). */
  function accepted(req: SimRequest, op: SimOperation, opts: { locationOnly?: boolean; statusBase?: string } = {}): SimResponse {
    const q = `?api-version=${encodeURIComponent(apiVersion(req))}`;
    const headers: Record<string, string> = {
      location: `${req.origin}${op.base}/operationResults/${op.id}${q}`,
      'retry-after': String(o.retryAfterSeconds),
    };
    if (!opts.locationOnly && o.asyncHeaders === 'both') headers['azure-asyncoperation'] = `${req.origin}${opts.statusBase ?? `${op.base}/operationsStatus`}/${op.id}${q}`;
    return { status: 202, headers: { ...headers, 'x-ms-request-id': crypto.randomUUID() }, body: '' };
  }

  function operationStatusBody(op: SimOperation) {
    const done = op.applied;
    const status = !done ? 'InProgress' : op.error ? 'Failed' : 'Succeeded';
    return checked(schemas.operationStatus, {
      id: op.id,
      name: op.id,
      status,
      startTime: new Date(op.startedAt).toISOString(),
      ...(done ? { endTime: new Date(op.doneAt).toISOString() } : {}),
      ...(done && op.error ? { error: op.error } : {}),
      ...(done && !op.error && op.extended?.() ? { properties: op.extended() } : {}),
    } as z.input<typeof schemas.operationStatus>);
  }

  /** An operation status; while it runs, Retry-After says when to look again. */
  function statusAnswer(op: SimOperation): SimResponse {
    return json(200, operationStatusBody(op), op.applied ? {} : { 'retry-after': String(o.retryAfterSeconds) });
  }

  function operationResult(req: SimRequest, op: SimOperation | undefined): SimResponse {
    if (!op) throw new ArmError(404, 'BMSUserErrorOperationNotFound', 'The operation was not found.');
    if (!op.applied) return { status: 202, headers: { location: `${req.origin}/subscriptions${req.path}?${req.query}`, 'retry-after': String(o.retryAfterSeconds) }, body: '' };
    if (op.error) throw new ArmError(400, op.error.code, op.error.message);
    const body = op.resultBody?.();
    return body === undefined ? { status: 204, body: '' } : json(200, body);
  }

  const opIn = (req: SimRequest, base: string) => {
    const op = state.operations.get(req.params.op!);
    return op && op.base.toLowerCase() === base.toLowerCase() ? op : undefined;
  };

  // --- views -----------------------------------------------------------------------------------

  const policyView = (p: { name: string; policyType: string }) => ({
    id: `${vaultId()}/backupPolicies/${p.name}`,
    name: p.name,
    type: 'Microsoft.RecoveryServices/vaults/backupPolicies',
    properties: {
      backupManagementType: 'AzureIaasVM',
      policyType: p.policyType,
      instantRpRetentionRangeInDays: 2,
      protectedItemsCount: [...state.protectedItems.values()].filter((i) => i.policyName === p.name).length,
      schedulePolicy: { schedulePolicyType: 'SimpleSchedulePolicy', scheduleRunFrequency: 'Daily', scheduleRunTimes: ['2024-01-01T22:00:00Z'] },
      retentionPolicy: { retentionPolicyType: 'LongTermRetentionPolicy', dailySchedule: { retentionTimes: ['2024-01-01T22:00:00Z'], retentionDuration: { count: 30, durationType: 'Days' } } },
      timeZone: 'UTC',
    },
  });

  const containerBase = (vm: SimVm) => `${vaultId()}/backupFabrics/Azure/protectionContainers/${containerName(vm)}`;
  const itemBase = (vm: SimVm) => `${containerBase(vm)}/protectedItems/${itemName(vm)}`;

  const protectableView = (vm: SimVm) => {
    const name = `iaasvmcontainerv2;${vm.resourceGroup};${vm.name}`;
    return {
      id: `${containerBase(vm)}/protectableItems/vm;${name}`,
      name,
      type: 'Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectableItems',
      properties: {
        friendlyName: vm.name,
        virtualMachineId: state.vmId(vm),
        protectionState: 'NotProtected' as const,
        protectableItemType: 'Microsoft.Compute/virtualMachines',
        backupManagementType: 'AzureIaasVM',
        workloadType: 'VM',
      },
    };
  };

  const itemView = (item: SimProtectedItem) => ({
    id: itemBase(item.vm),
    name: itemName(item.vm),
    type: 'Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems',
    properties: {
      friendlyName: item.vm.name,
      virtualMachineId: state.vmId(item.vm),
      protectionStatus: 'Healthy',
      protectionState: item.state,
      healthStatus: 'Passed',
      lastBackupStatus: item.lastBackupStatus ?? '',
      ...(item.lastBackupTime ? { lastBackupTime: item.lastBackupTime, lastRecoveryPoint: item.lastBackupTime } : {}),
      protectedItemType: 'Microsoft.Compute/virtualMachines',
      backupManagementType: 'AzureIaasVM',
      workloadType: 'VM',
      containerName: `iaasvmcontainerv2;${item.vm.resourceGroup};${item.vm.name}`,
      sourceResourceId: state.vmId(item.vm),
      policyId: `${vaultId()}/backupPolicies/${item.policyName}`,
    },
  });

  const rpView = (item: SimProtectedItem, rp: SimRecoveryPoint) => ({
    id: `${itemBase(item.vm)}/recoveryPoints/${rp.name}`,
    name: rp.name,
    type: 'Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/recoveryPoints',
    properties: {
      objectType: 'IaasVMRecoveryPoint' as const,
      recoveryPointType: 'AppConsistent',
      recoveryPointTime: rp.time,
      recoveryPointAdditionalInfo: '',
      sourceVMStorageType: 'NormalStorage',
      isSourceVMEncrypted: false,
      isInstantIlrSessionActive: rp.ilr?.active ?? false,
      osType: item.vm.osType,
      isManagedVirtualMachine: true,
      virtualMachineSize: item.vm.size,
      originalStorageAccountOption: false,
    },
  });

  const jobView = (job: SimJob) => {
    const now = state.now();
    const status = state.jobStatus(job, now);
    const end = job.endedAt ?? now;
    let offset = job.startedAt;
    const stopAt = job.cancelRequestedAt ?? end;
    const tasksList = job.tasks.map((t) => {
      const start = offset;
      offset += t.ms;
      const taskStatus =
        stopAt >= start + t.ms && !(job.failWith && t === job.tasks[job.tasks.length - 1])
          ? 'Completed'
          : job.cancelRequestedAt !== undefined && stopAt < start + t.ms
            ? status === 'Cancelled'
              ? 'Cancelled'
              : 'InProgress'
            : stopAt < start
              ? 'NotStarted'
              : status === 'Failed'
                ? 'Failed'
                : 'InProgress';
      const pct = taskStatus === 'Completed' ? 100 : taskStatus === 'NotStarted' ? 0 : Math.min(99, Math.floor((100 * Math.max(0, Math.min(stopAt, now) - start)) / t.ms));
      return {
        taskId: t.taskId,
        status: taskStatus,
        progressPercentage: pct,
        ...(stopAt >= start ? { startTime: new Date(start).toISOString() } : {}),
        ...(taskStatus === 'Completed' ? { endTime: new Date(start + t.ms).toISOString(), duration: isoDuration(t.ms) } : {}),
        taskExecutionDetails: taskStatus === 'InProgress' && t.taskId.startsWith('Transfer') ? `${Math.floor(pct * 0.3)} GB transferred` : '',
      };
    });
    const total = job.tasks.reduce((n, t) => n + t.ms, 0);
    const terminal = status !== 'InProgress' && status !== 'Cancelling';
    const progress = status === 'Completed' ? 100 : Math.min(99, Math.floor((100 * (Math.min(stopAt, now) - job.startedAt)) / Math.max(1, total)));
    return checked(schemas.jobResource, {
      id: `${vaultId()}/backupJobs/${job.id}`,
      name: job.id,
      type: 'Microsoft.RecoveryServices/vaults/backupJobs',
      properties: {
        jobType: 'AzureIaaSVMJob',
        entityFriendlyName: job.entity,
        backupManagementType: 'AzureIaasVM',
        operation: job.operation,
        status,
        startTime: new Date(job.startedAt).toISOString(),
        ...(terminal ? { endTime: new Date(end).toISOString() } : {}),
        duration: isoDuration((terminal ? end : now) - job.startedAt),
        activityId: `${job.id}-activity`,
        actionsInfo: status === 'InProgress' ? ['Cancellable'] : status === 'Failed' ? ['Retriable'] : [],
        virtualMachineVersion: 'Compute',
        ...(status === 'Failed' && job.failWith
          ? { errorDetails: [{ errorCode: job.failWith.code, errorTitle: job.failWith.title, errorString: job.failWith.message, recommendations: ['Retry the operation after some time.'] }] }
          : { errorDetails: [] }),
        extendedInfo: {
          tasksList,
          propertyBag: job.propertyBag,
          progressPercentage: progress,
          ...(terminal ? {} : { estimatedRemainingDuration: isoDuration(Math.max(0, job.startedAt + total - now)) }),
          ...(status === 'Failed' && job.failWith ? { dynamicErrorMessage: job.failWith.message } : {}),
        },
      },
    });
  };

  // --- policies --------------------------------------------------------------------------------

  router.get(
    `${V}/backupPolicies`,
    h(() => json(200, checked(schemas.policyList, { value: [...state.policies.values()].map(policyView) }))),
  );
  router.get(
    `${V}/backupPolicies/:policy`,
    h((req) => {
      const p = [...state.policies.values()].find((x) => x.name.toLowerCase() === req.params.policy!.toLowerCase());
      if (!p) throw new ArmError(404, 'BMSUserErrorPolicyNotExist', `Policy '${req.params.policy}' does not exist in the vault.`);
      return json(200, checked(schemas.policyResource, policyView(p)));
    }),
  );

  // --- containers ------------------------------------------------------------------------------

  router.post(
    `${V}/backupFabrics/:fabric/refreshContainers`,
    h((req) => {
      const op = state.startOperation(`${vaultId()}/backupFabrics/Azure`, 'refresh', {
        effect: () => {
          for (const vm of state.vms.values()) vm.discovered = true;
        },
      });
      return accepted(req, op, { locationOnly: true });
    }),
  );
  router.get(
    `${V}/backupFabrics/:fabric/operationResults/:op`,
    h((req) => operationResult(req, opIn(req, `${vaultId()}/backupFabrics/Azure`))),
  );

  router.get(
    `${V}/backupProtectableItems`,
    h((req) => {
      const f = parseFilter(req.query.get('$filter'));
      if (f.backupManagementType && f.backupManagementType !== 'AzureIaasVM') return json(200, { value: [] });
      const vms = [...state.vms.values()].filter((vm) => vm.discovered && !state.protectedItems.has(itemName(vm)));
      return json(200, checked(schemas.protectableItemList, { value: vms.map(protectableView) }));
    }),
  );

  router.get(
    `${V}/backupProtectedItems`,
    h(() => json(200, checked(schemas.protectedItemList, { value: [...state.protectedItems.values()].map(itemView) }))),
  );

  // --- protected items -------------------------------------------------------------------------

  const vmOf = (req: SimRequest): SimVm => {
    const vm = state.findVmByContainer(req.params.container!);
    if (!vm || !vm.discovered) throw new ArmError(404, 'BMSUserErrorContainerObjectNotFound', `Container ${req.params.container} not found. Refresh the containers of the vault and try again.`);
    if (req.params.item!.toLowerCase() !== itemName(vm).toLowerCase()) throw new ArmError(404, 'BMSUserErrorItemNotFound', `Item ${req.params.item} not found in container ${req.params.container}.`);
    return vm;
  };
  const itemOf = (req: SimRequest): SimProtectedItem => {
    const item = state.protectedItems.get(itemName(vmOf(req)));
    if (!item) throw new ArmError(404, 'BMSUserErrorItemNotProtected', `Item ${req.params.item} is not protected.`);
    return item;
  };
  const runningJob = (entity: string, operation?: SimJob['operation']) => state.runningJob(entity, operation);

  router.get(
    ITEM,
    h((req) => json(200, checked(schemas.protectedItemResource, itemView(itemOf(req))))),
  );

  router.put(
    ITEM,
    h((req) => {
      const vm = vmOf(req);
      const body = parseBody(schemas.protectedItemRequest, req);
      if (state.vmByResourceId(body.properties.sourceResourceId) !== vm) throw new ArmError(400, 'BMSUserErrorInvalidSourceResourceId', 'sourceResourceId does not match the protected item.');
      const policyName = body.properties.policyId.split('/').pop()!;
      const policy = [...state.policies.values()].find((p) => `${vaultId()}/backupPolicies/${p.name}`.toLowerCase() === body.properties.policyId.toLowerCase());
      if (!policy) throw new ArmError(400, 'BMSUserErrorPolicyNotExist', `Policy '${policyName}' does not exist in the vault.`);
      const existing = state.protectedItems.get(itemName(vm));
      if (existing) {
        existing.policyName = policy.name;
        return json(200, checked(schemas.protectedItemResource, itemView(existing)));
      }
      const job = state.startJob('ConfigureBackup', vm.name, [{ taskId: 'Configure backup', ms: o.asyncMs }], { 'Policy Name': policy.name });
      const op = state.startOperation(itemBase(vm), 'protect', {
        effect: () => {
          state.protectedItems.set(itemName(vm), { vm, policyName: policy.name, state: 'IRPending', recoveryPoints: [] });
        },
        extended: () => ({ objectType: 'OperationStatusJobExtendedInfo', jobId: job.id }),
        resultBody: () => {
          const item = state.protectedItems.get(itemName(vm));
          return item ? checked(schemas.protectedItemResource, itemView(item)) : undefined;
        },
      });
      return accepted(req, op);
    }),
  );

  router.delete(
    ITEM,
    h((req) => {
      const vm = vmOf(req);
      const item = state.protectedItems.get(itemName(vm));
      if (!item) return { status: 204, body: '' };
      if (runningJob(vm.name, 'Backup')) throw new ArmError(400, 'BMSUserErrorOperationInProgress', `An operation is already in progress on ${vm.name}. Wait for it to finish.`);
      const job = state.startJob('DeleteBackupData', vm.name, [{ taskId: 'Delete backup data', ms: o.asyncMs }], {});
      const op = state.startOperation(itemBase(vm), 'unprotect', {
        effect: () => void state.protectedItems.delete(itemName(vm)),
        extended: () => ({ objectType: 'OperationStatusJobExtendedInfo', jobId: job.id }),
      });
      return accepted(req, op);
    }),
  );

  router.get(
    `${ITEM}/operationResults/:op`,
    h((req) => operationResult(req, opIn(req, itemBase(vmOf(req))))),
  );
  router.get(
    `${ITEM}/operationsStatus/:op`,
    h((req) => {
      const op = opIn(req, itemBase(vmOf(req)));
      if (!op) throw new ArmError(404, 'BMSUserErrorOperationNotFound', 'The operation was not found.');
      return statusAnswer(op);
    }),
  );

  // --- backup ----------------------------------------------------------------------------------

  router.post(
    `${ITEM}/backup`,
    h((req) => {
      const item = itemOf(req);
      const body = parseBody(schemas.backupRequest, req);
      if (runningJob(item.vm.name, 'Backup')) throw new ArmError(400, 'UserErrorBackupOperationInProgress', `Backup already in progress on ${item.vm.name}. Wait for it to finish and try again.`);
      const expiry = body.properties.recoveryPointExpiryTimeInUTC;
      if (expiry && Date.parse(expiry) <= state.now()) throw new ArmError(400, 'BMSUserErrorInvalidInput', 'recoveryPointExpiryTimeInUTC must be in the future.');
      const job = state.startBackupJob(item, expiry);
      const op = state.startOperation(itemBase(item.vm), 'backup', { extended: () => ({ objectType: 'OperationStatusJobExtendedInfo', jobId: job.id }) });
      return accepted(req, op);
    }),
  );

  // --- recovery points, restore, item-level recovery -------------------------------------------

  const rpOf = (req: SimRequest): { item: SimProtectedItem; rp: SimRecoveryPoint } => {
    const item = itemOf(req);
    const rp = item.recoveryPoints.find((r) => r.name === req.params.rp);
    if (!rp) throw new ArmError(404, 'BMSUserErrorRecoveryPointNotFound', `Recovery point ${req.params.rp} not found.`);
    return { item, rp };
  };

  /** A request on a recovery point whose body must name that point and the protected VM (`vm.field`). */
  const rpRequest = <S extends z.ZodType<{ properties: { recoveryPointId: string } }>>(
    req: SimRequest,
    schema: S,
    vm: { field: string; code: string; idOf: (properties: z.output<S>['properties']) => string },
  ) => {
    const { item, rp } = rpOf(req);
    const p: z.output<S>['properties'] = parseBody(schema, req).properties;
    if (p.recoveryPointId !== rp.name) throw new ArmError(400, 'BMSUserErrorInvalidInput', 'recoveryPointId does not match the recovery point in the path.');
    if (state.vmByResourceId(vm.idOf(p)) !== item.vm) throw new ArmError(400, vm.code, `${vm.field} does not match the protected item.`);
    return { item, rp, p };
  };

  router.get(
    `${ITEM}/recoveryPoints`,
    h((req) => {
      const item = itemOf(req);
      const points = [...item.recoveryPoints].sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
      return json(200, checked(schemas.recoveryPointList, { value: points.map((rp) => rpView(item, rp)) }));
    }),
  );
  router.get(
    RP,
    h((req) => {
      const { item, rp } = rpOf(req);
      return json(200, checked(schemas.recoveryPointResource, rpView(item, rp)));
    }),
  );

  router.post(
    `${RP}/restore`,
    h((req) => {
      const { item, rp, p } = rpRequest(req, schemas.restoreRequest, { field: 'sourceResourceId', code: 'BMSUserErrorInvalidSourceResourceId', idOf: (q) => q.sourceResourceId });
      const sa = /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Storage\/storageAccounts\/([^/]+)$/i.exec(p.storageAccountId);
      if (!sa || !state.storageAccounts.has(`${sa[1]}/${sa[2]}`)) throw new ArmError(400, 'UserErrorStorageAccountNotFound', `Storage account ${p.storageAccountId} was not found.`);
      if (p.region.toLowerCase() !== o.location) throw new ArmError(400, 'UserErrorCrossRegionRestoreNotSupported', `Restore to region ${p.region} is not supported from a vault in ${o.location}.`);
      let onComplete: () => void;
      const bag: Record<string, string> = { 'Recovery point time ': rp.time, 'Target Storage Account Name': sa[2]!, 'Restore type': p.recoveryType };
      if (p.recoveryType === 'AlternateLocation') {
        const target = p.targetVirtualMachineId ? /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i.exec(p.targetVirtualMachineId) : null;
        if (!target || !p.virtualNetworkId || !p.subnetId)
          throw new ArmError(400, 'BMSUserErrorInvalidInput', 'AlternateLocation restore needs targetVirtualMachineId, virtualNetworkId and subnetId.');
        if (state.vms.has(vmKey(target[1]!, target[2]!))) throw new ArmError(409, 'UserErrorVmNameAlreadyExists', `A VM named ${target[2]} already exists in ${target[1]}.`);
        bag['Target VM Name'] = target[2]!;
        onComplete = () => {
          state.vms.set(vmKey(target[1]!, target[2]!), { name: target[2]!, resourceGroup: target[1]!, osType: item.vm.osType, size: item.vm.size, discovered: false, restoredFrom: rp.name });
        };
      } else if (p.recoveryType === 'RestoreDisks') {
        const rg = p.targetResourceGroupId?.split('/').pop() ?? sa[1]!;
        bag['Target resource group'] = rg;
        onComplete = () => {
          const stamp = state.now();
          for (const disk of ['osdisk', 'datadisk-000']) state.restoredDisks.push({ name: `${item.vm.name}-${disk}-${stamp}`, resourceGroup: rg, fromVm: item.vm.name, recoveryPoint: rp.name });
        };
      } else {
        onComplete = () => undefined;
      }
      if (runningJob(item.vm.name, 'Restore')) throw new ArmError(400, 'UserErrorRestoreOperationInProgress', `A restore is already in progress for ${item.vm.name}.`);
      const job = state.startJob('Restore', item.vm.name, [{ taskId: 'Transfer data', ms: o.restoreTaskMs }], bag, () => onComplete());
      const op = state.startOperation(itemBase(item.vm), 'restore', { extended: () => ({ objectType: 'OperationStatusJobExtendedInfo', jobId: job.id }) });
      return accepted(req, op);
    }),
  );

  router.post(
    `${RP}/provisionInstantItemRecovery`,
    h((req) => {
      const { item, rp, p } = rpRequest(req, schemas.ilrRequest, { field: 'virtualMachineId', code: 'BMSUserErrorInvalidInput', idOf: (q) => q.virtualMachineId });
      if (rp.ilr?.active && !p.renewExistingRegistration) throw new ArmError(409, 'UserErrorIlrSessionAlreadyActive', 'A file recovery session is already active for this recovery point.');
      const secret = rp.ilr?.active ? { password: rp.ilr.password, suffix: rp.ilr.suffix } : state.newIlrSecret(item.vm, rp);
      const op = state.startOperation(itemBase(item.vm), 'provisionIlr', {
        effect: () => {
          rp.ilr = { ...secret, active: true };
        },
        extended: () => ({
          objectType: 'OperationStatusProvisionILRExtendedInfo',
          recoveryTarget: {
            clientScripts: [
              {
                scriptContent: Buffer.from(`#!/usr/bin/env python3\n# Azure VM file recovery for ${item.vm.name}, recovery point ${rp.name}\n# initiator ${p.initiatorName}\n`).toString('base64'),
                scriptExtension: item.vm.osType === 'Windows' ? '.ps1' : '.py',
                osType: item.vm.osType,
                url: `${req.origin}/ilr/${rp.name}`,
                scriptNameSuffix: secret.suffix,
              },
            ],
          },
        }),
      });
      return accepted(req, op);
    }),
  );

  router.post(
    `${RP}/revokeInstantItemRecovery`,
    h((req) => {
      const { item, rp } = rpOf(req);
      const op = state.startOperation(itemBase(item.vm), 'revokeIlr', {
        effect: () => {
          if (rp.ilr) rp.ilr.active = false;
        },
      });
      return accepted(req, op);
    }),
  );

  // --- jobs ------------------------------------------------------------------------------------

  const jobOf = (req: SimRequest): SimJob => {
    const job = state.jobs.get(req.params.job!);
    if (!job) throw new ArmError(404, 'BMSUserErrorJobNotFound', `Job ${req.params.job} was not found.`);
    return job;
  };

  router.get(
    `${V}/backupJobs`,
    h((req) => {
      const f = parseFilter(req.query.get('$filter'));
      const jobs = [...state.jobs.values()].filter((j) => (!f.operation || j.operation === f.operation) && (!f.status || state.jobStatus(j) === f.status)).sort((a, b) => b.startedAt - a.startedAt);
      return json(200, checked(schemas.jobList, { value: jobs.map(jobView) }));
    }),
  );
  router.get(
    `${V}/backupJobs/:job`,
    h((req) => json(200, jobView(jobOf(req)))),
  );
  router.post(
    `${V}/backupJobs/:job/cancel`,
    h((req) => {
      const job = jobOf(req);
      const status = state.jobStatus(job);
      if (status !== 'InProgress' && status !== 'Cancelling') throw new ArmError(400, 'BMSUserErrorJobNotCancellable', `Job ${job.id} is ${status} and cannot be cancelled.`);
      if (job.cancelRequestedAt === undefined) job.cancelRequestedAt = state.now();
      const op = state.startOperation(`${vaultId()}/backupJobs/${job.id}`, 'cancel');
      return accepted(req, op, { statusBase: `${vaultId()}/backupOperations` });
    }),
  );
  router.get(
    `${V}/backupJobs/:job/operationResults/:op`,
    h((req) => operationResult(req, opIn(req, `${vaultId()}/backupJobs/${jobOf(req).id}`))),
  );
  router.get(
    `${V}/backupOperations/:op`,
    h((req) => {
      const op = state.operations.get(req.params.op!);
      if (!op) throw new ArmError(404, 'BMSUserErrorOperationNotFound', 'The operation was not found.');
      return statusAnswer(op);
    }),
  );

  // --- compute (what a restore leaves behind, as an admin would look) --------------------------

  router.get(
    '/:sub/resourceGroups/:vmrg/providers/Microsoft.Compute/virtualMachines/:vm',
    h((req) => {
      const vm = state.vms.get(vmKey(req.params.vmrg!, req.params.vm!));
      if (!vm || req.params.sub !== o.subscriptionId)
        throw new ArmError(404, 'ResourceNotFound', `The Resource 'Microsoft.Compute/virtualMachines/${req.params.vm}' under resource group '${req.params.vmrg}' was not found.`);
      return json(200, {
        id: state.vmId(vm),
        name: vm.name,
        type: 'Microsoft.Compute/virtualMachines',
        location: o.location,
        properties: { hardwareProfile: { vmSize: vm.size }, storageProfile: { osDisk: { osType: vm.osType } } },
      });
    }),
  );
  router.get(
    '/:sub/resourceGroups/:diskrg/providers/Microsoft.Compute/disks',
    h((req) =>
      json(200, {
        value: state.restoredDisks
          .filter((d) => d.resourceGroup.toLowerCase() === req.params.diskrg!.toLowerCase())
          .map((d) => ({
            id: `/subscriptions/${o.subscriptionId}/resourceGroups/${d.resourceGroup}/providers/Microsoft.Compute/disks/${d.name}`,
            name: d.name,
            type: 'Microsoft.Compute/disks',
            location: o.location,
            tags: { RSVaultBackup: d.recoveryPoint, SourceVm: d.fromVm },
          })),
      }),
    ),
  );

  return router;
}
