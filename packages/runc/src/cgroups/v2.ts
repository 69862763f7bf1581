import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { InvalidArgumentError, NotImplementedError } from '../errors.js';
import type { DeviceRule, Resources } from '../spec/types.js';
import { type Cgroup, type CgroupStats, removeCgroupDir, sleep } from './cgroup.js';
import { readKeyValues, readNumber, readPids, readValue, writeValue } from './files.js';

/** cpu.shares (2..262144) to cpu.weight (1..10000), the conversion the kernel docs and runc use. */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight (10..1000) to io.weight (1..10000). */
export function blkioToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** Whether device rules only allow everything: all that cgroup v2 can do without eBPF. */
function allowsEverything(rules: readonly DeviceRule[]): boolean {
  return rules.every((r) => r.allow) && rules.some((r) => (r.type ?? 'a') === 'a' && r.major == null && r.minor == null && (r.access ?? 'rwm') === 'rwm');
}

/**
 * A container's cgroup in the unified (v2) hierarchy mounted at `mountPoint`. Written against
 * the kernel's cgroup-v2 documentation; tested on a fake hierarchy since this machine is v1.
 */
export class CgroupV2 implements Cgroup {
  readonly version = 2 as const;
  private readonly dir: string;

  constructor(readonly path: string, private readonly mountPoint = '/sys/fs/cgroup') {
    this.dir = join(mountPoint, path);
  }

  directories(): Record<string, string> {
    return { unified: this.dir };
  }

  procsFiles(): string[] {
    return [join(this.dir, 'cgroup.procs')];
  }

  joinFiles(): string[] {
    return this.procsFiles();
  }

  create(resources?: Resources): void {
    mkdirSync(this.dir, { recursive: true });
    this.enableControllers();
    if (resources) this.apply(resources, true);
  }

  /** Controllers must be enabled in every ancestor's subtree_control for the leaf to get them. */
  private enableControllers(): void {
    const ancestors: string[] = [];
    for (let d = dirname(this.dir); relative(this.mountPoint, d) !== '..' && !relative(this.mountPoint, d).startsWith('..'); d = dirname(d)) {
      ancestors.unshift(d);
      if (d === this.mountPoint) break;
    }
    for (const d of ancestors) {
      let available: string[] = [];
      try {
        available = readValue(d, 'cgroup.controllers').split(/\s+/).filter(Boolean);
      } catch {
        continue;
      }
      const wanted = available.filter((c) => ['cpu', 'cpuset', 'memory', 'pids', 'io', 'hugetlb'].includes(c));
      if (wanted.length) writeValue(d, 'cgroup.subtree_control', wanted.map((c) => '+' + c).join(' '));
    }
  }

  update(resources: Resources): void {
    this.apply(resources, false);
  }

  private apply(r: Resources, creating: boolean): void {
    const d = this.dir;
    const m = r.memory;
    if (m) {
      if (m.limit !== undefined) writeValue(d, 'memory.max', m.limit < 0 ? 'max' : m.limit);
      if (m.reservation !== undefined) writeValue(d, 'memory.low', m.reservation < 0 ? 'max' : m.reservation);
      if (m.swap !== undefined) {
        // OCI's swap is memory+swap (v1's memsw); v2 limits swap alone.
        const swap = m.swap < 0 ? 'max' : m.limit !== undefined && m.limit >= 0 ? Math.max(0, m.swap - m.limit) : m.swap;
        writeValue(d, 'memory.swap.max', swap);
      }
      if (m.disableOOMKiller) throw new NotImplementedError('cgroup v2 cannot disable the OOM killer');
      if (m.swappiness !== undefined && m.swappiness >= 0) throw new NotImplementedError('cgroup v2 has no per-cgroup swappiness');
    }
    const c = r.cpu;
    if (c) {
      if (c.shares) writeValue(d, 'cpu.weight', sharesToWeight(c.shares));
      if (c.quota || c.period) writeValue(d, 'cpu.max', `${c.quota && c.quota > 0 ? c.quota : 'max'} ${c.period ?? 100000}`);
      if (c.cpus) writeValue(d, 'cpuset.cpus', c.cpus);
      if (c.mems) writeValue(d, 'cpuset.mems', c.mems);
      if (c.idle !== undefined) writeValue(d, 'cpu.idle', c.idle);
      if (c.realtimePeriod || c.realtimeRuntime) throw new NotImplementedError('cgroup v2 has no realtime cpu limits');
    }
    if (r.pids) writeValue(d, 'pids.max', r.pids.limit > 0 ? r.pids.limit : 'max');
    if (r.devices?.length && !allowsEverything(r.devices)) {
      throw new NotImplementedError('cgroup v2: device rules need an eBPF program, which berth-runc does not implement; use cgroup v1 or allow all devices');
    }
    if (r.blockIO?.weight) writeValue(d, 'io.weight', `default ${blkioToIoWeight(r.blockIO.weight)}`);
    for (const h of r.hugepageLimits ?? []) writeValue(d, `hugetlb.${h.pageSize}.max`, h.limit);
    for (const [key, value] of Object.entries(r.unified ?? {})) {
      if (key.includes('/') || key.startsWith('.')) throw new InvalidArgumentError(`cgroup: unified key ${JSON.stringify(key)} is not a file name`);
      writeValue(d, key, value);
    }
    if (r.network?.classID || r.network?.priorities?.length) throw new NotImplementedError('cgroup v2 has no net_cls/net_prio');
    void creating;
  }

  pids(): number[] {
    return readPids(join(this.dir, 'cgroup.procs'));
  }

  async freeze(): Promise<void> {
    writeValue(this.dir, 'cgroup.freeze', 1);
    for (let i = 0; i < 1000 && !this.isFrozen(); i++) await sleep(2);
    if (!this.isFrozen()) {
      this.thaw();
      throw new InvalidArgumentError('cgroup: the container did not freeze within 2 s');
    }
  }

  thaw(): void {
    writeValue(this.dir, 'cgroup.freeze', 0);
  }

  isFrozen(): boolean {
    return readKeyValues(this.dir, 'cgroup.events').frozen === 1;
  }

  stats(): CgroupStats {
    const d = this.dir;
    const cpu = readKeyValues(d, 'cpu.stat');
    const raw = readKeyValues(d, 'memory.stat');
    const events = readKeyValues(d, 'memory.events');
    return {
      cpu: {
        usage: { total: (cpu.usage_usec ?? 0) * 1000, kernel: (cpu.system_usec ?? 0) * 1000, user: (cpu.user_usec ?? 0) * 1000 },
        throttling: { periods: cpu.nr_periods ?? 0, throttledPeriods: cpu.nr_throttled ?? 0, throttledTime: (cpu.throttled_usec ?? 0) * 1000 },
      },
      memory: {
        usage: { usage: readNumber(d, 'memory.current'), max: readNumber(d, 'memory.peak'), limit: readNumber(d, 'memory.max'), failcnt: events.max ?? 0 },
        cache: raw.file ?? 0,
        raw,
      },
      pids: { current: readNumber(d, 'pids.current'), limit: readNumber(d, 'pids.max') },
    };
  }

  oomKills(): number {
    return readKeyValues(this.dir, 'memory.events').oom_kill ?? 0;
  }

  async destroy(): Promise<void> {
    if (existsSync(this.dir)) await removeCgroupDir(this.dir, rmdirSync);
  }
}
