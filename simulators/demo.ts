/**
 * The one shape of a vendor simulator as `npm start`, the compose demo and the bench run it: how it
 * is built, the demo port (movable by `<NAME>_SIM_PORT`), the demo credential, and the endpoint
 * profile `<name>-sim` that points at it.
 */
import { SimClock } from './framework/clock';
import type { Simulator } from './framework/simulator';

export interface StartedDemo {
  simulator: Simulator;
  /** Endpoint profiles for the worker config; secrets by env var name only. */
  endpoints: Record<string, unknown>;
  /** Anything else the stack needs to know (the oVirt device folder, say). */
  extra?: Record<string, string>;
}

export interface SimulatorDemo {
  name: string;
  defaultPort: number;
  /** Environment variable that moves the port. */
  portEnv: string;
  /** Demo credentials: env var name → value, given to the workers only. */
  secrets: Record<string, string>;
  /** `clock` is shared by every simulator of a stack (a demo can run them all faster). */
  start(options: { dataDir: string; port: number; host: string; clock?: SimClock }): Promise<StartedDemo>;
}

interface DemoContext {
  dataDir: string;
  clock: SimClock;
  /** The demo credential's value. */
  secret: string;
}

export interface DemoSpec<Built extends { simulator: Simulator }> {
  name: string;
  defaultPort: number;
  /** The demo credential: the env var the profile names, and its value. */
  secret: [envVar: string, value: string];
  build(context: DemoContext): Built | Promise<Built>;
  /** The profile's url, auth (with `secretRef` where the credential goes) and vendor-specific fields. */
  profile(built: Built, secretRef: { env: string }, context: DemoContext): Record<string, unknown>;
  /** The profile's description, for people picking an endpoint. */
  description: string;
  extra?(context: DemoContext): Record<string, string>;
}

export function defineDemo<Built extends { simulator: Simulator }>(spec: DemoSpec<Built>): SimulatorDemo {
  const [envVar, value] = spec.secret;
  return {
    name: spec.name,
    defaultPort: spec.defaultPort,
    portEnv: `${spec.name.toUpperCase()}_SIM_PORT`,
    secrets: { [envVar]: value },
    async start({ dataDir, port, host, clock = new SimClock() }) {
      const context: DemoContext = { dataDir, clock, secret: value };
      const built = await spec.build(context);
      await built.simulator.start(port, host);
      return {
        simulator: built.simulator,
        endpoints: { [`${spec.name}-sim`]: { vendor: spec.name, description: spec.description, ...spec.profile(built, { env: envVar }, context) } },
        extra: spec.extra?.(context),
      };
    },
  };
}
