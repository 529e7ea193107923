// One run at a time on a job folder: a second encode on it stops with a clear error instead of
// racing the first (deleting its temporary files, overwriting job.json). The lock file names the
// holder's host and pid, so a run killed with -9 leaves a lock the next run on that host sees is
// dead and takes over at once. (proper-lockfile's refreshed-mtime locks would make a resume right
// after a kill wait out their stale period; a pid check needs no wait.)

import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { EncodeError } from './job.js';

export const LOCK_FILE = 'job.lock';

interface LockHolder {
  host: string;
  pid: number;
}

/** Locks this process holds: a lock with this process's pid and host that is not one of them is a
 * previous run's (a container restarts with the same pid). */
const heldHere = new Set<string>();

/** How long to wait for another run's takeover of a dead lock before giving up. */
const TAKEOVER_WAIT_MS = 5000;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock's holder; null when the lock went away meanwhile. */
async function readHolder(file: string): Promise<LockHolder | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LockHolder;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new EncodeError(`${file}: not a job lock (${(error as Error).message}); delete it if no encode is running`);
  }
}

/** Creates the lock whole or not at all: written under a name of its own, then linked into place. */
async function tryCreate(file: string, holder: LockHolder): Promise<boolean> {
  const own = `${file}.tmp-${holder.pid}`;
  await writeFile(own, JSON.stringify(holder));
  try {
    await link(own, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(own, { force: true });
  }
}

async function acquire(dir: string): Promise<string> {
  const file = path.join(dir, LOCK_FILE);
  const me: LockHolder = { host: hostname(), pid: process.pid };
  const waitedSince = Date.now();
  for (;;) {
    if (await tryCreate(file, me)) {
      heldHere.add(file);
      return file;
    }
    const holder = await readHolder(file);
    if (holder && !isDead(holder, me, file)) {
      throw new EncodeError(
        `${dir}: another encode (pid ${holder.pid} on ${holder.host}) is running on this folder; wait for it, ` +
          `or delete ${file} if it is not running`,
      );
    }
    if (holder) await takeOver(file, holder, me, waitedSince);
  }
}

function isDead(holder: LockHolder, me: LockHolder, file: string): boolean {
  if (holder.host !== me.host) return false;
  return holder.pid === me.pid ? !heldHere.has(file) : !isRunning(holder.pid);
}

/**
 * Deletes a dead run's lock under a second lock, so two runs that both found it dead cannot both
 * delete and create it (the later delete would remove the earlier run's new lock).
 */
async function takeOver(file: string, dead: LockHolder, me: LockHolder, waitedSince: number): Promise<void> {
  const guard = `${file}.takeover`;
  if (await tryCreate(guard, me)) {
    heldHere.add(guard);
    try {
      const now = await readHolder(file);
      if (now?.host === dead.host && now.pid === dead.pid) await rm(file, { force: true });
    } finally {
      await rm(guard, { force: true });
      heldHere.delete(guard);
    }
    return;
  }
  // Another run is taking it over this moment (or died doing so).
  const other = await readHolder(guard);
  if (other && isDead(other, me, guard)) await rm(guard, { force: true });
  else if (Date.now() - waitedSince > TAKEOVER_WAIT_MS) {
    throw new EncodeError(
      `${guard}: another run has been taking over this folder's lock for too long; delete ${guard}`,
    );
  } else await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Runs `work` holding the job folder's lock. */
export async function withJobLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  await mkdir(dir, { recursive: true });
  const file = await acquire(dir);
  try {
    return await work();
  } finally {
    await rm(file, { force: true });
    heldHere.delete(file);
  }
}
