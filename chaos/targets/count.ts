/** Counts what a simulator's state really created (calls of a state method that did not throw), by key. */
export class CreationCounter {
  private counts = new Map<string, number>();

  /** Wraps `obj[method]` (sync or async); `key` names the object created, e.g. "snapshot of vm X". */
  watch<T extends object>(obj: T, method: keyof T & string, key: (...args: any[]) => string): void {
    const original = (obj[method] as unknown as (...args: unknown[]) => unknown).bind(obj);
    const bump = (k: string) => this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    (obj as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const result = original(...args);
      if (result instanceof Promise) return result.then((value) => (bump(key(...args)), value));
      bump(key(...args));
      return result;
    };
  }

  /** Keys created more than once since the last reset, as "key ×n". */
  duplicates(): string[] {
    return [...this.counts].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`);
  }

  reset(): void {
    this.counts.clear();
  }
}
