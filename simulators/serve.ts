/**
 * Starts every vendor simulator with its demo inventory, on fixed ports for the demo (each movable
 * by its env variable) or on free ports, on one shared clock, and returns the endpoint profiles
 * that point at them.
 */
import type { SimulatorDemo, StartedDemo } from './demo';
import { SimClock } from './framework/clock';
import type { Simulator } from './framework/simulator';
import { ovirtDemo } from './ovirt/demo';
import { altaroDemo } from './altaro/demo';
import { onappDemo } from './onapp/demo';
import { manageiqDemo } from './manageiq/demo';
import { azureDemo } from './azure/demo';

/** One entry per vendor simulator. */
export const simulatorDemos: SimulatorDemo[] = [ovirtDemo, altaroDemo, onappDemo, azureDemo, manageiqDemo];

export interface RunningSimulators {
  simulators: Simulator[];
  endpoints: Record<string, unknown>;
  /** Values of the env vars the profiles name: the simulators' demo credentials. */
  secrets: Record<string, string>;
  extra: Record<string, string>;
  stop(): Promise<void>;
}

export const SIMULATOR_PASSWORDS: Record<string, string> = Object.assign({}, ...simulatorDemos.map((d) => d.secrets));

export async function startSimulators(options: { dataDir: string; env?: NodeJS.ProcessEnv; freePorts?: boolean; host?: string; clock?: SimClock }): Promise<RunningSimulators> {
  const env = options.env ?? process.env;
  const clock = options.clock ?? new SimClock();
  const started: StartedDemo[] = [];
  for (const demo of simulatorDemos) {
    const port = options.freePorts ? 0 : Number(env[demo.portEnv] ?? demo.defaultPort);
    started.push(await demo.start({ dataDir: options.dataDir, port, host: options.host ?? '127.0.0.1', clock }));
  }
  return {
    simulators: started.map((s) => s.simulator),
    endpoints: Object.assign({}, ...started.map((s) => s.endpoints)),
    secrets: { ...SIMULATOR_PASSWORDS },
    extra: Object.assign({}, ...started.map((s) => s.extra ?? {})),
    async stop() {
      await Promise.all(started.map((s) => s.simulator.stop()));
    },
  };
}
