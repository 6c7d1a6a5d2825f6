/**
 * Polls `probe` every 100 ms until `ok` holds, and returns that value. A probe that throws counts
 * as "not yet" (a query sent before the workflow registered its handler, a simulator mid-restart).
 * At the deadline it throws with the last answer, so a wait that never came true fails the test
 * where it waited, instead of letting it go on as if it had.
 */
export async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: string = 'no answer yet';
  for (;;) {
    try {
      const value = await probe();
      if (ok(value)) return value;
      last = JSON.stringify(value) ?? String(value);
    } catch (err) {
      last = `the probe threw: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (Date.now() > deadline) throw new Error(`condition not reached in ${timeoutMs} ms; last: ${last.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
