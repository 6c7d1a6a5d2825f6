/**
 * What every simulator's vendor state shares: its options, the simulated clock it reads time from,
 * the script of vendor-side outcomes a test queued, and a reset back to the demo inventory. The
 * Simulator that serves a state resets it when made, so a state has its inventory from the start.
 */
import { SimClock } from './clock';
import { OutcomeScript } from './script';

export abstract class SimState<Options extends { clock?: SimClock } = { clock?: SimClock }, Outcomes extends object = Record<never, never>> {
  readonly script = new OutcomeScript<Outcomes>();
  readonly clock: SimClock;

  constructor(readonly options: Options) {
    this.clock = options.clock ?? new SimClock();
  }

  /** Simulated now, in epoch milliseconds. */
  now(): number {
    return this.clock.now();
  }

  /** Back to the demo inventory; scripted outcomes not used yet are dropped. */
  reset(): void {
    this.script.clear();
    this.restoreInventory();
  }

  protected abstract restoreInventory(): void;
}
