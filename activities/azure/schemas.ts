/**
 * zod schemas for the Azure Backup (Microsoft.RecoveryServices) REST bodies this project sends and
 * receives, written from Microsoft's REST reference (see docs/azure.md and vendor-apis.md §3). The
 * client checks every response with them and builds every request through them; the simulator
 * checks every request it accepts and every body it returns with the same schemas.
 *
 * Response schemas are tolerant of extra fields (ARM adds fields over api-versions); the fields we
 * rely on are required.
 */
import { z } from 'zod';

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO-8601 date-time');

// --- errors and auth -----------------------------------------------------------------------------

/** ARM error body: `{"error":{"code","message","target","details","additionalInfo"}}`. */
export const armErrorDetail: z.ZodType<{ code: string; message: string; target?: string; details?: unknown[] }> = z.object({
  code: z.string(),
  message: z.string(),
  target: z.string().optional(),
  details: z.array(z.unknown()).optional(),
  additionalInfo: z.array(z.unknown()).optional(),
});
export const armErrorBody = z.object({ error: armErrorDetail });

/** Microsoft identity platform, client-credentials grant: form body. */
export const tokenRequest = z.object({
  grant_type: z.literal('client_credentials'),
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  scope: z.string().min(1),
});
export const tokenResponse = z.object({
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'expected "Bearer"'),
  expires_in: z.coerce.number().int().positive(),
  ext_expires_in: z.coerce.number().int().optional(),
  access_token: z.string().min(1),
});
export const tokenErrorBody = z.object({
  error: z.string(),
  error_description: z.string().optional(),
  error_codes: z.array(z.number()).optional(),
});

// --- ARM resources -------------------------------------------------------------------------------

const resource = <P extends z.ZodType>(properties: P) =>
  z.object({
    id: z.string().min(1),
    name: z.string().min(1),
    type: z.string().min(1),
    location: z.string().optional(),
    tags: z.record(z.string(), z.string()).optional(),
    eTag: z.string().optional(),
    properties,
  });
const list = <R extends z.ZodType>(item: R) => z.object({ value: z.array(item), nextLink: z.url().optional() });

export const backupManagementType = z.string();

export const policyResource = resource(
  z.object({
    backupManagementType: z.string(),
    protectedItemsCount: z.number().int().optional(),
    instantRpRetentionRangeInDays: z.number().int().optional(),
    policyType: z.string().optional(),
    schedulePolicy: z.record(z.string(), z.unknown()).optional(),
    retentionPolicy: z.record(z.string(), z.unknown()).optional(),
    timeZone: z.string().optional(),
  }),
);
export const policyList = list(policyResource);
export type AzurePolicy = z.infer<typeof policyResource>;

export const protectableItemResource = resource(
  z.object({
    protectableItemType: z.string(),
    backupManagementType: z.string(),
    workloadType: z.string(),
    friendlyName: z.string(),
    virtualMachineId: z.string(),
    protectionState: z.enum(['Invalid', 'NotProtected', 'Protecting', 'Protected', 'ProtectionFailed']),
  }),
);
export const protectableItemList = list(protectableItemResource);
export type AzureProtectableItem = z.infer<typeof protectableItemResource>;

export const protectionStates = ['Invalid', 'IRPending', 'Protected', 'ProtectionError', 'ProtectionStopped', 'ProtectionPaused', 'BackupsSuspended'] as const;

export const protectedItemResource = resource(
  z.object({
    protectedItemType: z.string(),
    backupManagementType: z.string().optional(),
    workloadType: z.string().optional(),
    containerName: z.string().optional(),
    friendlyName: z.string().optional(),
    virtualMachineId: z.string().optional(),
    sourceResourceId: z.string(),
    policyId: z.string().optional(),
    protectionStatus: z.string().optional(),
    protectionState: z.enum(protectionStates),
    healthStatus: z.string().optional(),
    lastBackupStatus: z.string().optional(),
    lastBackupTime: isoDate.optional(),
    lastRecoveryPoint: isoDate.optional(),
  }),
);
export const protectedItemList = list(protectedItemResource);
export type AzureProtectedItem = z.infer<typeof protectedItemResource>;

export const recoveryPointResource = resource(
  z.object({
    objectType: z.literal('IaasVMRecoveryPoint'),
    recoveryPointType: z.string(),
    recoveryPointTime: isoDate,
    recoveryPointAdditionalInfo: z.string().optional(),
    sourceVMStorageType: z.string().optional(),
    isSourceVMEncrypted: z.boolean().optional(),
    isInstantIlrSessionActive: z.boolean(),
    osType: z.string().optional(),
    isManagedVirtualMachine: z.boolean().optional(),
    virtualMachineSize: z.string().optional(),
    originalStorageAccountOption: z.boolean().optional(),
  }),
);
export const recoveryPointList = list(recoveryPointResource);
export type AzureRecoveryPoint = z.infer<typeof recoveryPointResource>;

