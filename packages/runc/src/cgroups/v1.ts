import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InvalidArgumentError, NotImplementedError } from '../errors.js';
import { readMountInfo, type MountInfo } from '../mountinfo.js';
import type { DeviceRule, Resources } from '../spec/types.js';
import { type Cgroup, type CgroupStats, removeCgroupDir, sleep } from './cgroup.js';
import { readKeyValues, readNumber, readPids, readValue, writeValue } from './files.js';

/** A mounted v1 hierarchy: its mount point and the controllers (or name=) it carries. */
export interface HierarchyV1 {
  mountPoint: string;
  controllers: string[];
}

const NOT_CONTROLLERS = new Set(['rw', 'ro', 'xattr', 'noprefix', 'clone_children', 'cpuset_v2_mode', 'favordynmods']);

/** The v1 hierarchies mounted on this host, from mountinfo. */
export function hierarchiesV1(mounts: readonly MountInfo[] = readMountInfo()): HierarchyV1[] {
  const seen = new Set<string>();
  const out: HierarchyV1[] = [];
  for (const m of mounts) {
    if (m.fsType !== 'cgroup') continue;
    const controllers = m.superOptions.split(',').filter((o) => !NOT_CONTROLLERS.has(o) && !o.startsWith('release_agent='));
    const key = controllers.join(',');
    if (seen.has(key)) continue; // the same hierarchy mounted twice
    seen.add(key);
    out.push({ mountPoint: m.mountPoint, controllers });
  }
  return out;
}

const USER_HZ_NS = 1e9 / 100;

export class CgroupV1 implements Cgroup {
  readonly version = 1 as const;
  private readonly dirs: Record<string, string> = {};

  /** `hierarchies` and `unified` (hybrid mode's cgroup2 mount) are found on the host by default. */
  constructor(readonly path: string, hierarchies: HierarchyV1[] = hierarchiesV1(), unified?: string) {
    for (const h of hierarchies) this.dirs[basename(h.mountPoint)] = join(h.mountPoint, path);
    if (unified) this.dirs.unified = join(unified, path);
  }

  directories(): Record<string, string> {
    return { ...this.dirs };
  }

  procsFiles(): string[] {
    return Object.values(this.dirs).map((d) => join(d, 'cgroup.procs'));
  }

  joinFiles(): string[] {
    // The unified hierarchy of hybrid mode is v2: no tasks file there.
    return Object.entries(this.dirs).map(([name, d]) => join(d, name === 'unified' ? 'cgroup.procs' : 'tasks'));
  }

  private dir(controller: string): string | undefined {
    return this.dirs[controller];
  }

  private need(controller: string, what: string): string {
    const d = this.dir(controller);
    if (!d) throw new NotImplementedError(`cgroup: ${what} needs the ${controller} controller, which is not mounted`);
    return d;
  }

  create(resources?: Resources): void {
    for (const [name, dir] of Object.entries(this.dirs)) {
      if (name === 'cpuset') this.makeCpusetDirs(dir);
      else mkdirSync(dir, { recursive: true });
    }
    if (resources) this.apply(resources, true);
  }

