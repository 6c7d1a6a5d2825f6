/**
 * One valid body per vendor call, written from the vendors' documented shapes (vendor-apis.md):
 * the starting point the fuzz cases mutate. Each is checked to parse before it is fuzzed.
 */

// --- oVirt (XML, as lib/xml reads and writes it) -------------------------------------------------

const vm = (id: string, name: string) => ({ '@_id': id, name, status: 'up' });
const disk = (id: string) => ({
  '@_id': id,
  name: `${id}-name`,
  alias: `${id}-alias`,
  provisioned_size: '10737418240',
  actual_size: '1048576',
  format: 'cow',
  shareable: 'false',
  storage_type: 'image',
  status: 'ok',
});
const attachment = (id: string, diskId: string) => ({ '@_id': id, active: 'true', bootable: 'false', interface: 'virtio_scsi', logical_name: '/dev/sdb', disk: { '@_id': diskId } });
const snapshot = (id: string) => ({
  '@_id': id,
  description: 'nightly [backup-orchestrator run-1]',
  snapshot_status: 'ok',
  snapshot_type: 'regular',
  date: '2024-08-13T01:53:14.000+02:00',
  persist_memorystate: 'false',
  initialization: { configuration: { type: 'ovf', data: 'OVF-DOCUMENT' } },
});

export const ovirt = {
  vm: { vm: vm('vm-1', 'web-01') },
  vms: { vms: { vm: [vm('vm-1', 'web-01'), vm('vm-2', 'web-02')] } },
  disk: { disk: disk('d1') },
  disks: { disks: { disk: [disk('d1'), disk('d2')] } },
  snapshot: { snapshot: snapshot('s1') },
  snapshots: { snapshots: { snapshot: [snapshot('s1'), { ...snapshot('s2'), snapshot_status: 'locked' }] } },
  attachment: { disk_attachment: attachment('a1', 'd1') },
  attachments: { disk_attachments: { disk_attachment: [attachment('a1', 'd1'), attachment('a2', 'd2')] } },
  fault: { fault: { reason: 'Operation Failed', detail: '[Cannot create Snapshot. Snapshot is currently being created for VM web-01.]' } },
  ssoToken: { access_token: 'fuzz-bearer-token-91c2', token_type: 'bearer', scope: 'ovirt-app-api', exp: '1893456000000' },
  ssoError: { error: 'access_denied', error_description: 'Cannot authenticate user' },
  names: [
    'vm',
    'vms',
    'name',
    'status',
    'disk',
    'disks',
    'snapshot',
    'snapshots',
    'snapshot_status',
    'disk_attachment',
    'disk_attachments',
    'active',
    'fault',
    'reason',
    'detail',
    'provisioned_size',
    'shareable',
    'initialization',
    'configuration',
    'data',
  ],
};

// --- Altaro (JSON envelope) ----------------------------------------------------------------------

const ok = { Success: true, ErrorCode: 0, ErrorMessage: null, ErrorAdditionalDetails: null };
export const altaro = {
  session: { ...ok, Data: 'fuzz-SESSION-token-7f3a' },
  end: { ...ok, ClosedSessions: [{ SessionToken: 'fuzz-SESSION-token-7f3a' }] },
  vms: {
    ...ok,
    VirtualMachines: [
      {
        AltaroVirtualMachineRef: 'ref-1',
        VirtualMachineName: 'web-01',
        HostName: 'hv-01',
        HypervisorVirtualMachineUuid: '6f2a0d3e-0000-4000-8000-000000000001',
        Configured: true,
        NextBackupTime: '2024-08-14-01-00-00',
        LastBackupTime: '2024-08-13-01-53-14',
        LastBackupDuration: 42,
        LastBackupResult: 'success',
      },
    ],
  },
  instruction: { ...ok, Data: '0f6c2a3e-1b7d-4c55-9a10-000000000001' },
  statuses: { ...ok, Statuses: [{ OperationGuid: '0f6c2a3e-1b7d-4c55-9a10-000000000001', Status: 'Processing', Percentage: 40, SubOperation: 'Transferring', JobId: 12, Operation: 'Backup' }] },
  backupReports: { ...ok, BackupReports: [{ DateTime: '2024-08-13-01-53-14', Duration: 42, Result: 'Success', Location: 'D:\\Backups', Error: null }] },
  restoreReports: {
    ...ok,
    RestoreReports: [{ DateTime: '2024-08-13-01-53-14', Duration: 42, Result: 'Aborted', Location: 'D:\\Backups', Error: 'aborted by user', RestoreAsName: 'web-01-restored' }],
  },
  failure: { Success: false, ErrorCode: 1001, ErrorMessage: 'The virtual machine was not found', ErrorAdditionalDetails: { VmRef: 'ref-1' } },
};

