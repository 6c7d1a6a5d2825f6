/**
 * The simulated time every simulator's state reads. By default it is wall time; a test or a demo
 * can run it faster (`speedup`), freeze it and move it by hand (`speedup: 0` with `advance`), and
 * give one clock to several simulators so that their vendors age together.
 */
export interface SimClockOptions {
  /** Simulated milliseconds per wall-clock millisecond; 0 freezes the clock. Default 1. */
  speedup?: number;
  /** Simulated time at the moment the clock is made; default the wall time then. */
  startAt?: number;
}

export class SimClock {
  readonly speedup: number;
  private readonly wallStart = Date.now();
  private readonly simStart: number;
  private offset = 0;

  constructor(options: SimClockOptions = {}) {
    this.speedup = options.speedup ?? 1;
    this.simStart = options.startAt ?? this.wallStart;
  }

  now(): number {
    return this.simStart + (Date.now() - this.wallStart) * this.speedup + this.offset;
  }

  /** Moves simulated time forward (a frozen clock moves only so). */
  advance(ms: number): void {
    this.offset += ms;
  }
}
