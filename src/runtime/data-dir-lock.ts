import { linkSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isProcessAlive } from '../process-alive.js';

/** A second process on the same data dir would open the same LevelDB and journal: it must not start. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
  constructor(readonly dataDir: string, readonly pid: number) {
    super(`the data dir ${dataDir} is in use by aybiza process ${pid}; set AYBIZA_DATA_DIR for a second instance`);
  }
}

export interface DataDirLock {
  /** Removes the lock file if it is still this process's; safe to call twice. */
  release(): void;
}

const LOCK_FILE = 'aybiza.pid';

/**
 * Takes `<dataDir>/aybiza.pid` for this process. The file is created by a hard link from a private
 * temporary file, which fails when it exists, so two processes starting at once cannot both win.
 * A lock naming a process that no longer exists (killed, crashed) is stale and taken over. The lock
 * is held until `release` or the process exits, draining included.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  const mine = `${path}.${process.pid}`;
  writeFileSync(mine, `${process.pid}\n`);
  try {
    // Two tries: the second one after removing a stale lock.
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(mine, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = lockHolder(path);
      // On the second try the lock is a fresh one: another process took the stale lock first.
      if (holder !== undefined && (attempt > 0 || isProcessAlive(holder))) throw new DataDirInUseError(dataDir, holder);
      rmSync(path, { force: true });
    }
  } finally {
    unlinkSync(mine);
  }

  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    if (lockHolder(path) === process.pid) rmSync(path, { force: true });
  };
  // A forced exit (second signal, a crash of the tree) skips the orderly release.
  process.on('exit', release);
  return { release };
}

function lockHolder(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts `tree` holding the data dir's lock from before its start until it has exited; a failed start releases it. */
export async function startHoldingDataDir(dataDir: string, tree: { start(): Promise<void>; exited: Promise<unknown> }): Promise<void> {
  const lock = lockDataDir(dataDir);
  void tree.exited.then(() => lock.release());
  try {
    await tree.start();
  } catch (error) {
    lock.release();
    throw error;
  }
}
