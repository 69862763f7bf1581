import type { Cgroup } from '../cgroups/index.js';
import { sleep } from '../cgroups/cgroup.js';
import type { ContainerRecord } from './state-store.js';
import { initAlive } from './status.js';

/** Waits until the init is gone and its cgroup empty; false if that takes longer than `ms`. */
export async function waitForExit(record: ContainerRecord, cgroup: Cgroup, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!initAlive(record) && cgroup.pids().length === 0) return true;
    await sleep(5);
  }
  return false;
}

export function signalAll(cgroup: Cgroup, signal: number): void {
  for (const pid of cgroup.pids()) {
    try {
      process.kill(pid, signal);
    } catch {
      // exited meanwhile
    }
  }
}
