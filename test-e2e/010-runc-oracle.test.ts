// berth-runc against Debian's runc as the oracle: for the same bundle and config, the process
// inside sees the same capabilities, seccomp and no_new_privs state, mounts, cgroups, limits,
// /dev, umask, hostname, namespaces and identity. Each case runs `runc run` and then
// `berth-runc run` (foreground, no terminal, stdout to a file) on one bundle and compares the
// normalised outputs; the leak check proves each left no mount, cgroup, state dir or process.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { berthRuntime, runtimeLeakOptions, describeRun, makeBundle, runRuntime, runcDefaultSpec, runcRuntime, type Runtime } from './support/bundle.js';
import { tempRoots, useLeakCheck, type TempRoots } from './support/index.js';

type Spec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const NS_TYPES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts', 'time'] as const;

/** What the container prints; `@@name` lines start sections. */
const PROBE = [
  "echo @@status; grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|Seccomp|NoNewPrivs):' /proc/self/status",
  'echo @@mountinfo; cat /proc/self/mountinfo',
  'echo @@cgroup; cat /proc/self/cgroup',
  'echo @@limits; cat /proc/self/limits',
  'echo @@dev; ls -ln /dev',
  'echo @@umask; umask',
  'echo @@hostname; hostname',
  `echo @@ns; for n in ${NS_TYPES.join(' ')}; do echo "$n $(readlink /proc/self/ns/$n)"; done`,
  'echo @@id; id',
  'echo @@env; env | sort',
  'echo @@cwd; pwd',
  'echo @@extra',
].join('\n');

const DOCKER_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
const DOCKER_MASKED = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
const DOCKER_READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
const ARCHES = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];

/** The hard RLIMIT_NOFILE of this process: root here cannot raise a hard limit, only lower it. */
function hostHardNofile(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))!;
  const hard = line.trim().split(/\s+/)[4]!;
  return hard === 'unlimited' ? 1048576 : Number(hard);
}

/**
 * runc's default spec (`runc spec`) without a terminal. runc's default asks for ambient
 * capabilities without inheritable ones; the kernel refuses to raise those and runc carries on
 * without them (CapAmb 0). The "runc's default spec" case keeps them; the other cases drop
 * them so that each case tests its own feature.
 */
function baseSpec(scratch: string, keepAmbient = false): Spec {
  const spec = runcDefaultSpec(scratch) as Spec;
  spec.process.terminal = false;
  if (!keepAmbient) delete spec.process.capabilities.ambient;
  return spec;
}

