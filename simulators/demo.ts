/** What each vendor simulator offers `npm start`: how to start it and the profiles that reach it. */
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
  start(options: { dataDir: string; port: number; host: string }): Promise<StartedDemo>;
}
