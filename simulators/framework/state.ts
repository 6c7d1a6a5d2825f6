/**
 * What every simulator's vendor state shares: the simulated clock it reads time from, the script of
 * vendor-side outcomes a test queued, and a reset back to the demo inventory.
 */
import { SimClock } from './clock';
import { OutcomeScript } from './script';

export abstract class SimState<Outcomes extends object = Record<never, never>> {
  readonly script = new OutcomeScript<Outcomes>();

  constructor(readonly clock: SimClock = new SimClock()) {}

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
