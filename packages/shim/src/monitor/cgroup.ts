import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';

/**
 * Where a process's cgroups are, from /proc/PID/cgroup: the memory controller's directory (v1)
 * or the unified one (v2). Read once at create, while the init lives, so it works for any
 * runtime and still names the cgroup after the init is gone (until the runtime deletes it).
 */
export interface CgroupDirs {
  memory?: string;
  cpuacct?: string;
  pids?: string;
  /** cgroup v2 (pure): every file is here. */
  unified?: string;
}

export function cgroupDirsOf(pid: number): CgroupDirs {
  const dirs: CgroupDirs = {};
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return dirs;
  }
  let unifiedPath: string | undefined;
  for (const line of text.split('\n')) {
    const [, controllers = '', path = ''] = line.split(':');
    if (!line) continue;
    if (controllers === '') unifiedPath = path;
    for (const c of controllers.split(',')) {
      // A v1 hierarchy is mounted at /sys/fs/cgroup/<its controllers, comma-joined>.
      if (c === 'memory') dirs.memory = join(ROOT, controllers, path);
      if (c === 'cpuacct') dirs.cpuacct = join(ROOT, controllers, path);
      if (c === 'pids') dirs.pids = join(ROOT, controllers, path);
    }
  }
  if (!dirs.memory && unifiedPath !== undefined) dirs.unified = join(ROOT, unifiedPath);
  return dirs;
}

function keyValues(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [k, v] = line.split(' ');
      if (k && v !== undefined) out[k] = Number(v);
    }
  } catch {
    // gone
  }
  return out;
}

function num(file: string): number {
  try {
    const t = readFileSync(file, 'utf8').trim();
    return t === 'max' ? 0 : Number(t) || 0;
  } catch {
    return 0;
  }
}

/** The kernel's count of OOM kills in the cgroup (v1 memory.oom_control, v2 memory.events). */
export function oomKillCount(dirs: CgroupDirs): number {
  if (dirs.memory) return keyValues(join(dirs.memory, 'memory.oom_control')).oom_kill ?? 0;
  if (dirs.unified) return keyValues(join(dirs.unified, 'memory.events')).oom_kill ?? 0;
  return 0;
}

export interface BasicStats {
  cpuUsageNs: number;
  memoryUsage: number;
  memoryLimit: number;
  pidsCurrent: number;
  pidsLimit: number;
  raw: Record<string, unknown>;
}

/** Stats read straight from the cgroup files, for runtimes driven by their CLI. */
export function readStats(dirs: CgroupDirs): BasicStats {
  if (dirs.unified) {
    const u = dirs.unified;
    const cpu = keyValues(join(u, 'cpu.stat'));
    const s = { cpuUsageNs: (cpu.usage_usec ?? 0) * 1000, memoryUsage: num(join(u, 'memory.current')), memoryLimit: num(join(u, 'memory.max')), pidsCurrent: num(join(u, 'pids.current')), pidsLimit: num(join(u, 'pids.max')) };
    return { ...s, raw: { ...s, memoryStat: keyValues(join(u, 'memory.stat')) } };
  }
  const s = {
    cpuUsageNs: dirs.cpuacct ? num(join(dirs.cpuacct, 'cpuacct.usage')) : 0,
    memoryUsage: dirs.memory ? num(join(dirs.memory, 'memory.usage_in_bytes')) : 0,
    memoryLimit: dirs.memory ? num(join(dirs.memory, 'memory.limit_in_bytes')) : 0,
    pidsCurrent: dirs.pids ? num(join(dirs.pids, 'pids.current')) : 0,
    pidsLimit: dirs.pids ? num(join(dirs.pids, 'pids.max')) : 0,
  };
  return { ...s, raw: { ...s, memoryStat: dirs.memory ? keyValues(join(dirs.memory, 'memory.stat')) : {} } };
}
