// Leak check: what a test leaves behind on the host. Take a snapshot before, compare after:
// mount points (/proc/self/mountinfo), cgroup directories in every hierarchy under
// /sys/fs/cgroup, processes that are ours, and this runner's open file descriptors.
//
// The machine is shared (other sessions run tests at the same time), so:
// - useLeakCheck() holds a machine-wide lock from before the snapshot until after the check, so
//   leak-checked tests of every runner take turns and a global mount/cgroup diff is meaningful;
// - a new process counts only when it is ours: a descendant of this runner, or carrying the
//   BERTH_TEST_RUNNER variable every child of this runner inherits (detached shims, runtimes),
//   or with its root, cwd or command line inside a watched path (temp roots, the test rootfs).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { acquireLock, releaseLock } from './lock.js';
import { repoRoot } from './test-image.js';

process.env.BERTH_TEST_RUNNER ??= String(process.pid);
const runnerMarker = `BERTH_TEST_RUNNER=${process.env.BERTH_TEST_RUNNER}`;

// Containers of the shared test rootfs are the tests' own.
const watched = new Set<string>([join(repoRoot, 'build', 'test-image', 'rootfs')]);
/** Processes whose root, cwd or command line is inside `path` count as the test's own. */
export function watchPath(path: string): void {
  watched.add(path.replace(/\/+$/, ''));
}
export function unwatchPath(path: string): void {
  watched.delete(path.replace(/\/+$/, ''));
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** Start time in clock ticks since boot: with the pid, identifies a process despite pid reuse. */
  start: string;
  cmdline: string;
}

export interface LeakSnapshot {
  mounts: string[];
  cgroups: string[];
  procs: Map<string, ProcInfo>;
  fds: Map<number, string>;
}

export interface Leaks {
  mounts: string[];
  cgroups: string[];
  procs: ProcInfo[];
  fds: string[];
}

/**
 * cgroups this machine's pid 1 (process_api) makes for every command anyone runs: not ours, and
 * not a leak of the code under test.
 */
const MACHINE_CGROUPS = [/^\/sys\/fs\/cgroup\/memory\/process_api\/[0-9a-f]+$/];

export interface LeakOptions {
  /** Mount points to ignore (matched against the mount point path). */
  ignoreMounts?: RegExp[];
  /** cgroup directories to ignore (matched against the absolute directory path). */
  ignoreCgroups?: RegExp[];
  /** How long to wait for things to settle (processes exiting, lazy unmounts) before failing. */
  settleMs?: number;
}

// /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo.
const unescapeMount = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

export function readMountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const f = line.split(' ');
      const sep = f.indexOf('-');
      return `${unescapeMount(f[4] ?? '?')} (${f[sep + 1] ?? '?'})`;
    });
}

/** Every directory in every cgroup hierarchy (v1 controllers, named, and the v2 unified one). */
export function readCgroupDirs(base = '/sys/fs/cgroup'): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // removed while walking
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      out.push(p);
      walk(p);
    }
  };
  let tops: string[] = [];
  try {
    tops = readdirSync(base);
  } catch {
    return out;
  }
  const hierarchies = new Set(
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => / - cgroup2? /.test(l))
      .map((l) => unescapeMount(l.split(' ')[4] ?? '')),
  );
  for (const t of tops.sort()) {
    const p = join(base, t);
    // Only real hierarchies: a plain directory here (e.g. a symlinked cpu,cpuacct) is skipped.
    if (hierarchies.has(p) || base !== '/sys/fs/cgroup') walk(p);
  }
  if (hierarchies.has(base)) walk(base); // pure v2: /sys/fs/cgroup is the hierarchy itself
  return [...new Set(out)].sort();
}

function readProc(pid: number): (ProcInfo & { environ: string; root: string; cwd: string }) | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: fields start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const link = (name: string): string => {
      try {
        return readlinkSync(`/proc/${pid}/${name}`);
      } catch {
        return '';
      }
    };
    let environ = '';
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      // kernel threads, zombies, or gone
    }
    return {
      pid,
      ppid: Number(rest[1]),
      start: rest[19] ?? '',
      cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').split('\0').join(' ') || `[${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}]`,
      environ,
      root: link('root'),
      cwd: link('cwd'),
    };
  } catch {
    return undefined;
  }
}

export function readProcs(): Map<string, ProcInfo> {
  const out = new Map<string, ProcInfo>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (p) out.set(`${p.pid}:${p.start}`, { pid: p.pid, ppid: p.ppid, start: p.start, cmdline: p.cmdline });
  }
  return out;
}

export function readFds(): Map<number, string> {
  const out = new Map<number, string>();
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      out.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // the fd readdir itself used, now closed
    }
  }
  return out;
}

