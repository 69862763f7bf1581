/**
 * berth-runc-init's privilege steps: capability sets, no_new_privs, seccomp (including a
 * Docker-default-shaped profile of ~330 rules with unknown names and MASKED_EQ conditions).
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanRecord } from '../../src/plan/records';
import { Run, build, containerPlan, killAll, makeRootfs, removeDir, runToExit } from './harness';

let dir: string;
let rootfs: string;
beforeAll(() => {
  build();
  ({ dir, rootfs } = makeRootfs());
});
afterEach(killAll);
afterAll(() => removeDir(dir));

const sh = (script: string, extra: PlanRecord[] = []) => containerPlan(rootfs, ['sh', '-c', script], extra);
const status = (out: string, field: string) => out.match(new RegExp(`^${field}:\\s*(\\S+)`, 'm'))?.[1];
const STATUS = 'grep -E "^(Cap|NoNewPrivs|Seccomp)" /proc/self/status';

const hex = (n: bigint) => n.toString(16);
const EPERM = 1;

describe('capabilities', () => {
  it('sets exactly the given sets for root', async () => {
    const mask = (1n << 0n) | (1n << 5n) | (1n << 10n); // CHOWN KILL NET_BIND_SERVICE
    const { out } = await runToExit(sh(STATUS, [['caps', hex(mask), hex(mask), hex(mask), hex(mask), '0']]), { dir });
    for (const f of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd']) expect(status(out, f), f).toBe(hex(mask).padStart(16, '0'));
    expect(status(out, 'CapAmb')).toBe('0000000000000000');
  });

  it('keeps caps across the switch to a non-root user through the ambient set', async () => {
    const mask = 1n << 10n;
    const { out } = await runToExit(
      sh(`id -u; ${STATUS}`, [['user', 1000, 1000], ['caps', hex(mask | (1n << 1n)), hex(mask), hex(mask), hex(mask), hex(mask)]]),
      { dir },
    );
    expect(out.split('\n')[0]).toBe('1000');
    expect(status(out, 'CapEff')).toBe('0000000000000400');
    expect(status(out, 'CapAmb')).toBe('0000000000000400');
    expect(status(out, 'CapBnd')).toBe('0000000000000402');
  });

  it('skips ambient caps that are not inheritable, as runc does (runc spec\'s default config)', async () => {
    const m = hex((1n << 5n) | (1n << 10n) | (1n << 29n));
    const { status: code, out } = await runToExit(sh(STATUS, [['caps', m, m, m, '0', m]]), { dir });
    expect(code).toBe(0);
    expect(status(out, 'CapEff')).toBe('0000000020000420');
    expect(status(out, 'CapAmb')).toBe('0000000000000000');
  });

  it('asking for a capability the caller lacks is an error', async () => {
    const run = new Run(sh('true', [['caps', '1000000', '1000000', '1000000', '0', '0']]), { dir }); // CAP_SYS_RESOURCE
    expect(await run.error()).toBe('capset: Operation not permitted');
  });

  it('a non-root user without ambient caps ends with none', async () => {
    // Everything this process has (root here lacks CAP_SYS_RESOURCE; asking for more is EPERM).
    const all = readFileSync('/proc/self/status', 'utf8').match(/^CapBnd:\s*(\S+)/m)![1]!;
    const { out } = await runToExit(sh(STATUS, [['user', 1000, 1000], ['caps', all, all, all, all, '0']]), { dir });
    expect(status(out, 'CapEff')).toBe('0000000000000000');
    expect(status(out, 'CapPrm')).toBe('0000000000000000');
  });
});

describe('seccomp and no_new_privs', () => {
  const mkdirDenied: PlanRecord[] = [
    ['seccomp-default', 'SCMP_ACT_ALLOW', 0],
    ['seccomp-arch', 'x86_64'],
    ['seccomp-rule', 'SCMP_ACT_ERRNO', EPERM, 'mkdir'],
    ['seccomp-rule', 'SCMP_ACT_ERRNO', EPERM, 'mkdirat'],
    ['seccomp-rule', 'SCMP_ACT_ERRNO', EPERM, 'no_such_syscall_in_any_kernel'],
  ];

  it('a rule makes mkdir fail with EPERM; loading the filter does not set no_new_privs', async () => {
    const { out } = await runToExit(sh(`mkdir /tmp/d; echo rc=$?; ${STATUS}`, mkdirDenied), { dir });
    expect(out).toMatch(/^rc=1\n/);
    expect(status(out, 'Seccomp')).toBe('2');
    expect(status(out, 'NoNewPrivs')).toBe('0');
    const run = await runToExit(sh('mkdir /tmp/d2 2>&1'), { dir }).then((r) => r.out);
    expect(run).toBe(''); // the same command succeeds without the filter
  });

  it('nonewprivs sets no_new_privs, and the filter still loads (late, as the last step)', async () => {
    const { out } = await runToExit(sh(`mkdir /tmp/e 2>/dev/null; echo rc=$?; ${STATUS}`, [...mkdirDenied, ['nonewprivs']]), { dir });
    expect(out).toMatch(/^rc=1\n/);
    expect(status(out, 'NoNewPrivs')).toBe('1');
    expect(status(out, 'Seccomp')).toBe('2');
  });

  it('no_new_privs alone, without seccomp', async () => {
    const { out } = await runToExit(sh(STATUS, [['nonewprivs']]), { dir });
    expect(status(out, 'NoNewPrivs')).toBe('1');
    expect(status(out, 'Seccomp')).toBe('0');
  });

  it('an unknown architecture or action is a plan error', async () => {
    const run = new Run(sh('true', [['seccomp-default', 'SCMP_ACT_ALLOW', 0], ['seccomp-arch', 'pdp11']]), { dir });
    expect(await run.error()).toBe('plan: unknown seccomp architecture pdp11');
    const run2 = new Run(sh('true', [['seccomp-default', 'SCMP_ACT_MAYBE', 0]]), { dir });
    expect(await run2.error()).toBe('plan: seccomp-default: unknown seccomp action SCMP_ACT_MAYBE');
  });

  it('a profile shaped like Docker\'s default loads: ~330 rules, unknown names, MASKED_EQ', async () => {
    const rules = dockerLikeProfile();
    expect(rules.length).toBeGreaterThan(300);
    const { status: code, out, run } = await runToExit(
      sh(`echo ok; mkdir /tmp/made && echo made; mount -t tmpfs t /tmp 2>/dev/null || echo mount-denied; ${STATUS}`, rules),
      { dir },
    );
    expect(code, run.stderr()).toBe(0);
    expect(out).toMatch(/^ok\nmade\nmount-denied\n/);
    expect(status(out, 'Seccomp')).toBe('2');
    expect(status(out, 'NoNewPrivs')).toBe('0');
  });
});

/** Docker's default allow-list (moby profiles/seccomp/default.json, unconditional part) and its
 * argument rules, as berth's plan compiler emits them. */
