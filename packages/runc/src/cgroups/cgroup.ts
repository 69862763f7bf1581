import type { Resources } from '../spec/types.js';

/** What one container's cgroup reports for `events --stats` and the shim's metrics. */
export interface CgroupStats {
  cpu: { usage: { total: number; kernel: number; user: number; percpu?: number[] }; throttling: { periods: number; throttledPeriods: number; throttledTime: number } };
  memory: { usage: { usage: number; max: number; limit: number; failcnt: number }; cache: number; raw: Record<string, number> };
  pids: { current: number; limit: number };
}

/**
 * One container's cgroup, whichever hierarchy holds it. The runtime creates it before the
 * container's init starts (the helper joins through `joinFiles()`), and removes it after the init dies.
 */
export interface Cgroup {
  readonly version: 1 | 2;
  /** The container's path inside the hierarchy, e.g. /berth/abc. */
  readonly path: string;
  /** Absolute cgroup.procs files: the processes in the cgroup. */
  procsFiles(): string[];
  /**
   * The files a single-threaded process writes to in order to join: v1's `tasks` (the caller
   * writes "0", which the kernel moves without cgroup.procs' global lock), v2's cgroup.procs.
   */
  joinFiles(): string[];
  /** Absolute directories of the cgroup, one per v1 hierarchy or one for v2, keyed by name. */
  directories(): Record<string, string>;
  create(resources?: Resources): void;
  update(resources: Resources): void;
  pids(): number[];
  freeze(): Promise<void>;
  thaw(): void;
  isFrozen(): boolean;
  stats(): CgroupStats;
  /** OOM kills counted by the kernel so far (v1: oom_control's oom_kill, v2: memory.events). */
  oomKills(): number;
  destroy(): Promise<void>;
}

/** Waits `ms` milliseconds: used while the kernel finishes freezing or emptying a cgroup. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** rmdir that retries while the kernel still counts exiting tasks (EBUSY). */
export async function removeCgroupDir(dir: string, rmdir: (d: string) => void): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 100) throw err;
      await sleep(10);
    }
  }
}
