/**
 * Drives build/berth-runc-init directly: hand-written plans in, records out. Shared by the
 * native tests; every Run registers itself so afterEach can kill what a failed test left.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Socket } from 'node:net';
import { decodeRecord, encodePlan, encodeRecord, type PlanRecord } from '../../src/plan/records';

export const NATIVE_DIR = resolve(__dirname, '..');
export const HELPER = join(NATIVE_DIR, 'build', 'berth-runc-init');
export const RECVTTY = join(NATIVE_DIR, 'build', 'recvtty');

export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, REMOUNT: 32, BIND: 4096, REC: 16384,
  PRIVATE: 1 << 18, SLAVE: 1 << 19, RELATIME: 1 << 21, STRICTATIME: 1 << 24,
} as const;

/** Builds the helper and the test tools (atomic renames make parallel builds safe). */
export function build(): void {
  execFileSync('make', ['-s', '-C', NATIVE_DIR, 'helper', 'test-tools'], { stdio: 'pipe' });
}

const APPLETS = ['sh', 'cat', 'echo', 'id', 'ls', 'grep', 'sleep', 'hostname', 'mount', 'stat', 'mkdir', 'touch', 'readlink', 'true', 'false', 'env', 'umask', 'head', 'sed', 'tr', 'wc', 'test', 'kill', 'ps', 'stty', 'tty', 'cut', 'sort'];

