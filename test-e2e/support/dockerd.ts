// A private Docker daemon for one test file: Debian's dockerd (docker.io) with its own data root,
// exec root, pid file, socket, config file and cgroup parent, so it never meets the machine's own
// Docker (if any) or another test's, and its teardown removes only what it made.
//
// - dockerd starts its own containerd (no --containerd), under <exec-root>/containerd; no systemd.
// - Storage driver overlay2; network: --bridge=none, no iptables, no userland proxy (containers
//   get only their own loopback; tests also pass --network none).
// - cgroupfs driver with a unique --cgroup-parent: containers live at /<parent>/<id> in every
//   hierarchy, and teardown removes /<parent> and nothing else.
// - Extra runtimes (--add-runtime) are reached through a generated wrapper that records each call
//   and keeps a copy of the runtime's --log (containerd-shim-runc-v2 passes <bundle>/log.json,
//   which goes away with the bundle), so a failure can be shown with the runtime's own words.
//
// Teardown: SIGTERM dockerd (it stops its containers and containerd), wait, SIGKILL; then thaw and
// kill whatever is left in its cgroups or runs from its roots (containers, shims, containerd),
// unmount everything under its roots (deepest first, lazily if need be), remove its cgroups and
// roots, and the host-wide files Docker itself creates when they were not there before.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { tempRoots, type TempRoots } from './roots.js';

export interface DockerResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The command line, for messages. */
  cmd: string;
  ms: number;
}

export interface DockerdOptions {
  /** name -> absolute path of an OCI runtime with runc's CLI, passed as --add-runtime. */
  runtimes?: Record<string, string>;
  /** Storage driver; overlay2 unless told. */
  storageDriver?: string;
  /** Passes --debug to dockerd (its log then holds every containerd/runtime call). Default true. */
  debug?: boolean;
  /** How long to wait for the daemon to answer. */
  startTimeoutMs?: number;
}

export interface Dockerd {
  /** Parent of everything the daemon owns. */
  dir: string;
  dataRoot: string;
  execRoot: string;
  socket: string;
  /** dockerd's (and its containerd's) log. */
  logFile: string;
  /** The cgroup parent, without leading slash: containers are at /<cgroupParent>/<id>. */
  cgroupParent: string;
  /** The docker CLI used (Debian's, matching the daemon). */
  dockerBin: string;
  /** Environment for the docker CLI: private config dir, no DOCKER_HOST/DOCKER_CONTEXT. */
  clientEnv: NodeJS.ProcessEnv;
  /** The CLI's argv prefix: [dockerBin, '-H', 'unix://<socket>']. */
  cli: string[];
  /** Runs the docker CLI against this daemon. */
  docker(args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<DockerResult>;
  /** Like docker(), but throws (with the daemon's recent errors) unless it exits 0. */
  dockerOk(args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<string>;
  /** The last `lines` lines of the daemon's log, optionally only those matching `filter`. */
  logTail(lines?: number, filter?: RegExp): string;
  /** Every recorded call of the wrapped runtime `name`, one per line. */
  runtimeCalls(name: string): string;
  /** The kept copies of the runtime `name`'s --log files: container id -> content. */
  runtimeLogs(name: string): Record<string, string>;
  /** Pids of every process in the daemon's cgroup parent (its containers' processes). */
  cgroupPids(): number[];
  /** Starts a new chapter: evidence() shows only what the daemon and runtimes wrote after it. */
  mark(): void;
  /** Daemon warnings and errors and runtime calls and logs since the last mark(), for a failure message. */
  evidence(): string;
  /** Stops and removes everything (idempotent). Returns what had to be forced, for the record. */
  stop(): Promise<string[]>;
}

const CGROUP_BASE = '/sys/fs/cgroup';

function findBin(names: string[], envName?: string): string | undefined {
  const fromEnv = envName ? process.env[envName] : undefined;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  for (const n of names) {
    if (n.startsWith('/')) {
      if (existsSync(n)) return n;
      continue;
    }
    for (const d of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
      if (d && existsSync(join(d, n))) return join(d, n);
    }
  }
  return undefined;
}

/** dockerd and the docker CLI; throws a clear error when docker.io is missing. */
export function dockerBinaries(): { dockerd: string; docker: string } {
  // Prefer Debian's CLI (/usr/bin/docker) over another one earlier in PATH: it matches the daemon.
  const dockerd = findBin(['/usr/sbin/dockerd', 'dockerd'], 'BERTH_DOCKERD');
  const docker = findBin(['/usr/bin/docker', 'docker'], 'BERTH_DOCKER_CLI');
  const missing = [!dockerd && 'dockerd', !docker && 'docker'].filter(Boolean);
  if (missing.length || !dockerd || !docker) {
    throw new Error(`${missing.join(' and ')} not found: install Debian's docker.io (tools/setup.sh does: apt-get install docker.io containerd runc)`);
  }
  for (const b of ['containerd', 'containerd-shim-runc-v2', 'runc']) {
    if (!findBin([b])) {
      throw new Error(`${b} not found in PATH: dockerd needs it (apt-get install containerd runc)`);
    }
  }
  return { dockerd, docker };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const shq = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Runs a command to its end, with a time limit (SIGKILL on expiry). */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<DockerResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${opts.timeoutMs ?? 60_000} ms]`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      stderr += String(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, cmd: [cmd, ...args].map(shq).join(' '), ms: Date.now() - started });
    });
  });
}

/** Mount points (paths) at or under `dir` in our mount namespace, deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === dir || m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

/** Every cgroup hierarchy's mount point (v1 controllers, named ones, the unified one). */
function cgroupHierarchies(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => / - cgroup2? /.test(l))
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === CGROUP_BASE || m.startsWith(CGROUP_BASE + '/'));
}

/** Directories at and below `top`, deepest first. */
function dirsDeepestFirst(top: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(join(d, e.name));
    out.push(d);
  };
  if (existsSync(top)) walk(top);
  return out;
}

/** Pids of processes that run from `dir` (command line, root or cwd inside it). */
function procsFrom(dir: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const link = (n: string): string => {
        try {
          return readlinkSync(`/proc/${pid}/${n}`);
        } catch {
          return '';
        }
      };
      const inside = (s: string): boolean => s === dir || s.startsWith(dir + '/') || s.includes(`=${dir}/`) || s.includes(`unix://${dir}/`);
      if (cmdline.some(inside) || inside(link('root')) || inside(link('cwd'))) out.push(pid);
    } catch {
      // gone
    }
  }
  return out;
}