  /** A new cpuset cgroup is empty and refuses tasks; copy cpus and mems down from its parent. */
  private makeCpusetDirs(dir: string): void {
    if (existsSync(dir)) return;
    this.makeCpusetDirs(dirname(dir));
    mkdirSync(dir);
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (readValue(dir, file) === '') writeValue(dir, file, readValue(dirname(dir), file));
    }
  }

  update(resources: Resources): void {
    this.apply(resources, false);
  }

  private apply(r: Resources, creating: boolean): void {
    if (r.memory) this.applyMemory(r.memory);
    if (r.cpu) {
      const c = r.cpu;
      if (c.shares) writeValue(this.need('cpu', 'cpu shares'), 'cpu.shares', c.shares);
      if (c.period) writeValue(this.need('cpu', 'cpu period'), 'cpu.cfs_period_us', c.period);
      if (c.quota) writeValue(this.need('cpu', 'cpu quota'), 'cpu.cfs_quota_us', c.quota);
      if (c.realtimePeriod) writeValue(this.need('cpu', 'realtime period'), 'cpu.rt_period_us', c.realtimePeriod);
      if (c.realtimeRuntime) writeValue(this.need('cpu', 'realtime runtime'), 'cpu.rt_runtime_us', c.realtimeRuntime);
      if (c.cpus) writeValue(this.need('cpuset', 'cpuset'), 'cpuset.cpus', c.cpus);
      if (c.mems) writeValue(this.need('cpuset', 'cpuset'), 'cpuset.mems', c.mems);
      if (c.idle) throw new NotImplementedError('cgroup: cpu idle needs cgroup v2');
    }
    if (r.pids) writeValue(this.need('pids', 'pids limit'), 'pids.max', r.pids.limit > 0 ? r.pids.limit : 'max');
    if (r.devices && creating) this.applyDevices(r.devices);
    if (r.devices && !creating && r.devices.length) throw new InvalidArgumentError('cgroup: device rules cannot be changed by update');
    if (r.blockIO?.weight) {
      const d = this.need('blkio', 'block IO weight');
      writeValue(d, existsSync(join(d, 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight', r.blockIO.weight);
    }
    for (const h of r.hugepageLimits ?? []) writeValue(this.need('hugetlb', 'hugepage limits'), `hugetlb.${h.pageSize}.limit_in_bytes`, h.limit);
    if (r.network?.classID) writeValue(this.need('net_cls', 'network class id'), 'net_cls.classid', r.network.classID);
    for (const p of r.network?.priorities ?? []) writeValue(this.need('net_prio', 'network priorities'), 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
    if (r.unified && Object.keys(r.unified).length) throw new NotImplementedError('cgroup: linux.resources.unified needs cgroup v2');
    if (r.rdma && Object.keys(r.rdma).length) throw new NotImplementedError('cgroup: rdma limits are not supported');
  }

  private applyMemory(m: NonNullable<Resources['memory']>): void {
    const d = this.need('memory', 'memory limits');
    const bytes = (n: number) => (n < 0 ? -1 : n);
    if (m.limit !== undefined && m.swap !== undefined) {
      // memsw must stay >= limit at every step: raise memsw first when growing, limit first when shrinking.
      const current = readNumber(d, 'memory.limit_in_bytes');
      const growing = m.limit < 0 || m.limit > current;
      const order: [string, number][] = growing
        ? [['memory.memsw.limit_in_bytes', bytes(m.swap)], ['memory.limit_in_bytes', bytes(m.limit)]]
        : [['memory.limit_in_bytes', bytes(m.limit)], ['memory.memsw.limit_in_bytes', bytes(m.swap)]];
      for (const [file, value] of order) writeValue(d, file, value);
    } else if (m.limit !== undefined) {
      writeValue(d, 'memory.limit_in_bytes', bytes(m.limit));
    } else if (m.swap !== undefined) {
      writeValue(d, 'memory.memsw.limit_in_bytes', bytes(m.swap));
    }
    if (m.reservation !== undefined) writeValue(d, 'memory.soft_limit_in_bytes', bytes(m.reservation));
    if (m.swappiness !== undefined && m.swappiness >= 0 && m.swappiness <= 100) writeValue(d, 'memory.swappiness', m.swappiness);
    if (m.disableOOMKiller) writeValue(d, 'memory.oom_control', 1);
  }

  private applyDevices(rules: readonly DeviceRule[]): void {
    const d = this.need('devices', 'device rules');
    for (const rule of rules) writeValue(d, rule.allow ? 'devices.allow' : 'devices.deny', deviceRuleText(rule));
  }

  pids(): number[] {
    const d = this.dir('pids') ?? this.dir('freezer') ?? Object.values(this.dirs)[0];
    return d ? readPids(join(d, 'cgroup.procs')) : [];
  }

  async freeze(): Promise<void> {
    const d = this.need('freezer', 'pause');
    writeValue(d, 'freezer.state', 'FROZEN');
    for (let i = 0; i < 1000 && readValue(d, 'freezer.state') !== 'FROZEN'; i++) await sleep(2);
    if (readValue(d, 'freezer.state') !== 'FROZEN') {
      writeValue(d, 'freezer.state', 'THAWED');
      throw new InvalidArgumentError('cgroup: the container did not freeze within 2 s');
    }
  }

  thaw(): void {
    writeValue(this.need('freezer', 'resume'), 'freezer.state', 'THAWED');
  }

  isFrozen(): boolean {
    const d = this.dir('freezer');
    try {
      return d ? readValue(d, 'freezer.state') !== 'THAWED' : false;
    } catch {
      return false;
    }
  }

  stats(): CgroupStats {
    const cpuacct = this.dir('cpuacct') ?? '';
    const cpu = this.dir('cpu') ?? '';
    const mem = this.dir('memory') ?? '';
    const pids = this.dir('pids') ?? '';
    const ticks = readKeyValues(cpuacct, 'cpuacct.stat');
    const throttle = readKeyValues(cpu, 'cpu.stat');
    let percpu: number[] = [];
    try {
      percpu = readValue(cpuacct, 'cpuacct.usage_percpu').split(/\s+/).filter(Boolean).map(Number);
    } catch {}
    const raw = readKeyValues(mem, 'memory.stat');
    return {
      cpu: {
        usage: { total: readNumber(cpuacct, 'cpuacct.usage'), kernel: (ticks.system ?? 0) * USER_HZ_NS, user: (ticks.user ?? 0) * USER_HZ_NS, percpu },
        throttling: { periods: throttle.nr_periods ?? 0, throttledPeriods: throttle.nr_throttled ?? 0, throttledTime: throttle.throttled_time ?? 0 },
      },
      memory: {
        usage: { usage: readNumber(mem, 'memory.usage_in_bytes'), max: readNumber(mem, 'memory.max_usage_in_bytes'), limit: readNumber(mem, 'memory.limit_in_bytes'), failcnt: readNumber(mem, 'memory.failcnt') },
        cache: raw.cache ?? 0,
        raw,
      },
      pids: { current: readNumber(pids, 'pids.current'), limit: readNumber(pids, 'pids.max') },
    };
  }

  oomKills(): number {
    const d = this.dir('memory');
    return d ? (readKeyValues(d, 'memory.oom_control').oom_kill ?? 0) : 0;
  }

  async destroy(): Promise<void> {
    for (const dir of Object.values(this.dirs)) await removeCgroupDir(dir, rmdirSync);
  }
}

/** A device rule as devices.allow/deny take it: "c 1:3 rwm", or "a" for all. */
export function deviceRuleText(rule: DeviceRule): string {
  const type = rule.type ?? 'a';
  const num = (n: number | null | undefined) => (n === undefined || n === null || n < 0 ? '*' : String(n));
  if (type === 'a' && (rule.major ?? null) === null && (rule.minor ?? null) === null) return `a *:* ${rule.access ?? 'rwm'}`;
  return `${type} ${num(rule.major)}:${num(rule.minor)} ${rule.access ?? 'rwm'}`;
}
