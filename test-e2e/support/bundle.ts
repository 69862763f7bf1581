// OCI bundles of the busybox test rootfs, and OCI runtimes (Debian's runc, berth-runc) run on them
// the way a user runs them: as a separate process, stdio to files, with its own --root.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { LeakOptions } from './leaks.js';
import { copyTestRootfs, repoRoot } from './test-image.js';

/**
 * Leak-check options for runtime tests: none beyond the harness's own (which already passes over
 * the cgroups this machine's pid 1 makes for every command; a cgroup a runtime makes beneath one
 * is a level deeper and still caught).
 */
export const runtimeLeakOptions: LeakOptions = {};

/** A runtime binary and the argv prefix that runs it. */
export interface Runtime {
  name: string;
  argv: readonly string[];
}

/** Where the bundled berth-runc CLI lives after `npm run build`. */
export const berthRuncPath = join(repoRoot, 'packages', 'runc', 'dist', 'berth-runc.cjs');

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = join(dir, cmd);
    if (existsSync(p)) return p;
  }
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin']) if (existsSync(join(dir, cmd))) return join(dir, cmd);
  return undefined;
}

/** Debian's runc: the oracle. Throws a clear message when it is not installed. */
export function runcRuntime(): Runtime {
  const path = which('runc');
  if (!path) throw new Error("prerequisite missing: Debian's runc is not installed (apt-get install runc); the oracle tests compare against it");
  return { name: 'runc', argv: [path] };
}

/**
 * berth-runc's CLI under the node running the tests. Throws a clear message when it is not built.
 * BERTH_RUNTIME_UNDER_TEST=/path/to/runtime puts another runtime in its place (e.g. runc, to
 * check that the suites pass with the oracle on both sides, or crun).
 */
export function berthRuntime(): Runtime {
  const other = process.env.BERTH_RUNTIME_UNDER_TEST;
  if (other) {
    if (!existsSync(other)) throw new Error(`BERTH_RUNTIME_UNDER_TEST=${other} does not exist`);
    return { name: 'runtime-under-test', argv: [other] };
  }
  if (!existsSync(berthRuncPath)) throw new Error(`prerequisite missing: ${berthRuncPath} is not built (cd ${repoRoot} && npm run build)`);
  return { name: 'berth-runc', argv: [process.execPath, berthRuncPath] };
}

export interface Bundle {
  /** The bundle directory (holds config.json and rootfs/). */
  dir: string;
  /** The bundle's own copy of the test rootfs. */
  rootfs: string;
  /** (Re)writes config.json; root.path defaults to "rootfs". */
  writeConfig(spec: object): void;
  /** The spec last written. */
  spec(): Record<string, unknown>;
}

/**
 * Makes `<parent>/<name>` holding a private copy of the busybox rootfs (`cp -a`, no bind
 * mounts, so nothing needs unmounting) and a config.json from `spec` when given.
 */
export function makeBundle(parent: string, spec?: object, name = 'bundle'): Bundle {
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  const rootfs = copyTestRootfs(join(dir, 'rootfs'));
  let last: Record<string, unknown> = {};
  const bundle: Bundle = {
    dir,
    rootfs,
    writeConfig(s: object) {
      const copy = structuredClone(s) as Record<string, unknown> & { root?: { path?: string } };
      copy.root = { ...(copy.root ?? {}), path: copy.root?.path ?? 'rootfs' };
      last = copy;
      writeFileSync(join(dir, 'config.json'), JSON.stringify(copy, null, 2) + '\n');
    },
    spec: () => structuredClone(last),
  };
  if (spec) bundle.writeConfig(spec);
  return bundle;
}

/** `runc spec` output (runc's default config.json), read from a scratch directory. */
export function runcDefaultSpec(scratch: string): Record<string, unknown> {
  const rt = runcRuntime();
  const dir = join(scratch, `runc-spec-${process.hrtime.bigint()}`);
  mkdirSync(dir, { recursive: true });
  execFileSync(rt.argv[0]!, [...rt.argv.slice(1), 'spec', '--bundle', dir]);
  return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
}

export interface RunResult {
  /** Exit status, or 128+signal as a shell reports it; -1 on a timeout. */
  code: number;
  /** The files stdout and stderr went to: a container started by this call goes on writing there. */
  stdoutPath: string;
  stderrPath: string;
  stdout: string;
  stderr: string;
  /** The --log file's text ('' when not asked for). */
  log: string;
  timedOut: boolean;
}

export interface RunOptions {
  /** --root for the runtime's state. */
  root: string;
  /** Where stdout/stderr/log files go (a temp dir). */
  scratch: string;
  /** Extra global flags (before the command), e.g. ['--systemd-cgroup']. */
  globals?: readonly string[];
  /** Write a --log file in json format and return it. */
  jsonLog?: boolean;
  cwd?: string;
  timeoutMs?: number;
}

let seq = 0;

/**
 * Runs `<runtime> --root ROOT [--log F --log-format json] ARGS...` with stdin from /dev/null and
 * stdout/stderr to real files (so a container started by it holds files, never pipes or sockets
 * of ours), waits for it to exit, and returns what it wrote.
 */
export async function runRuntime(rt: Runtime, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const n = ++seq;
  const base = join(opts.scratch, `${rt.name}-${n}`);
  const outPath = `${base}.out`;
  const errPath = `${base}.err`;
  const logPath = `${base}.log.json`;
  const stdin = openSync('/dev/null', 'r');
  const stdout = openSync(outPath, 'w');
  const stderr = openSync(errPath, 'w');
  const argv = [
    ...rt.argv.slice(1),
    '--root', opts.root,
    ...(opts.jsonLog ? ['--log', logPath, '--log-format', 'json'] : []),
    ...(opts.globals ?? []),
    ...args,
  ];
  let timedOut = false;
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(rt.argv[0]!, argv, { stdio: [stdin, stdout, stderr], cwd: opts.cwd ?? opts.scratch, env: process.env });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 20_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (c, sig) => {
      clearTimeout(timer);
      resolve(timedOut ? -1 : sig ? 128 + constants.signals[sig] : (c ?? -1));
    });
  });
  closeSync(stdin);
  closeSync(stdout);
  closeSync(stderr);
  return {
    code,
    stdoutPath: outPath,
    stderrPath: errPath,
    stdout: readFileSync(outPath, 'utf8'),
    stderr: readFileSync(errPath, 'utf8'),
    log: opts.jsonLog && existsSync(logPath) ? readFileSync(logPath, 'utf8') : '',
    timedOut,
  };
}

/** A runtime's failure as text for an assertion message. */
export function describeRun(rt: Runtime, r: RunResult): string {
  return `${rt.name} exited ${r.timedOut ? '(timed out)' : r.code}\n--- stderr\n${r.stderr}--- stdout\n${r.stdout}${r.log ? `--- log\n${r.log}` : ''}`;
}
