// berthd for a CLI test: started on fresh temp roots (it starts its own berth-containerd beneath
// them, detached), driven through the built `berth` CLI as a user drives it, and stopped with
// everything it made: containers removed, berthd stopped (SIGTERM, then SIGKILL), its
// berth-containerd stopped by pid file (SIGTERM, then SIGKILL). useBerthd() adds the leak check.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { useLeakCheck } from './leaks.js';
import { tempRoots, type TempRoots } from './roots.js';
import { repoRoot } from './test-image.js';

export const berthBin = join(repoRoot, 'packages', 'client', 'dist', 'berth.cjs');
export const berthdBin = join(repoRoot, 'packages', 'daemon', 'dist', 'berthd.cjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The command line, for messages. */
  cmd: string;
}

export interface BerthdUnderTest {
  roots: TempRoots;
  /** unix:// address of berthd's socket. */
  host: string;
  /** Environment for the CLI: BERTH_HOST set to this berthd. */
  env: NodeJS.ProcessEnv;
  /** argv that runs the built CLI (for a pty or a shell). */
  argv: string[];
  /** Runs `berth ARGS` against this berthd. */
  berth(args: string[], opts?: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<CliResult>;
  /** Like berth(), but throws with both outputs and berthd's log unless it exits 0; returns stdout. */
  ok(args: string[], opts?: { input?: string | Buffer; timeoutMs?: number }): Promise<string>;
  /** berthd's log and berth-containerd's tail, for failure messages. */
  log(): string;
  /** berthd's pid. */
  pid: number;
  /** berth-containerd's pid (from its pid file under --state), or 0. */
  containerdPid(): number;
  /**
   * Kills berthd with `signal` and waits for it to go; this handle then stops nothing (start a
   * new berthd on the same roots with startBerthd({ roots }) and let that one clean up).
   */
  kill(signal: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

export interface StartBerthdOptions {
  /** Existing roots (a restart on the same state); fresh temp roots unless given. */
  roots?: TempRoots;
  /** The berthd bundle to run (e.g. a copy of the build elsewhere: an upgrade). */
  berthdBin?: string;
  /** Extra environment for berthd. */
  env?: NodeJS.ProcessEnv;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<CliResult> {
  const cmd = `berth ${args.map((a) => (/^[\w./:=@-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [berthBin, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${opts.timeoutMs ?? 60_000} ms]`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, cmd });
    });
  });
}

function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z');
  } catch {
    return false;
  }
}

async function stopPid(pid: number): Promise<void> {
  if (!pid || !alive(pid)) return;
  try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
  if (alive(pid)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
  }
}

export async function startBerthd(opts: StartBerthdOptions = {}): Promise<BerthdUnderTest> {
  for (const f of [berthBin, berthdBin, join(repoRoot, 'packages', 'containerd', 'dist', 'berth-containerd.cjs'), join(repoRoot, 'packages', 'shim', 'dist', 'berth-shim.cjs')]) {
    if (!existsSync(f)) throw new Error(`prerequisite missing: ${f} is not built (cd ${repoRoot} && npm run build)`);
  }
  const roots = opts.roots ?? tempRoots();
  const logPath = join(roots.dir, 'berthd.log');
  const socket = join(roots.state, 'berthd.sock');
  const host = `unix://${socket}`;
  const env: NodeJS.ProcessEnv = { ...process.env, BERTH_HOST: host, NO_COLOR: '1' };
  const out = openSync(logPath, 'a');
  const proc: ChildProcess = spawn(process.execPath, [opts.berthdBin ?? berthdBin, '--root', roots.root, '--state', roots.state, '--log-level', 'debug'], { stdio: ['ignore', out, out], env: { ...process.env, ...opts.env } });
  closeSync(out);
  const log = (): string => {
    const c = join(roots.state, 'containerd', 'containerd.log');
    return (existsSync(logPath) ? readFileSync(logPath, 'utf8').slice(-8000) : '') + (existsSync(c) ? `\n--- berth-containerd ---\n${readFileSync(c, 'utf8').slice(-4000)}` : '');
  };
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  let stopped = false;
  const d: BerthdUnderTest = {
    roots,
    host,
    env,
    argv: [process.execPath, berthBin],
    berth: (args, opts = {}) => runCli(args, opts.env ?? env, opts),
    async ok(args, opts) {
      const r = await runCli(args, env, opts);
      if (r.code !== 0) throw new Error(`${r.cmd} exited ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\n--- berthd ---\n${log()}`);
      return r.stdout;
    },
    log,
    pid: proc.pid ?? 0,
    containerdPid() {
      try {
        return Number(readFileSync(join(roots.state, 'containerd', 'containerd.pid'), 'utf8')) || 0;
      } catch {
        return 0;
      }
    },
    async kill(signal) {
      stopped = true;
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill(signal);
        await exited;
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        if (proc.exitCode === null && proc.signalCode === null) {
          const ids = (await runCli(['ps', '-a', '-q', '--no-trunc'], env, { timeoutMs: 20_000 })).stdout.split('\n').filter(Boolean);
          if (ids.length) await runCli(['rm', '-f', ...ids], env, { timeoutMs: 60_000 });
        }
      } finally {
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill('SIGTERM');
          await Promise.race([exited, sleep(10_000)]);
          if (proc.exitCode === null && proc.signalCode === null) {
            proc.kill('SIGKILL');
            await exited;
          }
        }
        let pid = 0;
        try { pid = Number(readFileSync(join(roots.state, 'containerd', 'containerd.pid'), 'utf8')); } catch { /* none started */ }
        await stopPid(pid);
      }
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`berthd exited ${proc.exitCode ?? proc.signalCode}:\n${log()}`);
    if (existsSync(socket) && (await runCli(['version', '--format', '{{.Server.Version}}'], env, { timeoutMs: 5000 })).code === 0) break;
    if (Date.now() > deadline) {
      await d.stop();
      throw new Error(`berthd did not answer on ${socket}:\n${log()}`);
    }
    await sleep(100);
  }
  return d;
}

/** Per test: the leak check, and every berthd started by the test stopped with what it made. */
export function useBerthd(): (opts?: StartBerthdOptions) => Promise<BerthdUnderTest> {
  useLeakCheck({ settleMs: 3000 });
  const made: BerthdUnderTest[] = [];
  afterEach(async () => {
    for (const d of made.splice(0)) await d.stop();
  });
  return async (opts?: StartBerthdOptions) => {
    const d = await startBerthd(opts);
    made.push(d);
    return d;
  };
}