export const jobStatuses = ['Invalid', 'InProgress', 'Completed', 'Failed', 'CompletedWithWarnings', 'Cancelled', 'Cancelling'] as const;
export const terminalJobStatuses: readonly string[] = ['Completed', 'CompletedWithWarnings', 'Failed', 'Cancelled'];

export const jobTask = z.object({
  taskId: z.string(),
  startTime: isoDate.optional(),
  endTime: isoDate.optional(),
  duration: z.string().optional(),
  status: z.string(),
  progressPercentage: z.number().optional(),
  taskExecutionDetails: z.string().optional(),
  instanceId: z.string().optional(),
});
export const jobErrorDetail = z.object({
  errorCode: z.number().int().optional(),
  errorTitle: z.string().optional(),
  errorString: z.string().optional(),
  recommendations: z.array(z.string()).optional(),
});
export const jobResource = resource(
  z.object({
    jobType: z.literal('AzureIaaSVMJob'),
    entityFriendlyName: z.string(),
    backupManagementType: z.string().optional(),
    operation: z.string(),
    status: z.enum(jobStatuses),
    startTime: isoDate,
    endTime: isoDate.optional(),
    activityId: z.string().optional(),
    duration: z.string().optional(),
    actionsInfo: z.array(z.enum(['Invalid', 'Cancellable', 'Retriable'])).optional(),
    errorDetails: z.array(jobErrorDetail).optional(),
    virtualMachineVersion: z.string().optional(),
    extendedInfo: z
      .object({
        tasksList: z.array(jobTask).optional(),
        propertyBag: z.record(z.string(), z.string()).optional(),
        internalPropertyBag: z.record(z.string(), z.string()).optional(),
        progressPercentage: z.number().optional(),
        estimatedRemainingDuration: z.string().optional(),
        dynamicErrorMessage: z.string().optional(),
      })
      .optional(),
  }),
);
export const jobList = list(jobResource);
export type AzureJob = z.infer<typeof jobResource>;

// --- async operations ----------------------------------------------------------------------------

export const clientScript = z.object({
  scriptContent: z.string().optional(),
  scriptExtension: z.string().optional(),
  osType: z.string().optional(),
  url: z.string().optional(),
  scriptNameSuffix: z.string().optional(),
});
export const ilrExtendedInfo = z.object({
  objectType: z.literal('OperationStatusProvisionILRExtendedInfo'),
  recoveryTarget: z.object({ clientScripts: z.array(clientScript).min(1) }),
});
export const jobExtendedInfo = z.object({ objectType: z.literal('OperationStatusJobExtendedInfo'), jobId: z.string().min(1) });
export const jobsExtendedInfo = z.object({ objectType: z.literal('OperationStatusJobsExtendedInfo'), jobIds: z.array(z.string()).optional() });

export const operationStatus = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['Invalid', 'InProgress', 'Succeeded', 'Failed', 'Canceled']),
  startTime: isoDate.optional(),
  endTime: isoDate.optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  properties: z.union([jobExtendedInfo, ilrExtendedInfo, jobsExtendedInfo]).optional(),
});
export type AzureOperationStatus = z.infer<typeof operationStatus>;

// --- requests ------------------------------------------------------------------------------------

export const protectedItemRequest = z.object({
  properties: z.object({
    protectedItemType: z.literal('Microsoft.Compute/virtualMachines'),
    sourceResourceId: z.string().min(1),
    policyId: z.string().min(1),
  }),
});
export const backupRequest = z.object({
  properties: z.object({
    objectType: z.literal('IaasVMBackupRequest'),
    recoveryPointExpiryTimeInUTC: isoDate.optional(),
  }),
});
export const restoreRequest = z.object({
  properties: z.object({
    objectType: z.literal('IaasVMRestoreRequest'),
    recoveryPointId: z.string().min(1),
    recoveryType: z.enum(['RestoreDisks', 'AlternateLocation', 'OriginalLocation']),
    sourceResourceId: z.string().min(1),
    storageAccountId: z.string().min(1),
    region: z.string().min(1),
    originalStorageAccountOption: z.boolean().optional(),
    createNewCloudService: z.boolean().optional(),
    targetVirtualMachineId: z.string().optional(),
    targetResourceGroupId: z.string().optional(),
    virtualNetworkId: z.string().optional(),
    subnetId: z.string().optional(),
    targetDomainNameId: z.string().optional(),
    affinityGroup: z.string().optional(),
    encryptionDetails: z.object({ encryptionEnabled: z.boolean() }).optional(),
  }),
});
export const ilrRequest = z.object({
  properties: z.object({
    objectType: z.literal('IaasVMILRRegistrationRequest'),
    recoveryPointId: z.string().min(1),
    virtualMachineId: z.string().min(1),
    initiatorName: z.string().min(1),
    renewExistingRegistration: z.boolean().optional(),
  }),
});
export type RestoreRequest = z.infer<typeof restoreRequest>;
