// A machine-wide lock for leak-checked tests (see leaks.ts): a directory created atomically,
// holding the owner's pid so a lock left by a killed runner is taken over.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const LOCK_DIR = process.env.BERTH_TEST_LOCK ?? '/run/berth-test.lock';
let depth = 0;

function ownerAlive(): boolean {
  try {
    const pid = Number(readFileSync(`${LOCK_DIR}/pid`, 'utf8'));
    if (!pid) return true; // being written; give the owner a moment
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits (up to `timeoutMs`) for the lock; re-entrant within one process. */
export async function acquireLock(timeoutMs = 15 * 60_000): Promise<void> {
  if (depth > 0) {
    depth++;
    return;
  }
  const deadline = Date.now() + timeoutMs;
  let staleSince = 0;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(`${LOCK_DIR}/pid`, String(process.pid));
      depth = 1;
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (!ownerAlive()) {
      // Dead owner (or a pid file never written): take over after it stays so for a moment.
      staleSince ||= Date.now();
      if (Date.now() - staleSince > 500) rmSync(LOCK_DIR, { recursive: true, force: true });
    } else {
      staleSince = 0;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for the test lock ${LOCK_DIR}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function releaseLock(): void {
  if (depth === 0) return;
  if (--depth === 0) rmSync(LOCK_DIR, { recursive: true, force: true });
}
