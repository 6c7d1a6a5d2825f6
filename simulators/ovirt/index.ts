/**
 * The oVirt/RHV engine simulator: a 4.5 engine (v4 under /ovirt-engine/api, SSO token endpoint) or
 * a 3.6 one (v3 on /api and /ovirt-engine/api, Basic auth), snapshots with real frozen disk bytes,
 * and snapshot-disk attachment that shows up as device files for the backup proxy VM.
 */
import type { SimClock } from '../framework/clock';
import { Simulator } from '../framework/simulator';
import { createAuth } from './auth';
import { ENGINE_PROFILES, type EngineVersion } from './engine-profiles';
import { createApiRouter } from './routes';
import { OvirtState } from './state';
import { faultResponse } from './xml-views';
import { createImageioSimulator, imageioCertDir } from './imageio';
import type { BackupTimings } from './backups';

export { OVIRT_DEMO, OvirtState, OvirtFault } from './state';
export { BITMAP_GRANULARITY, type BackupOutcomes, type BackupPhase, type TransferPhase } from './backups';
export type { Attachment, Cluster, Disk, DiskInterface, Job, RemovedDisk, SnapshotInfo, StorageDomain, Vm, VmStatus } from './state';
export { ENGINE_PROFILES, ENGINE_VERSIONS, type EngineProfile, type EngineVersion } from './engine-profiles';
export { SSO_TOKEN_PATH, SSO_LOGOUT_PATH } from './auth';

export interface OvirtSimulatorOptions {
  /** The engine release it plays (API versions, paths, SSO, product_info); default '4.5'. */
  engineVersion?: EngineVersion;
  /** Where disk images and snapshot images live (created if missing). */
  dataDir: string;
  /** Where attached disks appear as device files for the proxy VM. */
  deviceRoot: string;
  /** Default 'admin@internal'. */
  username?: string;
  /** Default 'ovirt-sim-password'. */
  password?: string;
  /** Default 3600. */
  tokenTtlSeconds?: number;
  /** Time a new snapshot stays 'locked' before 'ok'; default 1500. */
  snapshotCreateMs?: number;
  /** Time a deleted snapshot stays 'locked' before it disappears; default 500. */
  snapshotDeleteMs?: number;
  /** Bytes of the demo VM's two eligible disks; defaults 8 MiB and 4 MiB. */
  diskSizes?: { os?: number; data?: number };
  /** Additional plain VMs (one 1 MiB disk each) named vm-001..; default 0. */
  extraVms?: number;
  /** Free space of the demo data domain (OVIRT_DEMO.storageDomainName); default 500 GiB. */
  storageDomainFreeBytes?: number;
  /** Time a disk made by POST /disks stays 'locked' before 'ok'; default 1000. */
  diskCreateMs?: number;
  /** Time a VM made by POST /vms stays 'image_locked' before 'down'; default 1000. */
  vmCreateMs?: number;
  /** Time a started VM takes to be 'up'; default 2000. */
  vmBootMs?: number;
  /** The backup API's timed phases; defaults in OVIRT_DEFAULTS.backupTimings. */
  backupTimings?: Partial<BackupTimings>;
  clock?: SimClock;
}

export const OVIRT_DEFAULTS = {
  username: 'admin@internal',
  password: 'ovirt-sim-password',
  tokenTtlSeconds: 3600,
  snapshotCreateMs: 1500,
  snapshotDeleteMs: 500,
  osDiskSize: 8 * 1024 * 1024,
  dataDiskSize: 4 * 1024 * 1024,
  storageDomainFreeBytes: 500 * 1024 * 1024 * 1024,
  diskCreateMs: 1000,
  vmCreateMs: 1000,
  vmBootMs: 2000,
  backupTimings: { backupStartMs: 1000, backupFinalizeMs: 1000, transferStartMs: 500, transferFinalizeMs: 500 },
} as const;

/** Builds the simulator, its state (writing the demo disks) and its imageio server; the caller starts it with `simulator.start(port)`. */
export async function createOvirtSimulator(options: OvirtSimulatorOptions): Promise<{ simulator: Simulator; state: OvirtState; imageio: Simulator; imageioCaFile: string }> {
  const engine = ENGINE_PROFILES[options.engineVersion ?? '4.5'];
  const state = new OvirtState({
    engine,
    dataDir: options.dataDir,
    deviceRoot: options.deviceRoot,
    tokenTtlSeconds: options.tokenTtlSeconds ?? OVIRT_DEFAULTS.tokenTtlSeconds,
    snapshotCreateMs: options.snapshotCreateMs ?? OVIRT_DEFAULTS.snapshotCreateMs,
    snapshotDeleteMs: options.snapshotDeleteMs ?? OVIRT_DEFAULTS.snapshotDeleteMs,
    diskSizes: {
      os: options.diskSizes?.os ?? OVIRT_DEFAULTS.osDiskSize,
      data: options.diskSizes?.data ?? OVIRT_DEFAULTS.dataDiskSize,
    },
    extraVms: options.extraVms ?? 0,
    storageDomainFreeBytes: options.storageDomainFreeBytes ?? OVIRT_DEFAULTS.storageDomainFreeBytes,
    diskCreateMs: options.diskCreateMs ?? OVIRT_DEFAULTS.diskCreateMs,
    vmCreateMs: options.vmCreateMs ?? OVIRT_DEFAULTS.vmCreateMs,
    vmBootMs: options.vmBootMs ?? OVIRT_DEFAULTS.vmBootMs,
    backupTimings: { ...OVIRT_DEFAULTS.backupTimings, ...options.backupTimings },
    clock: options.clock,
  });
  // The host's imageio daemon, on a port of its own beside the engine: started and stopped with it.
  const { imageio, caFile: imageioCaFile } = createImageioSimulator(state, imageioCertDir(options.dataDir));
  state.imageio = imageio;
  const auth = createAuth(state.tokens, {
    username: options.username ?? OVIRT_DEFAULTS.username,
    password: options.password ?? OVIRT_DEFAULTS.password,
  });
  const simulator = new Simulator({
    name: 'ovirt',
    apiPrefix: engine.apiPrefixes[0],
    alsoServedAt: engine.apiPrefixes.slice(1),
    router: createApiRouter(state, auth),
    renderError: (status, message, detail) => faultResponse(status, message, detail),
    authenticate: auth.authenticate,
    publicRouter: engine.sso ? auth.ssoRouter : undefined,
    state,
    companions: [imageio],
  });
  await state.init();
  /** imageioCaFile: the PEM the copy worker trusts for the transfer URLs (IMAGEIO_CA_FILE). */
  return { simulator, state, imageio, imageioCaFile };
}
