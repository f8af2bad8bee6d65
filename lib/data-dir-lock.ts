import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CodedError } from './errors.ts';

export const LOCK_FILE = 'server.lock';

/**
 * Who holds a data directory: the server while it runs, or a CLI command while it writes.
 * A pid alone is not enough: after a crash and a reboot the pid may belong to another
 * process, and a server refusing to start over a stale lock is worse than no lock. So the
 * lock also records the boot and the process's start time (Linux /proc), and a holder is
 * live only when all three still match.
 */
const Lock = z.object({
  pid: z.number().int().positive(),
  holder: z.string(),
  /** The server's API, once it listens: where a CLI should send its writes instead. */
  url: z.string().optional(),
  bootId: z.string().optional(),
  procStart: z.string().optional(),
  since: z.string(),
});
export type DataDirLock = z.infer<typeof Lock>;

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};
const bootId = (): string | undefined => read('/proc/sys/kernel/random/boot_id');
/** Field 22 of /proc/PID/stat: start time in clock ticks since boot (after the parenthesised name). */
const procStart = (pid: number): string | undefined => read(`/proc/${pid}/stat`)?.split(') ').at(-1)?.split(' ')[19];

function isAlive(lock: DataDirLock): boolean {
  try {
    process.kill(lock.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false; // ESRCH: gone
  }
  if (lock.bootId !== undefined && bootId() !== undefined && lock.bootId !== bootId()) return false;
  if (lock.procStart !== undefined) {
    const now = procStart(lock.pid);
    if (now !== undefined && now !== lock.procStart) return false; // the pid was reused
  }
  return true;
}

/** The live holder of `dataDir`, if any (a stale or unreadable lock file counts as none). */
export function readDataDirLock(dataDir: string): DataDirLock | undefined {
  const text = read(join(dataDir, LOCK_FILE));
  if (text === undefined) return undefined;
  let parsed: DataDirLock;
  try {
    parsed = Lock.parse(JSON.parse(text));
  } catch {
    return undefined;
  }
  return isAlive(parsed) ? parsed : undefined;
}

/** "pid 123 (server, http://127.0.0.1:3000) since ..." for messages. */
export const describeLock = (lock: DataDirLock): string =>
  `pid ${lock.pid} (${lock.holder}${lock.url ? `, ${lock.url}` : ''}) since ${lock.since}`;

/**
 * Take `dataDir` for this process, or throw a CodedError `data_dir_held` naming the live
 * holder. A lock this process already holds (an app restarted in the same process) or a
 * stale one is taken over. `release` removes the file only while it is still ours.
 */
export function acquireDataDirLock(dataDir: string, holder: string) {
  const path = join(dataDir, LOCK_FILE);
  const current = readDataDirLock(dataDir);
  if (current && current.pid !== process.pid) {
    throw new CodedError('data_dir_held', `data directory ${dataDir} is in use by ${describeLock(current)}`);
  }
  let lock: DataDirLock = { pid: process.pid, holder, bootId: bootId(), procStart: procStart(process.pid), since: new Date().toISOString() };
  const write = (flag = 'w') => writeFileSync(path, `${JSON.stringify(lock)}\n`, { mode: 0o644, flag });
  if (current) write();
  else {
    // Replacing a stale lock is unlink-then-create: two processes doing it at once could
    // each remove the other's fresh lock. One takeover at a time, and the lock read again
    // under it, makes "of two starting at once, one wins" hold.
    withTakeoverGuard(path, () => {
      const winner = readDataDirLock(dataDir);
      if (winner && winner.pid !== process.pid) throw new CodedError('data_dir_held', `data directory ${dataDir} is in use by ${describeLock(winner)}`);
      try {
        unlinkSync(path); // stale
      } catch {
        // none there
      }
      write('wx');
    });
  }
  return {
    /** Record where the holder can be reached (the server's API URL). */
    setUrl(url: string): void {
      lock = { ...lock, url };
      write();
    },
    release(): void {
      const still = read(path);
      if (still === undefined) return;
      try {
        if (Lock.parse(JSON.parse(still)).pid === process.pid) unlinkSync(path);
      } catch {
        // someone else's or unreadable: leave it
      }
    },
  };
}

/** A takeover left behind by a process that died in it is older than this, and removed. */
const TAKEOVER_STALE_MS = 10_000;

function withTakeoverGuard(path: string, fn: () => void): void {
  const guard = `${path}.takeover`;
  try {
    if (Date.now() - statSync(guard).mtimeMs > TAKEOVER_STALE_MS) unlinkSync(guard);
  } catch {
    // no guard there
  }
  let fd: number;
  try {
    fd = openSync(guard, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    throw new CodedError('data_dir_held', `another process is taking over the data directory lock ${path} right now`);
  }
  try {
    fn();
  } finally {
    closeSync(fd);
    try {
      unlinkSync(guard);
    } catch {
      // already gone
    }
  }
}
