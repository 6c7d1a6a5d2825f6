/**
 * Starts every vendor simulator with its demo inventory, on fixed ports for the demo or on free
 * ports for tests, and returns the endpoint profiles that point at them.
 */
import { join } from 'node:path';
import type { Simulator } from './framework/simulator';
import { createOvirtSimulator } from './ovirt';

export interface RunningSimulators {
  simulators: Simulator[];
  /** Endpoint profiles for the worker config (secrets by env var name). */
  endpoints: Record<string, unknown>;
  /** Values of those env vars: the simulators' demo credentials. */
  secrets: Record<string, string>;
  /** Where the oVirt simulator puts the proxy VM's devices. */
  ovirtDeviceByIdDir: string;
  stop(): Promise<void>;
}

export const SIMULATOR_PASSWORDS = { OVIRT_SIM_PASSWORD: 'ovirt-sim-password' };

export async function startSimulators(options: { dataDir: string; ovirtPort?: number; host?: string }): Promise<RunningSimulators> {
  const host = options.host ?? '127.0.0.1';
  const deviceRoot = join(options.dataDir, 'ovirt-devices');
  const ovirt = await createOvirtSimulator({
    dataDir: join(options.dataDir, 'ovirt-disks'),
    deviceRoot,
    password: SIMULATOR_PASSWORDS.OVIRT_SIM_PASSWORD,
  });
  await ovirt.simulator.start(options.ovirtPort ?? 0, host);
  const simulators = [ovirt.simulator];
  return {
    simulators,
    endpoints: {
      'ovirt-sim': {
        vendor: 'ovirt',
        url: ovirt.simulator.apiUrl,
        apiVersion: 'v4',
        description: 'local oVirt simulator (npm start)',
        auth: { type: 'sso', username: 'admin@internal', password: { env: 'OVIRT_SIM_PASSWORD' } },
      },
    },
    secrets: { ...SIMULATOR_PASSWORDS },
    ovirtDeviceByIdDir: join(deviceRoot, 'by-id'),
    async stop() {
      await Promise.all(simulators.map((s) => s.stop()));
    },
  };
}