function cgroupPids(parent: string): number[] {
  const pids = new Set<number>();
  for (const h of cgroupHierarchies()) {
    for (const d of dirsDeepestFirst(join(h, parent))) {
      try {
        for (const p of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.add(Number(p));
      } catch {
        // removed meanwhile
      }
    }
  }
  return [...pids];
}

const alive = (pid: number): boolean => {
  try {
    // A zombie counts as gone: its parent reaps it.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
};

/** Host-wide paths Docker creates outside its roots; removed after if they were not there before. */
const HOST_FILES = ['/etc/docker/key.json'];
const HOST_DIRS = ['/run/containerd/s', '/run/containerd', '/run/docker/plugins', '/run/docker'];

export async function startDockerd(opts: DockerdOptions = {}): Promise<Dockerd> {
  const bins = dockerBinaries();
  for (const [name, path] of Object.entries(opts.runtimes ?? {})) {
    if (!/^[a-z][a-z0-9_-]*$/.test(name)) throw new Error(`bad runtime name ${name}`);
    if (!existsSync(path)) throw new Error(`runtime ${name}: ${path} does not exist (built? npm run build)`);
  }
  const roots: TempRoots = tempRoots(); // /tmp/berth-t-XXXX: short, watched by the leak check
  const dir = roots.dir;
  const dataRoot = roots.root;
  const execRoot = roots.state;
  const socket = join(dir, 'docker.sock');
  const logFile = join(dir, 'dockerd.log');
  const cgroupParent = `berth-e2e-docker-${dir.slice(dir.lastIndexOf('-') + 1)}`;
  const hostBefore = new Set([...HOST_FILES, ...HOST_DIRS].filter((p) => existsSync(p)));
  const clientConfig = join(dir, 'client');
  mkdirSync(clientConfig);
  writeFileSync(join(clientConfig, 'config.json'), '{}\n');
  const clientEnv: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: clientConfig };
  delete clientEnv.DOCKER_HOST;
  delete clientEnv.DOCKER_CONTEXT;
  delete clientEnv.DOCKER_TLS_VERIFY;
  delete clientEnv.DOCKER_CERT_PATH;

  // Runtime wrappers: record the call, run the runtime, keep its --log.
  const rtDir = join(dir, 'rt');
  mkdirSync(join(rtDir, 'logs'), { recursive: true });
  const runtimeArgs: string[] = [];
  for (const [name, path] of Object.entries(opts.runtimes ?? {})) {
    const wrapper = join(rtDir, name);
    mkdirSync(join(rtDir, 'logs', name));
    writeFileSync(
      wrapper,
      [
        '#!/bin/sh',
        '# Generated by test-e2e/support/dockerd.ts: records the call, runs the runtime, keeps a copy of its --log.',
        `printf '%s\\n' "$*" >> ${shq(join(rtDir, `${name}.calls`))}`,
        'log=; prev=',
        'for a in "$@"; do',
        '  case "$a" in --log=*) log=${a#--log=} ;; esac',
        '  [ "$prev" = --log ] && log=$a',
        '  prev=$a',
        'done',
        `${shq(path)} "$@"`,
        'rc=$?',
        `[ -n "$log" ] && [ -f "$log" ] && cp "$log" ${shq(join(rtDir, 'logs', name))}/"$(basename "$(dirname "$log")")".json 2>/dev/null`,
        'exit $rc',
        '',
      ].join('\n'),
    );
    chmodSync(wrapper, 0o755);
    runtimeArgs.push('--add-runtime', `${name}=${wrapper}`);
  }

  const configFile = join(dir, 'daemon.json'); // not /etc/docker/daemon.json
  writeFileSync(configFile, '{}\n');
  const args = [
    '--config-file', configFile,
    '--data-root', dataRoot,
    '--exec-root', execRoot,
    '--pidfile', join(dir, 'docker.pid'),
    '-H', `unix://${socket}`,
    '--bridge=none',
    '--iptables=false',
    '--ip6tables=false',
    '--ip-forward=false',
    '--ip-masq=false',
    '--userland-proxy=false',
    '--storage-driver', opts.storageDriver ?? 'overlay2',
    '--exec-opt', 'native.cgroupdriver=cgroupfs',
    '--cgroup-parent', `/${cgroupParent}`,
    '--shutdown-timeout', '5',
    ...runtimeArgs,
    ...(opts.debug === false ? [] : ['--debug']),
  ];
  const logFd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    writeFileSync(logFd, `# ${[bins.dockerd, ...args].map(shq).join(' ')}\n`);
    child = spawn(bins.dockerd, args, { stdio: ['ignore', logFd, logFd], detached: true, cwd: dir });
  } finally {
    closeSync(logFd);
  }
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((res) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      res();
    });
    child.on('error', (e) => {
      exited = { code: null, signal: null };
      writeFileSync(logFile, `\n# spawn failed: ${String(e)}\n`, { flag: 'a' });
      res();
    });
  });

  const cli = [bins.docker, '-H', `unix://${socket}`];
  let markOffset = 0;
  let markCalls: Record<string, number> = {};
  let markTime = 0;
  const readLog = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const logTail = (lines = 40, filter?: RegExp, from = 0): string => {
    const text = readLog().slice(from);
    let ls = text.split('\n').filter(Boolean);
    if (filter) ls = ls.filter((l) => filter.test(l));
    return ls.slice(-lines).join('\n');
  };
  const runtimeCalls = (name: string): string => {
    try {
      return readFileSync(join(rtDir, `${name}.calls`), 'utf8');
    } catch {
      return '';
    }
  };
  const runtimeLogs = (name: string): Record<string, string> => {
    const out: Record<string, string> = {};
    const d = join(rtDir, 'logs', name);
    for (const f of existsSync(d) ? readdirSync(d) : []) out[f.replace(/\.json$/, '')] = readFileSync(join(d, f), 'utf8');
    return out;
  };
  const mark = (): void => {
    markOffset = readLog().length;
    markTime = Date.now();
    markCalls = Object.fromEntries(Object.keys(opts.runtimes ?? {}).map((n) => [n, runtimeCalls(n).length]));
  };
  const evidence = (): string => {
    const parts = [`dockerd log (${logFile}), warnings and errors:\n${logTail(25, /level=(error|warning|fatal)|panic/, markOffset) || '(none)'}`];
    for (const name of Object.keys(opts.runtimes ?? {})) {
      const calls = runtimeCalls(name).slice(markCalls[name] ?? 0).trim().split('\n').filter(Boolean).slice(-12).join('\n');
      if (calls) parts.push(`${name}: calls:\n${calls}`);
      const d = join(rtDir, 'logs', name);
      for (const [id, log] of Object.entries(runtimeLogs(name))) {
        try {
          if (statSync(join(d, `${id}.json`)).mtimeMs < markTime) continue;
        } catch {
          continue;
        }
        const lines = log.trim().split('\n').filter((l) => !/"level":"(debug|info)"/.test(l)).slice(-8);
        if (lines.length) parts.push(`${name} --log of ${id.slice(0, 12)}:\n${lines.join('\n')}`);
      }
    }
    return parts.join('\n\n');
  };
  const docker = (a: string[], o: { timeoutMs?: number; input?: string } = {}): Promise<DockerResult> =>
    run(cli[0]!, [...cli.slice(1), ...a], { env: clientEnv, ...o });
  const dockerOk = async (a: string[], o: { timeoutMs?: number; input?: string } = {}): Promise<string> => {
    const r = await docker(a, o);
    if (r.code !== 0) throw new Error(`${r.cmd} exited ${r.code ?? r.signal}:\n${r.stderr}${r.stdout}\n\n${evidence()}`);
    return r.stdout;
  };

  let stopped = false;
  const stop = async (): Promise<string[]> => {
    if (stopped) return [];
    stopped = true;
    const forced: string[] = [];
    // 1. dockerd: SIGTERM stops its containers (shutdown-timeout 5 s) and its containerd.
    if (!exited && child.pid) {
      child.kill('SIGTERM');
      await Promise.race([exitPromise, sleep(25_000)]);
      if (!exited) {
        forced.push(`dockerd ${child.pid} ignored SIGTERM for 25 s: SIGKILL`);
        child.kill('SIGKILL');
        await Promise.race([exitPromise, sleep(5_000)]);
      }
    }
    // Container ids (and shim namespaces), for the shim sockets a killed shim leaves behind.
    const shims = new Set<string>();
    try {
      for (const id of readdirSync(join(dataRoot, 'containers'))) shims.add(`moby/${id}`);
    } catch {
      // no container was ever made
    }
    // 2. Leftovers: thaw frozen cgroups (a frozen task cannot die), then kill what is in its
    //    cgroups or runs from its roots (containers, shims, containerd, runtimes).
    for (let round = 0; round < 50; round++) {
      const freezer = cgroupHierarchies().find((h) => h.endsWith('/freezer'));
      if (freezer) {
        for (const d of dirsDeepestFirst(join(freezer, cgroupParent))) {
          try {
            if (readFileSync(join(d, 'freezer.state'), 'utf8').trim() !== 'THAWED') writeFileSync(join(d, 'freezer.state'), 'THAWED');
          } catch {
            // the root of a hierarchy has no freezer.state; or removed meanwhile
          }
        }
      }
      const pids = [...new Set([...cgroupPids(cgroupParent), ...procsFrom(dir)])].filter(alive);
      if (!pids.length) break;
      for (const pid of pids) {
        if (round === 0) {
          let cmd = '';
          try {
            cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
          } catch {
            // gone
          }
          forced.push(`killed leftover pid ${pid}: ${cmd}`);
          const shim = / -namespace (\S+) -id (\S+) /.exec(cmd);
          if (shim) shims.add(`${shim[1]}/${shim[2]}`);
        }
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await sleep(100);
    }
    // 3. Mounts under its roots, deepest first; lazily when busy.
    for (let round = 0; round < 5; round++) {
      const ms = mountsUnder(dir);
      if (!ms.length) break;
      for (const m of ms) {
        if (round === 0) forced.push(`unmounted ${m}`);
        try {
          execFileSync('umount', [m], { stdio: 'ignore' });
        } catch {
          try {
            execFileSync('umount', ['-l', m], { stdio: 'ignore' });
          } catch {
            // already gone with its parent
          }
        }
      }
    }
    // 4. Its cgroups, in every hierarchy (only /<cgroupParent>, never above).
    const deadline = Date.now() + 10_000;
    for (const h of cgroupHierarchies()) {
      for (const d of dirsDeepestFirst(join(h, cgroupParent))) {
        for (;;) {
          try {
            rmdirSync(d);
            break;
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            if (code === 'ENOENT') break;
            if (Date.now() > deadline) {
              forced.push(`could not remove cgroup ${d}: ${code}`);
              break;
            }
            await sleep(50);
          }
        }
      }
    }
    // 5. Sockets of shims that did not get to remove their own: containerd 1.6 puts them at
    //    /run/containerd/s/<sha256(<containerd address>/<namespace>/<id>)>, outside our roots.
    const address = join(execRoot, 'containerd', 'containerd.sock');
    for (const s of shims) {
      const sock = join('/run/containerd/s', createHash('sha256').update(`${address}/${s}`).digest('hex'));
      if (existsSync(sock)) {
        forced.push(`removed shim socket ${sock} (${s})`);
        rmSync(sock, { force: true });
      }
    }
    // 6. Host-wide files and directories Docker made that were not there before (if empty).
    for (const f of HOST_FILES) if (!hostBefore.has(f)) rmSync(f, { force: true });
    for (const d of HOST_DIRS) {
      if (hostBefore.has(d)) continue;
      try {
        rmdirSync(d);
      } catch {
        // absent, or in use by someone else
      }
    }
    // 7. Its roots.
    const left = mountsUnder(dir);
    if (left.length) throw new Error(`dockerd teardown: still mounted under ${dir}:\n  ${left.join('\n  ')}`);
    roots.cleanup();
    return forced;
  };

  // Wait for the daemon to answer.
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) {
      const log = logTail(30);
      await stop();
      throw new Error(`dockerd exited (${exited.code ?? exited.signal}) before answering:\n${log}`);
    }
    const r = await run(cli[0]!, [...cli.slice(1), 'version', '--format', '{{.Server.Version}}'], { env: clientEnv, timeoutMs: 10_000 });
    if (r.code === 0 && r.stdout.trim()) break;
    if (Date.now() > deadline) {
      const log = logTail(30);
      await stop();
      throw new Error(`dockerd did not answer within ${opts.startTimeoutMs ?? 60_000} ms:\n${r.stderr}\n${log}`);
    }
    await sleep(100);
  }

  return {
    dir,
    dataRoot,
    execRoot,
    socket,
    logFile,
    cgroupParent,
    dockerBin: bins.docker,
    clientEnv,
    cli,
    docker,
    dockerOk,
    logTail,
    runtimeCalls,
    runtimeLogs,
    mark,
    evidence,
    cgroupPids: () => cgroupPids(cgroupParent).filter(alive),
    stop,
  };
}