// --- Azure (ARM JSON) ----------------------------------------------------------------------------

export function azure(base: string, vaultPath: string) {
  const policy = {
    id: `${vaultPath}/backupPolicies/DefaultPolicy`,
    name: 'DefaultPolicy',
    type: 'Microsoft.RecoveryServices/vaults/backupPolicies',
    properties: { backupManagementType: 'AzureIaasVM', protectedItemsCount: 1, instantRpRetentionRangeInDays: 2, policyType: 'V2', schedulePolicy: { scheduleRunFrequency: 'Daily' }, timeZone: 'UTC' },
  };
  const vmId = '/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/db-01';
  const protectable = {
    id: `${vaultPath}/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;rg;db-01/protectableItems/vm;iaasvmcontainerv2;rg;db-01`,
    name: 'iaasvmcontainerv2;rg;db-01',
    type: 'Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectableItems',
    properties: {
      protectableItemType: 'Microsoft.Compute/virtualMachines',
      backupManagementType: 'AzureIaasVM',
      workloadType: 'VM',
      friendlyName: 'db-01',
      virtualMachineId: vmId,
      protectionState: 'NotProtected',
    },
  };
  const protectedItem = {
    id: `${vaultPath}/backupFabrics/Azure/protectionContainers/c/protectedItems/i`,
    name: 'VM;iaasvmcontainerv2;rg;db-01',
    type: 'Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems',
    properties: {
      protectedItemType: 'Microsoft.Compute/virtualMachines',
      backupManagementType: 'AzureIaasVM',
      friendlyName: 'db-01',
      sourceResourceId: vmId,
      policyId: policy.id,
      protectionState: 'Protected',
      healthStatus: 'Passed',
      lastBackupStatus: 'Completed',
      lastBackupTime: '2024-08-13T01:53:14Z',
    },
  };
  const recoveryPoint = {
    id: `${protectedItem.id}/recoveryPoints/123456`,
    name: '123456',
    type: 'Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/recoveryPoints',
    properties: {
      objectType: 'IaasVMRecoveryPoint',
      recoveryPointType: 'AppConsistent',
      recoveryPointTime: '2024-08-13T01:53:14Z',
      isInstantIlrSessionActive: false,
      osType: 'Linux',
      isManagedVirtualMachine: true,
    },
  };
  const job = {
    id: `${vaultPath}/backupJobs/job-1`,
    name: 'job-1',
    type: 'Microsoft.RecoveryServices/vaults/backupJobs',
    properties: {
      jobType: 'AzureIaaSVMJob',
      entityFriendlyName: 'db-01',
      backupManagementType: 'AzureIaasVM',
      operation: 'Backup',
      status: 'InProgress',
      startTime: '2024-08-13T01:53:14Z',
      duration: 'PT9.87S',
      actionsInfo: ['Cancellable'],
      errorDetails: [{ errorCode: 400, errorTitle: 'title', errorString: 'detail', recommendations: ['retry'] }],
      extendedInfo: { tasksList: [{ taskId: 'Take Snapshot', status: 'InProgress', progressPercentage: 10 }], progressPercentage: 10, estimatedRemainingDuration: 'PT5M' },
    },
  };
  const opSucceeded = {
    id: 'op-1',
    name: 'op-1',
    status: 'Succeeded',
    startTime: '2024-08-13T01:53:14Z',
    endTime: '2024-08-13T01:54:14Z',
    properties: { objectType: 'OperationStatusJobExtendedInfo', jobId: 'job-1' },
  };
  const list = <T>(item: T, nextPath: string) => ({ value: [item, item], nextLink: `${base}${nextPath}?$skiptoken=2` });
  return {
    token: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: 'fuzz-bearer-token-91c2' },
    tokenError: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.', error_codes: [7000215] },
    policy,
    policies: list(policy, `${vaultPath}/backupPolicies`),
    protectables: list(protectable, `${vaultPath}/backupProtectableItems`),
    protectedItem,
    protectedItems: list(protectedItem, `${vaultPath}/backupProtectedItems`),
    recoveryPoint,
    recoveryPoints: { value: [recoveryPoint] },
    job,
    jobs: list(job, `${vaultPath}/backupJobs`),
    opSucceeded,
    opIlr: {
      ...opSucceeded,
      properties: {
        objectType: 'OperationStatusProvisionILRExtendedInfo',
        recoveryTarget: { clientScripts: [{ scriptContent: 'c2NyaXB0', scriptExtension: '.py', osType: 'Linux', url: 'https://example.invalid/s', scriptNameSuffix: 'db-01_abc' }] },
      },
    },
    armError: { error: { code: 'UserErrorBmsInvalidResource', message: 'The resource is not valid.', target: 'properties', details: [], additionalInfo: [] } },
  };
}

