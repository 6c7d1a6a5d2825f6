/**
 * Azure Backup workflows against the Azure simulator (HTTPS, self-signed, short timings):
 * azureVmBackup (protect if needed → trigger → job → recovery point), azureFileRecovery (ILR
 * provision → session → revoke) and azureProtectVm.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AZURE_DEMO, createAzureSimulator, itemName, type AzureState } from '../../simulators/azure';
import type { Simulator } from '../../simulators/framework/simulator';
import { azureProfile } from '../../test/helpers/azure-harness';
import { AZURE_FILE_RECOVERY_STEPS } from '../../contracts/azure/steps';
import { AZURE_PROTECT_STEPS } from '../../contracts/azure/steps';
import { AZURE_BACKUP_STEPS } from '../../contracts/azure/steps';
import type { CallSite, ChaosTarget } from '../types';
import { CreationCounter } from './count';

const SECRET = 'chaos-azure-client-Secret-0123';
const TIMEOUT_MS = 2_500;
const ITEM = '/:p1/resourceGroups/backup-rg/providers/Microsoft.RecoveryServices/vaults/backup-vault/backupFabrics/Azure/protectionContainers';
/** Container and item names as the client sends them (encodeURIComponent: ";" is %3B). */
const itemPath = (vm: string) => {
  const enc = (s: string) => encodeURIComponent(s);
  return `${ITEM}/${enc(`IaasVMContainer;iaasvmcontainerv2;${AZURE_DEMO.vmResourceGroup};${vm}`)}/protectedItems/${enc(`VM;iaasvmcontainerv2;${AZURE_DEMO.vmResourceGroup};${vm}`)}`;
};

interface AzureSetup {
  simulator: Simulator;
  state: AzureState;
  fileRecoveryDir: string;
  created: CreationCounter;
  worker: ChaosTarget['worker'];
  reset(): Promise<void>;
  stop(): Promise<void>;
  /** Jobs still running (InProgress or Cancelling): a job the run started must have ended. */
  runningJobs(): string[];
}

async function setup(endpoint: string): Promise<AzureSetup> {
  const tmp = await mkdtemp(join(tmpdir(), 'chaos-azure-'));
  const { simulator, state, certFile } = createAzureSimulator({
    tlsDir: join(tmp, 'tls'),
    clientSecret: SECRET,
    asyncMs: 300,
    retryAfterSeconds: 0,
    backupTaskMs: [600, 900],
    restoreTaskMs: 900,
    cancelMs: 400,
  });
  await simulator.start(0);
  const fileRecoveryDir = join(tmp, 'file-recovery');
  const created = new CreationCounter();
  // Real creations at the vendor: a backup job per VM, an ILR session (a fresh script password: a
  // renewal of an open session keeps its password) per recovery point. Protection is a PUT of one
  // named resource: it cannot exist twice; whether a failed run left it is a leftover check.
  let other = 0;
  created.watch(state, 'startJob', (operation: string, entity: string) => (operation === 'Backup' ? `Backup job of VM ${entity}` : `${operation} job #${++other}`));
  created.watch(state, 'newIlrSecret', (vm: { name: string }, rp: { name: string }) => `ILR session of VM ${vm.name} at recovery point ${rp.name}`);
  return {
    simulator,
    state,
    fileRecoveryDir,
    created,
    worker: {
      // The harness's profile (secret from TEST_AZURE_CLIENT_SECRET), with the short client timeout.
      endpoints: { [endpoint]: { ...azureProfile(simulator, state, certFile, fileRecoveryDir), timeoutMs: TIMEOUT_MS } },
      secrets: { TEST_AZURE_CLIENT_SECRET: SECRET },
    },
    async reset() {
      simulator.faults.clear();
      simulator.calls.clear();
      state.reset();
      // Every case starts with the worker's cached bearer token expired: each run logs in, so faults on the token endpoint fire.
      expireTokens(state);
      created.reset();
      await rm(fileRecoveryDir, { recursive: true, force: true });
    },
    async stop() {
      await simulator.stop();
      await rm(tmp, { recursive: true, force: true });
    },
    runningJobs() {
      state.tick();
      return [...state.jobs.values()].filter((j) => ['InProgress', 'Cancelling'].includes(state.jobStatus(j))).map((j) => `${j.operation} job ${j.id} of VM ${j.entity} still ${state.jobStatus(j)}`);
    },
  };
}

