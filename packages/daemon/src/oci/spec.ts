/**
 * The OCI runtime spec for a container, as Docker's (moby daemon/oci_linux.go, oci.DefaultSpec):
 * default capabilities, namespaces, mounts, masked and read-only paths, the devices allow-list,
 * the default seccomp profile, and the run's limits and options.
 */
import { statSync } from 'node:fs';
import type { DockerConfig, DockerHostConfig } from '../config/docker-types.js';
import { InvalidArgumentError } from '@berth/api/errdefs';
import { parseBytes } from '../config/units.js';
import { seccompFor } from './seccomp.js';

export const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Every capability the kernel of this machine knows (cap_last_cap), by name. */
export const ALL_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD',
  'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Docker's devices cgroup: deny all, then the defaults every container gets. */
const DEFAULT_DEVICE_RULES = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

const RLIMITS = new Set(['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

export const INIT_PATH_IN_CONTAINER = '/sbin/docker-init';

export interface SpecInput {
  id: string;
  config: DockerConfig;
  hostConfig: DockerHostConfig;
  rootfs: string;
  args: string[];
  env: string[];
  user: { uid: number; gid: number; additionalGids: number[] };
  /** Host paths of the per-container files. */
  hostnamePath: string;
  hostsPath: string;
  resolvConfPath: string;
  /** The host's tini-static for --init. */
  initBinary: string;
  cgroupsPath: string;
}

function normalizeCap(c: string): string {
  const u = c.toUpperCase();
  return u === 'ALL' ? u : u.startsWith('CAP_') ? u : `CAP_${u}`;
}

/** Docker's TweakCapabilities: defaults, + cap-add, - cap-drop; "ALL" on either side. */
export function capabilities(add: string[] | null, drop: string[] | null, privileged: boolean): string[] {
  if (privileged) return [...ALL_CAPS];
  const a = (add ?? []).map(normalizeCap);
  const d = (drop ?? []).map(normalizeCap);
  for (const c of [...a, ...d]) if (c !== 'ALL' && !ALL_CAPS.includes(c)) throw new InvalidArgumentError(`unknown capability: "${c}"`);
  let caps = a.includes('ALL') ? [...ALL_CAPS] : [...DEFAULT_CAPS];
  if (d.includes('ALL')) caps = [];
  caps = caps.filter((c) => !d.includes(c));
  for (const c of a) if (c !== 'ALL' && !caps.includes(c)) caps.push(c);
  return caps;
}

function deviceFromHost(path: string, inContainer: string, perms: string): { dev: Record<string, unknown>; rule: Record<string, unknown> } {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new InvalidArgumentError(`error gathering device information while adding custom device "${path}": no such file or directory`);
  }
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) throw new InvalidArgumentError(`error gathering device information while adding custom device "${path}": not a device node`);
  const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn);
  const minor = Number((BigInt(st.rdev) & 0xffn) | ((BigInt(st.rdev) >> 12n) & 0xfff00n));
  return {
    dev: { path: inContainer, type, major, minor, fileMode: st.mode & 0o7777, uid: 0, gid: 0 },
    rule: { allow: true, type, major, minor, access: perms },
  };
}

