/**
 * The part of a run id that vendor object names carry. Run ids are UUIDv7: their head is the start
 * time, so runs started within a minute share their first 8 characters; the last 12 hex digits are
 * random, and tell runs apart.
 */
export function runIdTail(runId: string): string {
  return runId.replace(/-/g, '').slice(-12);
}

/** Whether a name's run fragment (the tail; the first 8 characters in names made before the tail) is this run's. */
export function runIdMatches(runId: string, fragment: string): boolean {
  return fragment.length === 12 ? runIdTail(runId) === fragment : runId.startsWith(fragment);
}
