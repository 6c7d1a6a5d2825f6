/**
 * One read-modify-write at a time per key, in this worker: a backup's manifest (a verdict appended),
 * a VM's record of removed checkpoints. The copy worker is the only writer of its repository, so
 * this is all the locking those small files need.
 */
const pending = new Map<string, Promise<unknown>>();

/** Runs `work` after the previous work of the same key has settled (failed or not). */
export function serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
  const run = (pending.get(key) ?? Promise.resolve()).then(work, work);
  const settled = run.catch(() => undefined);
  pending.set(key, settled);
  void settled.then(() => {
    if (pending.get(key) === settled) pending.delete(key);
  });
  return run;
}