/** Docker's default container config as `docker run` makes it (v1 cgroups, no user ns). */
function dockerLikeSpec(hostDir: string): Spec {
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: { uid: 1000, gid: 1000, additionalGids: [29, 100], umask: 0o027 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=berth-oracle'],
      cwd: '/home/berth',
      capabilities: { bounding: DOCKER_CAPS, effective: DOCKER_CAPS, permitted: DOCKER_CAPS },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 256, hard: hostHardNofile() }],
      noNewPrivileges: false,
      oomScoreAdj: 500,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'berth-oracle',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
      { destination: '/mnt/ro', type: 'bind', source: hostDir, options: ['rbind', 'ro'] },
    ],
    linux: {
      sysctl: { 'net.ipv4.ip_forward': '1', 'kernel.shm_rmid_forced': '1' },
      resources: {
        devices: [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
          { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
          { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
          { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
          { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
          { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
          { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
        ],
        memory: { limit: 256 * 1024 * 1024 },
        cpu: { shares: 512 },
        pids: { limit: 200 },
      },
      namespaces: [{ type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }],
      maskedPaths: DOCKER_MASKED,
      readonlyPaths: DOCKER_READONLY,
      rootfsPropagation: 'rprivate',
    },
  };
}

/**
 * A profile in the manner of Docker's default (written here from the documented behaviour, not
 * copied): deny by default with EPERM, allow a long list of ordinary syscalls in groups, and
 * allow some only for harmless arguments — personality for a few personas, clone without
 * namespace flags (MASKED_EQ), socket except AF_VSOCK — and make clone3 ENOSYS so libc falls back.
 */
function dockerLikeSeccomp(): Spec {
  const allow = (...names: string[]) => ({ names, action: 'SCMP_ACT_ALLOW' });
  const CLONE_NEW_MASK = 0x7e020000; // CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ARCHES,
    syscalls: [
      allow('read', 'write', 'readv', 'writev', 'pread64', 'pwrite64', 'preadv', 'pwritev', 'preadv2', 'pwritev2'),
      allow('open', 'openat', 'openat2', 'creat', 'close', 'close_range', 'lseek', '_llseek'),
      allow('dup', 'dup2', 'dup3', 'fcntl', 'fcntl64', 'ioctl', 'pipe', 'pipe2', 'flock'),
      allow('sendfile', 'sendfile64', 'splice', 'tee', 'vmsplice', 'copy_file_range', 'readahead', 'fadvise64'),
      allow('fallocate', 'ftruncate', 'truncate', 'sync', 'syncfs', 'fsync', 'fdatasync', 'sync_file_range'),
      allow('stat', 'fstat', 'lstat', 'newfstatat', 'statx', 'statfs', 'fstatfs', 'stat64', 'fstat64', 'lstat64', 'fstatat64'),
      allow('access', 'faccessat', 'faccessat2', 'readlink', 'readlinkat', 'getdents', 'getdents64', 'getcwd'),
      allow('chdir', 'fchdir', 'chmod', 'fchmod', 'fchmodat', 'chown', 'fchown', 'lchown', 'fchownat'),
      allow('utime', 'utimes', 'utimensat', 'futimesat', 'umask'),
      allow('rename', 'renameat', 'renameat2', 'link', 'linkat', 'symlink', 'symlinkat', 'unlink', 'unlinkat', 'rmdir', 'mkdir', 'mkdirat'),
      allow('mknod', 'mknodat'),
      allow('getxattr', 'lgetxattr', 'fgetxattr', 'listxattr', 'llistxattr', 'flistxattr'),
      allow('setxattr', 'lsetxattr', 'fsetxattr', 'removexattr', 'lremovexattr', 'fremovexattr'),
      allow('brk', 'mmap', 'mmap2', 'munmap', 'mremap', 'mprotect', 'madvise', 'mincore', 'msync'),
      allow('mlock', 'mlock2', 'munlock', 'mlockall', 'munlockall', 'membarrier', 'memfd_create'),
      allow('execve', 'execveat', 'exit', 'exit_group', 'wait4', 'waitid', 'fork', 'vfork'),
      allow('kill', 'tkill', 'tgkill', 'pidfd_open', 'pidfd_send_signal'),
      allow('getpid', 'getppid', 'gettid', 'getpgid', 'setpgid', 'getpgrp', 'getsid', 'setsid'),
      allow('set_tid_address', 'set_robust_list', 'get_robust_list', 'futex', 'futex_waitv', 'rseq', 'arch_prctl', 'prctl'),
      allow('sched_yield', 'sched_getaffinity', 'sched_setaffinity', 'sched_getparam', 'sched_setparam'),
      allow('sched_getscheduler', 'sched_setscheduler', 'sched_get_priority_max', 'sched_get_priority_min', 'sched_rr_get_interval'),
      allow('getpriority', 'setpriority', 'getrlimit', 'setrlimit', 'prlimit64', 'ugetrlimit', 'getrusage', 'times'),
      allow('capget', 'capset', 'restart_syscall'),
      allow('getuid', 'geteuid', 'getgid', 'getegid', 'getresuid', 'getresgid', 'getgroups'),
      allow('setuid', 'setgid', 'setreuid', 'setregid', 'setresuid', 'setresgid', 'setgroups', 'setfsuid', 'setfsgid'),
      allow('rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'rt_sigsuspend', 'rt_sigpending', 'rt_sigtimedwait'),
      allow('rt_sigqueueinfo', 'rt_tgsigqueueinfo', 'sigaltstack', 'signalfd', 'signalfd4', 'pause', 'alarm'),
      allow('clock_gettime', 'clock_getres', 'clock_nanosleep', 'nanosleep', 'gettimeofday', 'time'),
      allow('getitimer', 'setitimer', 'timer_create', 'timer_settime', 'timer_gettime', 'timer_getoverrun', 'timer_delete'),
      allow('timerfd_create', 'timerfd_settime', 'timerfd_gettime'),
      allow('poll', 'ppoll', 'select', '_newselect', 'pselect6', 'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_wait', 'epoll_pwait', 'epoll_pwait2'),
      allow('eventfd', 'eventfd2', 'inotify_init', 'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch'),
      allow('socketpair', 'bind', 'connect', 'listen', 'accept', 'accept4', 'getsockname', 'getpeername'),
      allow('sendto', 'recvfrom', 'sendmsg', 'recvmsg', 'sendmmsg', 'recvmmsg', 'shutdown', 'setsockopt', 'getsockopt'),
      allow('shmget', 'shmat', 'shmdt', 'shmctl', 'semget', 'semop', 'semtimedop', 'semctl'),
      allow('msgget', 'msgsnd', 'msgrcv', 'msgctl'),
      allow('mq_open', 'mq_unlink', 'mq_timedsend', 'mq_timedreceive', 'mq_notify', 'mq_getsetattr'),
      allow('uname', 'sysinfo', 'getrandom', 'getcpu', 'ioprio_get', 'ioprio_set'),
      allow('io_setup', 'io_destroy', 'io_getevents', 'io_submit', 'io_cancel'),
      allow('io_uring_setup', 'io_uring_enter', 'io_uring_register'),
      allow('get_mempolicy', 'set_mempolicy', 'mbind'),
      allow('chroot'),
      // Arguments decide:
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x0, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x8, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x20000, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x20008, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_EQ' }] },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: CLONE_NEW_MASK, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
      { names: ['unshare', 'setns', 'mount', 'umount2', 'pivot_root', 'keyctl', 'add_key', 'request_key', 'ptrace'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
    ],
  };
}

const SECTIONS = ['status', 'mountinfo', 'cgroup', 'limits', 'dev', 'umask', 'hostname', 'ns', 'id', 'env', 'cwd', 'extra'] as const;
type Normalised = Record<(typeof SECTIONS)[number], string[]>;

interface Placeholders {
  [text: string]: string;
}

const unescapeMount = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/**
 * One mountinfo line without what differs between any two mounts of the same thing: mount id,
 * parent id, device numbers, and the peer group numbers in the optional fields (the kinds —
 * shared, master — stay). Kept: root, mount point, options, fs type, source, super options.
 */
function normaliseMountLine(line: string): string {
  const f = line.split(' ');
  const sep = f.indexOf('-');
  const optional = f.slice(6, sep).map((o) => o.replace(/:\d+$/, ''));
  const [fstype, superOpts] = [f[sep + 1], f[sep + 3]];
  let source = f[sep + 2];
  // With a cgroup namespace runc mounts the name=systemd hierarchy with the source "systemd"
  // and every other hierarchy with "cgroup" (a special case in its rootfs code); the source
  // string of a cgroup mount is a free-form label with no effect, so it is compared as "cgroup".
  if (fstype === 'cgroup') source = 'cgroup';
  return [unescapeMount(f[3]!), unescapeMount(f[4]!), f[5], ...optional, '-', fstype, source, superOpts].join(' ');
}

function parseSections(out: string): Record<string, string[]> {
  const sections: Record<string, string[]> = {};
  let cur: string | undefined;
  for (const line of out.split('\n')) {
    const m = /^@@(\w+)$/.exec(line);
    if (m) {
      cur = m[1]!;
      sections[cur] = [];
    } else if (cur && line !== '') sections[cur]!.push(line);
  }
  return sections;
}

function normalise(out: string, placeholders: Placeholders, joinedNs: Record<string, string>): Normalised {
  // Longest first, so a path is replaced before a prefix of it.
  const subs = Object.entries(placeholders).sort((a, b) => b[0].length - a[0].length);
  const replace = (s: string) => subs.reduce((acc, [from, to]) => acc.split(from).join(to), s);
  const s = parseSections(out);
  const hostNs = Object.fromEntries(NS_TYPES.map((t) => [t, readlinkSync(`/proc/self/ns/${t}`)]));
  const result: Record<string, string[]> = {};
  for (const [name, lines] of Object.entries(s)) {
    let l = lines;
    if (name === 'mountinfo') l = l.map(normaliseMountLine).sort();
    // ls -l dates (the /dev listing, and any in the case's extra commands).
    l = l.map((x) => x.replace(/\b[A-Z][a-z]{2} +\d{1,2} +(\d{2}:\d{2}|\d{4})\b/, '<date>'));
    if (name === 'ns') {
      l = l.map((x) => {
        const [type, link = ''] = x.split(' ') as [string, string?];
        const state = link === '' ? 'unreadable' : link === hostNs[type] ? 'host' : joinedNs[link] ? `joined ${joinedNs[link]}` : 'new';
        return `${type} ${state}`;
      });
    }
    result[name] = l.map(replace);
  }
  return result as Normalised;
}

interface OracleOptions {
  /** Shell commands whose output goes in the `extra` section (same for both runtimes). */
  extra?: string;
  /** More text to replace by placeholders (host paths that are the same for both, for readable diffs). */
  placeholders?: Placeholders;
  /** Namespace links ("net:[4026532...]") the container should have joined, with a label. */
  joinedNs?: Record<string, string>;
}

interface OracleResult {
  runc: Normalised;
  berth: Normalised;
}

/**
 * Runs the probe in `spec` on one bundle with runc, then with berth-runc (each its own --root,
 * container id and cgroupsPath, put back as <CGROUP>), and returns both outputs normalised.
 * runc must succeed; berth-runc's failure fails the test with its stderr and log.
 */
async function oracle(roots: TempRoots, spec: Spec, opts: OracleOptions = {}): Promise<OracleResult> {
  const bundle = makeBundle(roots.dir);
  const tag = roots.dir.slice(-6).replace(/[^\w]/g, '');
  const out: Partial<Record<'runc' | 'berth', Normalised>> = {};
  for (const [key, rt] of [['runc', runcRuntime()], ['berth', berthRuntime()]] as [keyof OracleResult, Runtime][]) {
    const cgroupsPath = `/berth-oracle-${tag}-${key}`;
    const s: Spec = structuredClone(spec);
    s.process.args = ['sh', '-c', `${PROBE}\n${opts.extra ?? ''}`];
    s.linux = { ...(s.linux ?? {}), cgroupsPath };
    bundle.writeConfig(s);
    const r = await runRuntime(rt, ['run', '--bundle', bundle.dir, `oracle-${tag}-${key}`], {
      root: join(roots.state, key),
      scratch: roots.dir,
      jsonLog: true,
    });
    if (r.code !== 0) {
      const msg = `${describeRun(rt, r)}\nconfig.json:\n${JSON.stringify(s, null, 1)}`;
      if (key === 'runc') throw new Error(`the oracle failed; the case is wrong for this machine:\n${msg}`);
      expect.fail(`${rt.name} run failed where runc succeeded:\n${describeRun(rt, r)}`);
    }
    out[key] = normalise(r.stdout, { [cgroupsPath]: '<CGROUP>', [bundle.dir]: '<BUNDLE>', ...opts.placeholders }, opts.joinedNs ?? {});
    // The probe ran to its end: every section is there.
    expect(Object.keys(out[key]!), `${rt.name}'s output:\n${r.stdout}`).toEqual(SECTIONS);
  }
  return out as OracleResult;
}

const capMask = (caps: string[]): string => {
  const numbers: Record<string, number> = {
    CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_FOWNER: 3, CAP_FSETID: 4, CAP_KILL: 5, CAP_SETGID: 6, CAP_SETUID: 7, CAP_SETPCAP: 8,
    CAP_NET_BIND_SERVICE: 10, CAP_NET_RAW: 13, CAP_SYS_CHROOT: 18, CAP_MKNOD: 27, CAP_AUDIT_WRITE: 29, CAP_SETFCAP: 31,
  };
  return caps.reduce((m, c) => m | (1n << BigInt(numbers[c]!)), 0n).toString(16).padStart(16, '0');
};

describe('berth-runc matches runc (oracle)', () => {
  useLeakCheck(runtimeLeakOptions);

  it("runc's default spec (runc spec, no terminal)", async () => {
    const roots = tempRoots();
    const { runc, berth } = await oracle(roots, baseSpec(roots.dir, true));
    expect(runc.status).toContain(`CapBnd:\t${capMask(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'])}`);
    expect(runc.hostname).toEqual(['runc']);
    expect(berth).toEqual(runc);
  });

  it('Docker-like spec: caps, masked and read-only paths, sysctls, rlimits, user and groups, umask, read-only root and bind', async () => {
    const roots = tempRoots();
    const hostDir = join(roots.dir, 'host-data');
    mkdirSync(hostDir);
    writeFileSync(join(hostDir, 'hello'), 'from the host\n');
    const extra = [
      'echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward) shm_rmid_forced=$(cat /proc/sys/kernel/shm_rmid_forced)"',
      'cat /mnt/ro/hello',
      'touch /mnt/ro/x 2>&1; touch /rootfile 2>&1; touch /dev/shm/ok && echo shm-writable',
      'echo "kcore=$(wc -c </proc/kcore) keys=$(wc -c </proc/keys)"',
      'echo 1 2>&1 >/proc/sys/kernel/shm_rmid_forced',
      'echo "oom_score_adj=$(cat /proc/self/oom_score_adj)"',
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/pids/pids.max',
      // The kernel lists device rules in the order they were written; runc writes them in the
      // order its rule emulator yields. The order has no effect on access: compare the set.
      'sort /sys/fs/cgroup/devices/devices.list',
      'head -c 1 /dev/null && echo null-ok',
      'ls -ld /mnt/ro /dev/shm /dev/mqueue /dev/pts',
    ].join('\n');
    const { runc, berth } = await oracle(roots, dockerLikeSpec(hostDir), { extra, placeholders: { [hostDir]: '<HOSTDIR>' } });
    // The oracle itself shows the features took effect.
    expect(runc.id).toEqual(['uid=1000(berth) gid=1000(berth) groups=29(audio),100(users)']); // additionalGids only, as set
    expect(runc.umask).toEqual(['0027']);
    expect(runc.status).toContain(`CapBnd:\t${capMask(DOCKER_CAPS)}`);
    expect(runc.status).toContain('CapEff:\t0000000000000000'); // uid 1000: the kernel clears them at exec
    expect(runc.extra).toContain('ip_forward=1 shm_rmid_forced=1');
    expect(runc.extra).toContain('from the host');
    expect(runc.extra).toContain('touch: /mnt/ro/x: Read-only file system');
    expect(runc.extra).toContain('268435456');
    expect(runc.limits.find((l) => l.startsWith('Max open files'))).toMatch(/^Max open files\s+256\s+\d+\s+files\s*$/);
    expect(runc.mountinfo.find((l) => l.split(' ')[1] === '/dev/shm')).toMatch(/size=65536k/);
    expect(berth).toEqual(runc);
  });

  it('seccomp: a rule makes mkdir fail with EPERM', async () => {
    const roots = tempRoots();
    const spec = baseSpec(roots.dir);
    spec.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ARCHES,
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    };
    // The root is read-only: without the filter mkdir fails with EROFS, with it EPERM first.
    const extra = 'mkdir /tmp/sc 2>&1; echo "mkdir=$?"; mkdir /dev/shm/sc 2>&1; echo "mkdir-shm=$?"; touch /dev/shm/f && echo touch-ok';
    const { runc, berth } = await oracle(roots, spec, { extra });
    expect(runc.status).toContain('Seccomp:\t2');
    expect(runc.extra).toContain("mkdir: can't create directory '/dev/shm/sc': Operation not permitted");
    expect(runc.extra).toContain('touch-ok');
    expect(berth).toEqual(runc);
  });

  it("seccomp: a Docker-like default profile (deny by default, MASKED_EQ on clone's flags)", async () => {
    const roots = tempRoots();
    const spec = baseSpec(roots.dir);
    spec.process.noNewPrivileges = false; // as Docker: the filter is loaded while still privileged
    spec.process.capabilities = { bounding: DOCKER_CAPS, effective: DOCKER_CAPS, permitted: DOCKER_CAPS };
    spec.linux.seccomp = dockerLikeSeccomp();
    const extra = [
      'mkdir /dev/shm/d && echo mkdir-ok',
      '(sleep 0; echo forked-ok) & wait', // clone without namespace flags is allowed
      'unshare -n true 2>&1; echo "unshare=$?"', // unshare is denied (EPERM)
      'chroot / true && echo chroot-ok',
    ].join('\n');
    const { runc, berth } = await oracle(roots, spec, { extra });
    expect(runc.status).toContain('Seccomp:\t2');
    expect(runc.extra).toEqual(expect.arrayContaining(['mkdir-ok', 'forked-ok', 'chroot-ok', 'unshare=1']));
    expect(berth).toEqual(runc);
  });

  it('user namespace with uid/gid mappings', async () => {
    const roots = tempRoots();
    // The container's root is uid 100000 on the host: it must be able to reach the bundle.
    chmodSync(roots.dir, 0o755);
    const spec = baseSpec(roots.dir);
    spec.linux.namespaces.push({ type: 'user' });
    spec.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    spec.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const extra = 'cat /proc/self/uid_map /proc/self/gid_map; ls -ln /etc/passwd; touch /dev/shm/u && ls -ln /dev/shm/u';
    const { runc, berth } = await oracle(roots, spec, { extra });
    expect(runc.ns).toContain('user new');
    expect(runc.extra.join('\n')).toMatch(/^\s*0\s+100000\s+65536$/m);
    expect(berth).toEqual(runc);
  });

  it('cgroup namespace, with the cgroup filesystem mounted', async () => {
    const roots = tempRoots();
    const spec = baseSpec(roots.dir);
    spec.linux.namespaces.push({ type: 'cgroup' });
    // runc's default spec mounts the cgroup filesystem at /sys/fs/cgroup already.
    expect(spec.mounts.some((m: { type: string }) => m.type === 'cgroup')).toBe(true);
    spec.linux.resources = { ...(spec.linux.resources ?? {}), pids: { limit: 64 } };
    const extra = 'ls /sys/fs/cgroup; cat /sys/fs/cgroup/pids/pids.max; cat /sys/fs/cgroup/pids/cgroup.procs | wc -l';
    const { runc, berth } = await oracle(roots, spec, { extra });
    expect(runc.ns).toContain('cgroup new');
    expect(runc.cgroup.every((l) => l.endsWith(':/'))).toBe(true);
    expect(runc.extra).toContain('64');
    expect(berth).toEqual(runc);
  });
});

describe('berth-runc matches runc (oracle): joining a network namespace by path', () => {
  // `ip netns add` makes /run/netns a mount point (a shared bind of itself) the first time it
  // runs on a machine and leaves it, as every `ip netns` user does; that one mount is iproute2's,
  // not a runtime's. The namespace's own nsfs mount at /run/netns/NAME is still checked.
  useLeakCheck({ ...runtimeLeakOptions, ignoreMounts: [/^\/run\/netns \(\w+\)$/] });

  it('joins the namespace at /run/netns/NAME', async () => {
    const roots = tempRoots();
    const name = `berth-oracle-${process.pid}-${Date.now() % 100000}`;
    execFileSync('ip', ['netns', 'add', name]);
    try {
      // Something to recognise it by: lo is up there, down in a fresh namespace.
      execFileSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
      const link = `net:[${statSync(`/run/netns/${name}`).ino}]`;
      const spec = baseSpec(roots.dir);
      spec.linux.namespaces = spec.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: `/run/netns/${name}` } : n));
      const extra = 'ip -o link show lo | sed "s/^[0-9]*: //"';
      const { runc, berth } = await oracle(roots, spec, { extra, joinedNs: { [link]: 'netns' } });
      expect(runc.ns).toContain('net joined netns');
      expect(runc.extra.join('\n')).toMatch(/UP/);
      expect(berth).toEqual(runc);
    } finally {
      execFileSync('ip', ['netns', 'delete', name]);
    }
  });
});
