/**
 * Vendor-side outcomes a test scripts ahead ("the next Backup job fails with this error"). Each
 * simulator names its kinds and what an outcome of each carries; when the vendor would decide how
 * something ends, the simulator takes the oldest queued outcome of that kind that fits, and
 * without one it behaves as configured.
 */
export class OutcomeScript<Outcomes extends object> {
  private queue: Array<{ kind: keyof Outcomes; outcome: unknown }> = [];

  /** The next <kind> that fits ends with this outcome. */
  next<K extends keyof Outcomes>(kind: K, outcome: Outcomes[K]): this {
    this.queue.push({ kind, outcome });
    return this;
  }

  /** Removes and returns the oldest queued outcome of this kind that `fits`. */
  take<K extends keyof Outcomes>(kind: K, fits: (outcome: Outcomes[K]) => boolean = () => true): Outcomes[K] | undefined {
    const index = this.queue.findIndex((entry) => entry.kind === kind && fits(entry.outcome as Outcomes[K]));
    return index < 0 ? undefined : (this.queue.splice(index, 1)[0]!.outcome as Outcomes[K]);
  }

  /** Outcomes still queued (a test can check that its script was used up). */
  pending(): number {
    return this.queue.length;
  }

  clear(): void {
    this.queue = [];
  }
}
