// One set of fixture hosts exists per machine (fixed names, bridge and addresses), and `up` removes
// whatever set is there. Test processes that could run at the same time (two checkouts, two
// developers) therefore take this lock for as long as they use the hosts; the others wait.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LOCK_DIR = '/run/lock/duet-e2e-fixtures';
const OWNER_FILE = join(LOCK_DIR, 'pid');
const WAIT_MS = 20 * 60_000;
const POLL_MS = 500;

function ownerAlive(): boolean {
  try {
    const pid = Number(readFileSync(OWNER_FILE, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but is not ours to signal; still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits (bounded) until this process holds the lock; a lock whose owner died is taken over. */
export async function acquireHostLock(): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(OWNER_FILE, String(process.pid));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // The owner may be between mkdir and writing its pid: only a lock old enough to have a pid
    // file, and whose pid is gone, is stale.
    let stale = false;
    try {
      stale = !ownerAlive() && readFileSync(OWNER_FILE, 'utf8') !== '';
    } catch {
      stale = false;
    }
    if (stale) rmSync(LOCK_DIR, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`fixture hosts are still locked by another test run after ${WAIT_MS / 60_000} min (${LOCK_DIR})`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export function releaseHostLock(): void {
  try {
    if (Number(readFileSync(OWNER_FILE, 'utf8')) === process.pid) rmSync(LOCK_DIR, { recursive: true, force: true });
  } catch {
    // not held
  }
}