// --- OnApp (JSON and typed XML) ------------------------------------------------------------------

const when = '2024-08-13T01:53:14.000+00:00';
const jsonBackup = {
  id: 1,
  identifier: 'xk2qzbtd5vjl8n',
  backup_type: 'incremental',
  target_type: 'VirtualMachine',
  target_id: 7,
  built: true,
  built_at: when,
  locked: false,
  initiated: 'manual',
  backup_size: 1024,
  backup_server_id: null,
  created_at: when,
  updated_at: when,
  allowed_hot_migrate: false,
  data_store_type: 'lvm',
  min_disk_size: 5,
  min_memory_size: 512,
  note: '[backup-orchestrator run-1] nightly',
  operating_system: 'linux',
  template_id: 3,
  user_id: 1,
};
const xi = (n: number) => ({ '@_type': 'integer', '#text': String(n) });
const xb = (b: boolean) => ({ '@_type': 'boolean', '#text': String(b) });
const xd = (d: string) => ({ '@_type': 'datetime', '#text': d });
const xnil = { '@_nil': 'true' };
const xmlBackup = {
  id: xi(1),
  identifier: 'xk2qzbtd5vjl8n',
  backup_type: 'incremental',
  target_type: 'VirtualMachine',
  target_id: xi(7),
  built: xb(true),
  built_at: xd(when),
  locked: xb(false),
  initiated: 'manual',
  backup_size: xi(1024),
  backup_server_id: xnil,
  created_at: xd(when),
  updated_at: xd(when),
  allowed_hot_migrate: xb(false),
  data_store_type: 'lvm',
  min_disk_size: xi(5),
  note: '[backup-orchestrator run-1] nightly',
  template_id: xi(3),
  user_id: xi(1),
};
export const onapp = {
  json: {
    vm: { virtual_machine: { id: 7, identifier: 'vs7abc', label: 'web-01', hostname: 'web-01.example', locked: false, booted: true } },
    disks: [{ disk: { id: 11, label: 'root', disk_size: 20, primary: true, is_swap: false } }, { disk: { id: 12, label: 'swap', disk_size: 1, primary: false, is_swap: true } }],
    backup: { backup: jsonBackup },
    backups: [{ backup: jsonBackup }, { backup: { ...jsonBackup, id: 2, built: false, built_at: null, locked: true } }],
    errors: { errors: { base: ['Backup is locked'], note: ['is too long'] } },
  },
  xml: {
    vm: { virtual_machine: { id: xi(7), identifier: 'vs7abc', label: 'web-01', hostname: 'web-01.example', locked: xb(false), booted: xb(true) } },
    disks: {
      disks: {
        '@_type': 'array',
        disk: [
          { id: xi(11), label: 'root', disk_size: xi(20), primary: xb(true), is_swap: xb(false) },
          { id: xi(12), label: xnil, disk_size: xi(1), primary: xb(false) },
        ],
      },
    },
    backup: { backup: xmlBackup },
    backups: { backups: { '@_type': 'array', backup: [xmlBackup, { ...xmlBackup, id: xi(2), built: xb(false), built_at: xnil }] } },
    errors: { errors: { error: ['Backup is locked', 'Note is too long'] } },
  },
  names: ['virtual_machine', 'disks', 'disk', 'backups', 'backup', 'id', 'identifier', 'label', 'built', 'built_at', 'locked', 'errors', 'error', 'target_type', 'backup_type', 'created_at'],
};