/** A temp dir holding rootfs/ (busybox and its applet links) and scratch space. */
export function makeRootfs(): { dir: string; rootfs: string } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-init-test-'));
  const rootfs = join(dir, 'rootfs');
  chmodSync(dir, 0o755); // a user namespace's root (an unprivileged host uid) must reach the rootfs
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc', 'usr/bin', 'data']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  execFileSync('chmod', ['755', join(rootfs, 'bin', 'busybox')]);
  for (const a of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', a));
  return { dir, rootfs };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The records that make a Docker-like container over `rootfs`: new namespaces, /proc, /dev. */
export function containerPlan(rootfs: string, args: string[], extra: PlanRecord[] = []): PlanRecord[] {
  return [
    ['mode', 'create'],
    ['foreground', 1],
    ...(['pid', 'mnt', 'uts', 'ipc', 'net'] as const).map((t): PlanRecord => ['unshare', t]),
    ['rootfs', rootfs],
    ['rootpropagation', MS.REC | MS.PRIVATE],
    ['mount', 'proc', '/proc', 'proc', MS.NOSUID | MS.NOEXEC | MS.NODEV, '', 0],
    ['mount', 'tmpfs', '/dev', 'tmpfs', MS.NOSUID | MS.STRICTATIME, 'mode=755,size=65536k', 0],
    ['mount', 'devpts', '/dev/pts', 'devpts', MS.NOSUID | MS.NOEXEC, 'newinstance,ptmxmode=0666,mode=0620', 0],
    ['mknod', '/dev/null', 'c', 1, 3, 0o666, 0, 0],
    ['mknod', '/dev/zero', 'c', 1, 5, 0o666, 0, 0],
    ['mknod', '/dev/urandom', 'c', 1, 9, 0o666, 0, 0],
    ['mknod', '/dev/tty', 'c', 5, 0, 0o666, 0, 0],
    ['symlink', '/proc/self/fd', '/dev/fd'],
    ['symlink', 'pts/ptmx', '/dev/ptmx'],
    ['pivot', 1],
    ['env', 'PATH=/usr/local/bin:/usr/bin:/bin'],
    ['cwd', '/'],
    ...args.map((a): PlanRecord => ['arg', a]),
    ...extra,
  ];
}

const live = new Set<Run>();

/** Kills every helper and container process a test started and has not waited for. */
export function killAll(): void {
  for (const run of live) run.kill();
  live.clear();
}

export interface RunOptions {
  dir: string;
  stdin?: number | 'ignore';
  /** Extra fds passed as 3.. (preserve-fds); the control socket comes after them. */
  preserve?: number[];
}

export class Run {
  readonly proc: ChildProcess;
  readonly records: string[][] = [];
  readonly stdoutPath: string;
  readonly stderrPath: string;
  pid = 0;
  private ctl: Socket;
  private buf = '';
  private waiters: Array<() => void> = [];
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  readonly ctlClosed: Promise<void>;

  constructor(plan: PlanRecord[] | string, opts: RunOptions) {
    const n = live.size + Math.floor(Math.random() * 1e9);
    this.stdoutPath = join(opts.dir, `out-${n}`);
    this.stderrPath = join(opts.dir, `err-${n}`);
    const out = openSync(this.stdoutPath, 'w');
    const err = openSync(this.stderrPath, 'w');
    const preserve = opts.preserve ?? [];
    const ctlFd = 3 + preserve.length;
    this.proc = spawn(HELPER, [], {
      stdio: [opts.stdin ?? 'ignore', out, err, ...preserve, 'pipe'],
      env: { BERTH_INIT_FD: String(ctlFd) },
    });
    closeSync(out);
    closeSync(err);
    live.add(this);
    this.exited = new Promise((res) => this.proc.on('exit', (code, signal) => res({ code, signal })));
    this.ctl = this.proc.stdio[ctlFd] as Socket;
    this.ctl.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const rec = decodeRecord(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
        if (rec[0] === 'pid') this.pid = Number(rec[1]);
        this.records.push(rec);
      }
      this.wake();
    });
    this.ctlClosed = new Promise((res) => this.ctl.on('close', () => res()));
    this.ctl.on('close', () => this.wake());
    this.ctl.on('error', () => {});
    this.ctl.write(typeof plan === 'string' ? plan : encodePlan(plan));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves with the first record named `name`; rejects on `error` (unless waited for) or EOF. */
  async waitFor(name: string, timeoutMs = 10000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rec = this.records.find((r) => r[0] === name);
      if (rec) return rec;
      const err = this.records.find((r) => r[0] === 'error');
      if (err) throw new Error(`helper error: ${err[1]}`);
      if (this.ctl.destroyed || this.ctl.readableEnded) {
        throw new Error(`helper closed control without ${name}; records ${JSON.stringify(this.records)}; stderr ${this.stderr()}`);
      }
      if (Date.now() > deadline) throw new Error(`timeout waiting for ${name}; records ${JSON.stringify(this.records)}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  /** The `error` message the helper sent (waits for the helper to exit). */
  async error(): Promise<string> {
    await this.exited;
    await this.ctlClosed; // 'exit' can come before the last data on the socket
    const err = this.records.find((r) => r[0] === 'error');
    if (!err) throw new Error(`no error record; records ${JSON.stringify(this.records)}`);
    return err[1] ?? '';
  }

  send(record: PlanRecord): void {
    this.ctl.write(encodeRecord(record));
  }

  /** Foreground: waits for `exit` and the helper's own exit; returns the status. */
  async exitStatus(timeoutMs = 10000): Promise<number> {
    const rec = await this.waitFor('exit', timeoutMs);
    const { code } = await this.exited;
    live.delete(this);
    if (code !== Number(rec[1])) throw new Error(`helper exit ${code} != exit record ${rec[1]}`);
    return Number(rec[1]);
  }

  stdout(): string {
    return existsSync(this.stdoutPath) ? readFileSync(this.stdoutPath, 'utf8') : '';
  }

  stderr(): string {
    return existsSync(this.stderrPath) ? readFileSync(this.stderrPath, 'utf8') : '';
  }

  kill(): void {
    for (const pid of [this.pid, this.proc.pid]) {
      if (!pid) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
  }
}

/** Runs a foreground container to completion: its exit status and stdout. */
export async function runToExit(plan: PlanRecord[], opts: RunOptions): Promise<{ status: number; out: string; run: Run }> {
  const run = new Run(plan, opts);
  await run.waitFor('ready');
  const status = await run.exitStatus();
  return { status, out: run.stdout(), run };
}

export function nsLink(pid: number | 'self', type: string): string {
  return execFileSync('readlink', [`/proc/${pid}/ns/${type}`]).toString().trim();
}
