import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime, RuntimeStdio } from './runtime.js';
import { ShimError } from './errors.js';

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Any runc-compatible runtime through its command line (runc, crun, berth-runc's CLI), as
 * containerd's shim drives runc with go-runc: `--root` under the shim's directory, `--log` in
 * json so a failure can be reported in the runtime's own words, the container's stdio as the
 * runtime's own for create/exec, and `--console-socket` for a terminal. `runc create` exits once
 * the init waits for start; the init is then reparented to the shim (the subreaper).
 */
export class CliRuntime implements Runtime {
  private execSeq = 0;
  constructor(
    readonly name: string,
    private readonly extraArgs: readonly string[],
    private readonly root: string,
    private readonly dir: string,
    private readonly logPath: string,
  ) {}

  async create(id: string, bundle: string, io: RuntimeStdio): Promise<number> {
    const pidFile = join(this.dir, 'init.pid');
    rmSync(pidFile, { force: true });
    const args = ['create', '--bundle', bundle, '--pid-file', pidFile];
    if (io.consoleSocket) args.push('--console-socket', io.consoleSocket);
    await this.ok([...args, id], io.stdio);
    return Number(readFileSync(pidFile, 'utf8').trim());
  }
  async start(id: string): Promise<void> {
    await this.ok(['start', id]);
  }
  async kill(id: string, signal: number, all: boolean): Promise<void> {
    await this.ok(['kill', ...(all ? ['--all'] : []), id, String(signal)]);
  }
  async exec(id: string, _execId: string, process: object, io: RuntimeStdio): Promise<number> {
    const n = ++this.execSeq;
    const procFile = join(this.dir, `exec-${n}.json`);
    const pidFile = join(this.dir, `exec-${n}.pid`);
    writeFileSync(procFile, JSON.stringify(process));
    try {
      const args = ['exec', '--detach', '--process', procFile, '--pid-file', pidFile];
      if (io.consoleSocket) args.push('--console-socket', io.consoleSocket);
      await this.ok([...args, id], io.stdio);
      return Number(readFileSync(pidFile, 'utf8').trim());
    } finally {
      rmSync(procFile, { force: true });
      rmSync(pidFile, { force: true });
    }
  }
  async delete(id: string, force: boolean): Promise<void> {
    await this.ok(['delete', ...(force ? ['--force'] : []), id]);
  }
  async pause(id: string): Promise<void> {
    await this.ok(['pause', id]);
  }
  async resume(id: string): Promise<void> {
    await this.ok(['resume', id]);
  }
  async ps(id: string): Promise<number[]> {
    const r = await this.ok(['ps', '--format', 'json', id]);
    const pids = JSON.parse(r.stdout || '[]') as number[] | null;
    return pids ?? [];
  }
  async stats(): Promise<undefined> {
    return undefined; // crun has no `events --stats`: the shim reads the cgroup for every CLI runtime
  }
  async update(id: string, resources: object): Promise<void> {
    const file = join(this.dir, 'update.json');
    writeFileSync(file, JSON.stringify(resources));
    try {
      await this.ok(['update', '--resources', file, id]);
    } finally {
      rmSync(file, { force: true });
    }
  }

  /** Runs one command; a non-zero exit becomes an error carrying the runtime's message. */
  private async ok(args: string[], stdio?: [number, number, number]): Promise<RunResult> {
    const r = await this.run(args, stdio);
    if (r.code !== 0) {
      const why = this.lastLogError() || r.stderr.trim() || `exit status ${r.code}`;
      throw ShimError.fromRuntime(`${this.name} ${args[0]}: ${why}`);
    }
    return r;
  }

  private run(args: string[], stdio?: [number, number, number]): Promise<RunResult> {
    const argv = [...this.extraArgs, '--root', this.root, '--log', this.logPath, '--log-format', 'json', ...args];
    return new Promise((resolve, reject) => {
      const child = spawn(this.name, argv, { stdio: stdio ?? ['ignore', 'pipe', 'pipe'], cwd: this.dir });
      let stdout = '';
      let stderr = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', (e) => reject(ShimError.fromRuntime(`cannot run ${this.name}: ${e.message}`)));
      child.on('close', (code, signal) => resolve({ code: signal ? 128 : (code ?? 0), stdout, stderr }));
    });
  }

  /** The last error the runtime wrote to its json log (runc's `{"level":"error","msg":...}`). */
  private lastLogError(): string {
    let text = '';
    try {
      text = readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
    const lines = text.trim().split('\n').slice(-20).reverse();
    for (const line of lines) {
      try {
        const e = JSON.parse(line) as { level?: string; msg?: string };
        if ((e.level === 'error' || e.level === 'fatal') && e.msg) return e.msg;
      } catch {
        if (line.trim()) return line.trim();
      }
    }
    return '';
  }
}