function dockerLikeProfile(): PlanRecord[] {
  const allowed = `accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown chown32
    clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep
    clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1
    epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit
    exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2
    fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat
    fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait
    futex_waitv futex_wake futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid
    getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom
    getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname getsockopt
    get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init inotify_init1
    inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents io_pgetevents_time64 ioprio_get
    ioprio_set io_setup io_submit io_uring_enter io_uring_register io_uring_setup ipc kill landlock_add_rule
    landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listxattr llistxattr
    _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise map_shadow_stack membarrier memfd_create memfd_secret
    mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open
    mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv
    msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open openat openat2
    pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl
    pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read
    readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr
    rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo
    rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity
    sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler
    sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam
    sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send sendfile
    sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32
    setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid
    setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32 setxattr
    shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall socketpair
    splice stat stat64 statfs statfs64 statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time
    timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64
    timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate
    truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4
    waitid waitpid write writev arch_prctl modify_ldt sync_file_range2 berth_future_syscall_1 berth_future_syscall_2`
    .split(/\s+/)
    .filter(Boolean);
  const r: PlanRecord[] = [
    ['seccomp-default', 'SCMP_ACT_ERRNO', EPERM],
    ['seccomp-arch', 'x86_64'],
    ['seccomp-arch', 'x86'],
    ['seccomp-arch', 'x32'],
    ...allowed.map((name): PlanRecord => ['seccomp-rule', 'SCMP_ACT_ALLOW', 0, name]),
    // personality: a few exact values
    ...[0, 8, 131072, 131080, 4294967295].map((v): PlanRecord => ['seccomp-rule', 'SCMP_ACT_ALLOW', 0, 'personality', 0, 'SCMP_CMP_EQ', v, 0]),
    // clone without namespace flags (CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP)
    ['seccomp-rule', 'SCMP_ACT_ALLOW', 0, 'clone', 0, 'SCMP_CMP_MASKED_EQ', 2114060288, 0],
    ['seccomp-rule', 'SCMP_ACT_ERRNO', 38, 'clone3'],
    // socket: anything but AF_VSOCK
    ['seccomp-rule', 'SCMP_ACT_ALLOW', 0, 'socket', 0, 'SCMP_CMP_NE', 40, 0],
  ];
  return r;
}