/** Imports the busybox test image tar as `ref` (docker import; no registry involved). */
export async function importTestImage(d: Dockerd, tar: string, ref = 'berth-test/busybox:latest'): Promise<string> {
  return (await d.dockerOk(['import', tar, ref], { timeoutMs: 120_000 })).trim();
}

export interface PtySession {
  /** Everything the terminal has shown so far. */
  output(): string;
  /** Waits until the output (from `from` on) matches `re`; throws with the output on timeout. */
  waitFor(re: RegExp, timeoutMs?: number, from?: number): Promise<RegExpMatchArray>;
  /** Types `s` on the terminal's keyboard. */
  write(s: string): void;
  /** Resolves when the command ends, with its exit code (script -e passes the child's on). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

/**
 * Runs `argv` on a real pseudo-terminal of `rows` x `cols`, as a person at a terminal would: util-linux
 * `script` makes the pty, `stty` sizes it from inside (its stdin is then the pty), and the
 * command starts on it. Writes to `write()` are keystrokes.
 */
export function runInPty(argv: string[], opts: { rows: number; cols: number; env?: NodeJS.ProcessEnv }): PtySession {
  const inner = `stty rows ${opts.rows} cols ${opts.cols} && exec ${argv.map(shq).join(' ')}`;
  const child = spawn('script', ['-qfec', inner, '/dev/null'], {
    env: { TERM: 'xterm', ...(opts.env ?? process.env) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: string): void => {
    out += d;
    for (const w of [...waiters]) w();
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  child.stdin.on('error', () => {});
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.on('close', (code, signal) => {
      done = true;
      child.stdin.destroy();
      for (const w of [...waiters]) w();
      res({ code, signal });
    });
    child.on('error', (e) => {
      out += `\n[script: ${String(e)}]`;
    });
  });
  return {
    output: () => out,
    write: (s) => {
      child.stdin.write(s);
    },
    waitFor(re, timeoutMs = 20_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = out.slice(from).match(re);
          if (m) {
            cleanup();
            resolve(m);
          } else if (done) {
            cleanup();
            reject(new Error(`the terminal ended before showing ${re}; it showed:\n${JSON.stringify(out)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`the terminal did not show ${re} within ${timeoutMs} ms; it showed:\n${JSON.stringify(out)}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    exited,
    kill: () => {
      if (!done) child.kill('SIGKILL');
    },
  };
}