export function snapshotLeaks(): LeakSnapshot {
  return { mounts: readMountPoints(), cgroups: readCgroupDirs(), procs: readProcs(), fds: readFds() };
}

const inWatched = (s: string): boolean => [...watched].some((w) => s === w || s.startsWith(w + '/') || s.includes(` ${w}/`) || s.includes(`=${w}/`) || s.includes(` ${w} `) || s.endsWith(` ${w}`));

function isOurs(p: ProcInfo, all: Map<string, ProcInfo>): boolean {
  const me = process.pid;
  const byPid = new Map([...all.values()].map((x) => [x.pid, x]));
  for (let q: ProcInfo | undefined = p, n = 0; q && n < 64; q = byPid.get(q.ppid), n++) {
    if (q.ppid === me) return true;
  }
  const detail = readProc(p.pid);
  if (!detail) return false;
  if (detail.environ.split('\0').includes(runnerMarker)) return true;
  return inWatched(detail.root) || inWatched(detail.cwd) || inWatched(detail.cmdline);
}

// Helpers of the tool chain that live as long as the runner (esbuild's service process).
const runnerHelpers = /node_modules\/(@esbuild\/|esbuild\/)/;

/** What appeared since `before` and is still there. */
export function findLeaks(before: LeakSnapshot, opts: LeakOptions = {}): Leaks {
  const now = snapshotLeaks();
  const mountsBefore = new Map<string, number>();
  for (const m of before.mounts) mountsBefore.set(m, (mountsBefore.get(m) ?? 0) + 1);
  const mounts: string[] = [];
  for (const m of now.mounts) {
    const n = mountsBefore.get(m) ?? 0;
    if (n > 0) mountsBefore.set(m, n - 1);
    else if (!opts.ignoreMounts?.some((r) => r.test(m))) mounts.push(m);
  }
  const cgBefore = new Set(before.cgroups);
  const cgroups = now.cgroups.filter((c) => !cgBefore.has(c) && !MACHINE_CGROUPS.some((r) => r.test(c)) && !opts.ignoreCgroups?.some((r) => r.test(c)));
  const procs = [...now.procs.entries()]
    .filter(([key, p]) => !before.procs.has(key) && p.pid !== process.pid && !runnerHelpers.test(p.cmdline) && isOurs(p, now.procs))
    .map(([, p]) => p);
  const fds = [...now.fds.entries()]
    .filter(([fd, target]) => before.fds.get(fd) !== target)
    .map(([fd, target]) => `${fd} -> ${target}`);
  return { mounts, cgroups, procs, fds };
}

export function formatLeaks(l: Leaks): string {
  const parts: string[] = [];
  if (l.mounts.length) parts.push(`mounts:\n${l.mounts.map((m) => `  ${m}`).join('\n')}`);
  if (l.cgroups.length) parts.push(`cgroups:\n${l.cgroups.map((c) => `  ${c}`).join('\n')}`);
  if (l.procs.length) parts.push(`processes:\n${l.procs.map((p) => `  pid ${p.pid} (ppid ${p.ppid}): ${p.cmdline}`).join('\n')}`);
  if (l.fds.length) parts.push(`open file descriptors:\n${l.fds.map((f) => `  ${f}`).join('\n')}`);
  return parts.join('\n');
}

const isEmpty = (l: Leaks): boolean => !l.mounts.length && !l.cgroups.length && !l.procs.length && !l.fds.length;

/** Throws a readable list of leaks, after letting exiting processes and lazy unmounts settle. */
export async function assertNoLeaks(before: LeakSnapshot, opts: LeakOptions = {}): Promise<void> {
  const deadline = Date.now() + (opts.settleMs ?? 1000);
  let leaks = findLeaks(before, opts);
  while (!isEmpty(leaks) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    leaks = findLeaks(before, opts);
  }
  if (!isEmpty(leaks)) throw new Error(`the test leaked:\n${formatLeaks(leaks)}`);
}

/**
 * Checks every test of the enclosing describe (or file) for leaks. Leak-checked tests of all
 * runners on the machine take turns through a lock, so their diffs see only their own work.
 * Call it before registering the tests' own afterEach hooks: vitest runs after-hooks in reverse
 * order, so the tests' cleanup runs first and the check sees what the cleanup left.
 */
export function useLeakCheck(opts: LeakOptions = {}): void {
  let before: LeakSnapshot | undefined;
  beforeEach(async () => {
    await acquireLock();
    before = snapshotLeaks();
  });
  afterEach(async () => {
    try {
      if (before) await assertNoLeaks(before, opts);
    } finally {
      before = undefined;
      releaseLock();
    }
  });
}