export function buildSpec(i: SpecInput): Record<string, unknown> {
  const c = i.config;
  const h = i.hostConfig;
  const caps = capabilities(h.CapAdd, h.CapDrop, h.Privileged);
  const securityOpt = h.SecurityOpt ?? [];
  const noNewPrivs = securityOpt.some((o) => o === 'no-new-privileges' || o === 'no-new-privileges:true');
  const unconfined = securityOpt.some((o) => /^seccomp[=:]unconfined$/.test(o));
  const shm = h.ShmSize || 64 * 1024 * 1024;

  const mounts: Record<string, unknown>[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', h.Privileged ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  ];
  if (h.IpcMode === 'host') mounts.push({ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'nosuid', 'noexec', 'nodev'] });
  else if (h.IpcMode !== 'none') mounts.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shm}`] });
  const etcOpts = ['rbind', 'rprivate'];
  mounts.push(
    { destination: '/etc/resolv.conf', type: 'bind', source: i.resolvConfPath, options: etcOpts },
    { destination: '/etc/hostname', type: 'bind', source: i.hostnamePath, options: etcOpts },
    { destination: '/etc/hosts', type: 'bind', source: i.hostsPath, options: etcOpts },
  );
  for (const b of h.Binds ?? []) {
    const [src, dst, mode = ''] = b.split(':') as [string, string, string?];
    mounts.push({ destination: dst, type: 'bind', source: src, options: ['rbind', mode.split(',').includes('ro') ? 'ro' : 'rw', 'rprivate'] });
  }
  for (const [dst, opts] of Object.entries(h.Tmpfs ?? {})) {
    mounts.push({ destination: dst, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...(opts ? opts.split(',') : [])] });
  }
  let args = i.args;
  if (h.Init) {
    mounts.push({ destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: i.initBinary, options: ['bind', 'ro'] });
    args = [INIT_PATH_IN_CONTAINER, '--', ...args];
  }

  const namespaces: { type: string }[] = [{ type: 'mount' }];
  if (h.PidMode !== 'host') namespaces.push({ type: 'pid' });
  if (h.IpcMode !== 'host') namespaces.push({ type: 'ipc' });
  if (h.UTSMode !== 'host') namespaces.push({ type: 'uts' });
  if (h.NetworkMode !== 'host') namespaces.push({ type: 'network' });

  const devices: Record<string, unknown>[] = [];
  const deviceRules: Record<string, unknown>[] = h.Privileged ? [{ allow: true, access: 'rwm' }] : [...DEFAULT_DEVICE_RULES];
  for (const d of h.Devices ?? []) {
    const { dev, rule } = deviceFromHost(d.PathOnHost, d.PathInContainer, d.CgroupPermissions);
    devices.push(dev);
    deviceRules.push(rule);
  }

  const resources: Record<string, unknown> = { devices: deviceRules };
  if (h.Memory || h.MemoryReservation || h.MemorySwap) {
    const mem: Record<string, unknown> = {};
    if (h.Memory) mem.limit = h.Memory;
    if (h.MemoryReservation) mem.reservation = h.MemoryReservation;
    // Docker: swap unset = twice the memory; -1 unlimited.
    if (h.MemorySwap) mem.swap = h.MemorySwap;
    else if (h.Memory) mem.swap = h.Memory * 2;
    if (h.OomKillDisable) mem.disableOOMKiller = true;
    resources.memory = mem;
  }
  const cpu: Record<string, unknown> = {};
  if (h.NanoCpus) {
    cpu.period = 100_000;
    cpu.quota = Math.round((h.NanoCpus * 100_000) / 1e9);
  }
  if (h.CpuShares) cpu.shares = h.CpuShares;
  if (h.CpuPeriod) cpu.period = h.CpuPeriod;
  if (h.CpuQuota) cpu.quota = h.CpuQuota;
  if (h.CpusetCpus) cpu.cpus = h.CpusetCpus;
  if (h.CpusetMems) cpu.mems = h.CpusetMems;
  if (Object.keys(cpu).length) resources.cpu = cpu;
  if (h.PidsLimit && h.PidsLimit > 0) resources.pids = { limit: h.PidsLimit };

  const rlimits = (h.Ulimits ?? []).map((u) => {
    if (!RLIMITS.has(u.Name)) throw new InvalidArgumentError(`invalid ulimit type: ${u.Name}`);
    return { type: `RLIMIT_${u.Name.toUpperCase()}`, soft: u.Soft, hard: u.Hard };
  });

  const linux: Record<string, unknown> = {
    cgroupsPath: i.cgroupsPath,
    resources,
    namespaces,
    devices,
  };
  if (!h.Privileged) {
    linux.maskedPaths = MASKED_PATHS;
    linux.readonlyPaths = READONLY_PATHS;
    if (!unconfined) linux.seccomp = seccompFor(caps);
  }
  if (h.Sysctls) linux.sysctl = { ...h.Sysctls };

  const process: Record<string, unknown> = {
    terminal: c.Tty,
    user: { uid: i.user.uid, gid: i.user.gid, ...(i.user.additionalGids.length ? { additionalGids: i.user.additionalGids } : {}) },
    args,
    env: i.env,
    cwd: c.WorkingDir || '/',
    capabilities: { bounding: caps, effective: caps, permitted: caps },
    noNewPrivileges: noNewPrivs,
    oomScoreAdj: 0,
  };
  if (rlimits.length) process.rlimits = rlimits;
  if (c.Tty && h.ConsoleSize[0] && h.ConsoleSize[1]) process.consoleSize = { height: h.ConsoleSize[0], width: h.ConsoleSize[1] };

  return {
    ociVersion: '1.0.2-dev',
    process,
    root: { path: i.rootfs, readonly: h.ReadonlyRootfs },
    hostname: c.Hostname,
    ...(c.Domainname ? { domainname: c.Domainname } : {}),
    mounts,
    linux,
  };
}

/** json-file rotation from --log-opt: max-size (bytes, 0 never) and max-file. */
export function logRotation(h: DockerHostConfig): { maxSize: number; maxFiles: number } {
  const ms = h.LogConfig.Config['max-size'];
  const maxSize = ms && ms !== '-1' ? parseBytes(ms, 'max-size') : 0;
  const maxFiles = maxSize ? Math.max(1, Number(h.LogConfig.Config['max-file'] ?? '1')) : 1;
  return { maxSize, maxFiles };
}
