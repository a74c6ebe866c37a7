/**
 * Whether a process with this pid exists on this host. Signal 0 checks for existence only; EPERM
 * means it exists but belongs to someone else. A reused pid reads as alive: callers only ever wait
 * longer on its account (a lock is not taken over, a journal segment is recovered later).
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