// --- ManageIQ (JSON) -----------------------------------------------------------------------------

export function manageiq(api: string) {
  const snap = (id: string) => ({
    id,
    href: `${api}/vms/42/snapshots/${id}`,
    name: `bo-${id}`,
    description: 'backup-orchestrator snapshot',
    create_time: '2024-08-13T01:53:14Z',
    vm_or_template_id: '42',
    uid: `uid-${id}`,
    parent_id: null,
    current: 1,
    total_size: 1024,
  });
  const page = (next: boolean) => ({
    name: 'snapshots',
    count: 10,
    subcount: 4,
    subquery_count: 4,
    pages: 2,
    resources: [snap('1'), snap('2'), { href: `${api}/vms/42/snapshots/3` }],
    links: {
      self: `${api}/vms/42/snapshots?offset=0`,
      first: `${api}/vms/42/snapshots?offset=0`,
      last: `${api}/vms/42/snapshots?offset=2`,
      ...(next ? { next: `${api}/vms/42/snapshots?offset=2` } : {}),
    },
    actions: [{ name: 'create', method: 'post', href: `${api}/vms/42/snapshots` }],
  });
  const result = { success: true, message: "Creating snapshot bo-1 for Virtual Machine id:42 name:'web-01'", task_id: '7', task_href: `${api}/tasks/7` };
  return {
    auth: { auth_token: 'fuzz-bearer-token-91c2', token_ttl: 600, expires_on: '2024-08-13T02:03:14Z' },
    entry: {
      name: 'API',
      description: 'REST API',
      version: '4.0.0',
      versions: [{ name: '4.0.0', href: `${api}/v4.0.0` }],
      identity: { userid: 'admin' },
      collections: [{ name: 'vms', href: `${api}/vms`, description: 'Virtual Machines' }],
    },
    resource: { id: '42', href: `${api}/vms/42`, name: 'web-01', type: 'ManageIQ::Providers::Redhat::InfraManager::Vm' },
    snapshot: snap('1'),
    page: page(true),
    lastPage: page(false),
    results: { results: [result] },
    bulk: { results: [result, { ...result, success: false, message: 'snapshot 2 not found' }] },
    single: result,
    task: { id: '7', href: `${api}/tasks/7`, name: 'Delete snapshot', state: 'Finished', status: 'Ok', message: 'Task completed successfully', pct_complete: 100, updated_on: '2024-08-13T01:54:14Z' },
    error: { error: { kind: 'not_found', message: "Couldn't find Vm with 'id'=42", klass: 'ActiveRecord::RecordNotFound' } },
  };
}
