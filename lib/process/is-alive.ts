/**
 * Whether a process with this id exists on this host. EPERM means it exists but belongs to
 * someone else, which still makes whatever it holds (a lock, a session, a stack) live.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