/** Protection of web-01 (unprotected in the demo) is this run's doing: a failed run must have removed it. */
function protectionLeft(s: AzureSetup, completed: boolean): string[] {
  const vm = s.state.vms.get(`${AZURE_DEMO.vmResourceGroup}/${AZURE_DEMO.unprotectedVm}`)!;
  const item = s.state.protectedItems.get(itemName(vm));
  return !completed && item ? [`protection of ${vm.name} (${item.recoveryPoints.length} recovery point(s)) enabled by a failed run`] : [];
}

/** azureVmBackup of web-01 with protectIfNeeded: the run enables protection, backs up, finds the point. */
export async function azureBackupTarget(): Promise<ChaosTarget> {
  const s = await setup('azure-chaos-backup');
  return {
    workflow: 'azureVmBackup',
    simulator: s.simulator,
    clientTimeoutMs: TIMEOUT_MS,
    worker: s.worker,
    input: () => ({ endpoint: 'azure-chaos-backup', vmName: AZURE_DEMO.unprotectedVm, protectIfNeeded: true, pollIntervalMs: 100, jobTimeoutMinutes: 5 }),
    steps: AZURE_BACKUP_STEPS,
    longSteps: { job: 600 },
    creates: [
      { method: 'PUT', path: itemPath(AZURE_DEMO.unprotectedVm) },
      { method: 'POST', path: `${itemPath(AZURE_DEMO.unprotectedVm)}/backup` },
    ] satisfies CallSite[],
    expireSessions: () => expireTokens(s.state),
    async leftovers(run) {
      // A completed run keeps its protection and its recovery point (the product); a failed one neither.
      return [...s.runningJobs(), ...protectionLeft(s, run.completed)];
    },
    duplicates: async () => s.created.duplicates(),
    reset: () => s.reset(),
    stop: () => s.stop(),
  };
}

/** azureProtectVm of web-01: a failed run must not leave the VM protected. */
export async function azureProtectTarget(): Promise<ChaosTarget> {
  const s = await setup('azure-chaos-protect');
  return {
    workflow: 'azureProtectVm',
    simulator: s.simulator,
    clientTimeoutMs: TIMEOUT_MS,
    worker: s.worker,
    input: () => ({ endpoint: 'azure-chaos-protect', vmName: AZURE_DEMO.unprotectedVm, pollIntervalMs: 100 }),
    steps: AZURE_PROTECT_STEPS,
    creates: [{ method: 'PUT', path: itemPath(AZURE_DEMO.unprotectedVm) }],
    expireSessions: () => expireTokens(s.state),
    leftovers: async (run) => [...s.runningJobs(), ...protectionLeft(s, run.completed)],
    duplicates: async () => s.created.duplicates(),
    reset: () => s.reset(),
    stop: () => s.stop(),
  };
}

/**
 * azureFileRecovery on db-01's recovery point with a 1 s time limit (nobody signals "done"): every
 * run, completed or failed, must end with the ILR connection revoked and the worker-side script and
 * password deleted.
 */
export async function azureFileRecoveryTarget(): Promise<ChaosTarget> {
  const s = await setup('azure-chaos-file-recovery');
  return {
    workflow: 'azureFileRecovery',
    simulator: s.simulator,
    clientTimeoutMs: TIMEOUT_MS,
    worker: s.worker,
    input: () => ({ endpoint: 'azure-chaos-file-recovery', vmName: AZURE_DEMO.protectedVm, timeLimitSeconds: 1, pollIntervalMs: 100 }),
    steps: AZURE_FILE_RECOVERY_STEPS,
    longSteps: { session: 300 },
    creates: [{ method: 'POST', path: `${itemPath(AZURE_DEMO.protectedVm)}/recoveryPoints/:p2/provisionInstantItemRecovery` }],
    expireSessions: () => expireTokens(s.state),
    async leftovers() {
      const sessions = s.state.activeIlrSessions().map((x) => `ILR connection open on VM ${x.vm} at recovery point ${x.recoveryPoint}`);
      const stored = existsSync(s.fileRecoveryDir) ? await readdir(s.fileRecoveryDir) : [];
      const credentials = stored.map((ref) => `ILR script and password still stored on the worker (${ref})`);
      return [...sessions, ...credentials, ...s.runningJobs()];
    },
    duplicates: async () => s.created.duplicates(),
    reset: () => s.reset(),
    stop: () => s.stop(),
  };
}

/** Every bearer token the simulator issued stops working: the next ARM call must fetch a new one. */
function expireTokens(state: AzureState): void {
  for (const token of state.tokens.keys()) state.tokens.set(token, Date.now() - 1);
}
