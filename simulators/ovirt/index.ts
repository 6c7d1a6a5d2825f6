/**
 * The oVirt/RHV engine simulator: REST API under /ovirt-engine/api (v4, and v3 by header or path),
 * SSO token endpoint, snapshots with real frozen disk bytes, and snapshot-disk attachment that shows
 * up as device files for the backup proxy VM.
 */
import { Simulator } from '../framework/simulator';
import { createAuth } from './auth';
import { createApiRouter } from './routes';
import { OvirtState } from './state';
import { API_BASE, faultResponse } from './xml-views';

export { OVIRT_DEMO, OvirtState, OvirtFault } from './state';
export type { Attachment, Disk, DiskInterface, Job, SnapshotInfo, Vm } from './state';
export { SSO_TOKEN_PATH, SSO_LOGOUT_PATH } from './auth';

export interface OvirtSimulatorOptions {
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
}

export const OVIRT_DEFAULTS = {
  username: 'admin@internal',
  password: 'ovirt-sim-password',
  tokenTtlSeconds: 3600,
  snapshotCreateMs: 1500,
  snapshotDeleteMs: 500,
  osDiskSize: 8 * 1024 * 1024,
  dataDiskSize: 4 * 1024 * 1024,
} as const;

/** Builds the simulator and its state (writing the demo disks); the caller starts it with `simulator.start(port)`. */
export async function createOvirtSimulator(options: OvirtSimulatorOptions): Promise<{ simulator: Simulator; state: OvirtState }> {
  const state = new OvirtState({
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
  });
  await state.init();
  const auth = createAuth(state.tokens, {
    username: options.username ?? OVIRT_DEFAULTS.username,
    password: options.password ?? OVIRT_DEFAULTS.password,
  });
  const simulator = new Simulator({
    name: 'ovirt',
    apiPrefix: API_BASE,
    router: createApiRouter(state, auth),
    renderError: (status, message, detail) => faultResponse(status, message, detail),
    authenticate: auth.authenticate,
    publicRouter: auth.ssoRouter,
    onReset: () => state.reset(),
  });
  return { simulator, state };
}
