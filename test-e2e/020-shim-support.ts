// Drives the built berth-shim the way berth-containerd does: started detached (setsid --fork,
// stdio on /dev/null), then only through its gRPC API (berth.shim.v1.Task) on its socket.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { TaskClient, type AttachResponse, type Event, type IAttachRequest } from '@berth/api/berth/shim/v1';
import { makeBundle, runcDefaultSpec, type Bundle } from './support/bundle.js';
import { repoRoot, tempRoots, type TempRoots } from './support/index.js';

export type Spec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const shimPath = join(repoRoot, 'packages', 'shim', 'dist', 'berth-shim.cjs');
export const berthRuncCli = join(repoRoot, 'packages', 'runc', 'dist', 'berth-runc.cjs');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(check: () => Promise<T> | T, ms = 5000, every = 20): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await check();
  while (!v && Date.now() < deadline) {
    await sleep(every);
    v = await check();
  }
  return v;
}

/** Long or number to number. */
export const n = (v: unknown): number => Number(v === undefined || v === null ? 0 : (v as { toString(): string }).toString());

/** runc's default spec, no terminal, writable root, `args` as the process. */
export function shimSpec(scratch: string, args: string[], terminal = false): Spec {
  const spec = runcDefaultSpec(scratch) as Spec;
  spec.process.terminal = terminal;
  delete spec.process.capabilities.ambient;
  spec.process.args = args;
  spec.root.readonly = false;
  return spec;
}

/** Debian's crun behind a wrapper that hides the unified hierarchy (it refuses hybrid mode). */
export function crunWrapper(dir: string): string {
  const path = join(dir, 'crun-wrapped');
  writeFileSync(path, `#!/bin/sh\nexec unshare -m sh -c 'mount -t tmpfs none /sys/fs/cgroup/unified && exec crun "$@"' crun "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

function cgroupHierarchies(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => / - cgroup2? /.test(l))
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith('/sys/fs/cgroup'));
}

export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

type Unary = (req: object, cb: (err: grpc.ServiceError | null, res: any) => void) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One shim with one container in fresh temp roots. */
export class Shim {
  readonly roots: TempRoots;
  readonly bundle: Bundle;
  readonly id: string;
  readonly socket: string;
  readonly cgroupsPath: string;
  readonly logPath: string;
  client: TaskClient;
  shimPid = 0;

  constructor(
    spec: Spec,
    readonly runtime = 'berth-runc',
  ) {
    this.roots = tempRoots();
    const tag = this.roots.dir.slice(-6).replace(/\W/g, '');
    this.id = `shim-${tag}`;
    this.cgroupsPath = `/berth-shim-${tag}`;
    spec.linux = { ...(spec.linux ?? {}), cgroupsPath: this.cgroupsPath };
    this.bundle = makeBundle(this.roots.dir, spec);
    this.socket = join(this.roots.state, 's', `${tag}.sock`);
    this.logPath = join(this.roots.root, 'container.log');
    this.client = this.connectClient();
  }

  static all: Shim[] = [];

  /** Starts the shim as containerd does and waits for its socket. */
  async start(runtimeFlag = this.runtime): Promise<this> {
    if (!existsSync(shimPath)) throw new Error(`prerequisite missing: ${shimPath} is not built (npm run build)`);
    execFileSync('setsid', ['--fork', process.execPath, shimPath, 'serve', '--namespace', 'test', '--id', this.id, '--bundle', this.bundle.dir, '--socket', this.socket, '--runtime', runtimeFlag, '--debug'], { stdio: 'ignore' });
    Shim.all.push(this);
    if (!(await waitFor(() => existsSync(this.socket), 5000))) throw new Error(`the shim did not make its socket ${this.socket}:\n${this.shimLog()}`);
    const c = await this.call('connect', { clientProtocol: 1 });
    this.shimPid = c.shimPid;
    return this;
  }

  connectClient(): TaskClient {
    return new TaskClient(`unix://${this.socket}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 1024 * 1024, 'grpc.max_reconnect_backoff_ms': 500 });
  }

  /** A new client, as a restarted containerd makes. */
  reconnect(): void {
    this.client.close();
    this.client = this.connectClient();
  }

  call(method: string, req: object): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const fn = (this.client as unknown as Record<string, Unary>)[method]!.bind(this.client);
    return new Promise((resolve, reject) => fn(req, (err, res) => (err ? reject(Object.assign(err, { message: `${method}: ${err.message}\n${this.shimLog()}` })) : resolve(res))));
  }

  create(extra: object = {}): Promise<{ pid: number }> {
    return this.call('create', { id: this.id, bundle: this.bundle.dir, log: { path: this.logPath }, ...extra });
  }

  async run(extra: object = {}): Promise<number> {
    const { pid } = await this.create(extra);
    await this.call('start', {});
    return pid;
  }

  async wait(execId = ''): Promise<{ exitStatus: number; signal: number; exitedAtNs: number; oomKilled: boolean }> {
    const r = await this.call('wait', { execId });
    return { exitStatus: r.exit.exitStatus, signal: r.exit.signal, exitedAtNs: n(r.exit.exitedAtNs), oomKilled: r.exit.oomKilled };
  }

  /** Every log entry, in order (all files, oldest first). */
  logEntries(): Array<{ log: string; stream: string; time: string; partial?: boolean; log_b64?: string }> {
    if (!existsSync(this.logPath)) return [];
    return readFileSync(this.logPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }

  /** The exact bytes of a stream, from the log. */
  logBytes(stream = 'stdout'): Buffer {
    return Buffer.concat(this.logEntries().filter((e) => e.stream === stream).map((e) => (e.log_b64 !== undefined ? Buffer.from(e.log_b64, 'base64') : Buffer.from(e.log))));
  }

  shimLog(): string {
    const dir = join(this.bundle.dir, 'shim');
    let out = '';
    for (const f of ['shim.log', 'runtime.log']) {
      try {
        out += `--- ${f}\n${readFileSync(join(dir, f), 'utf8').split('\n').slice(-30).join('\n')}\n`;
      } catch {
        // none
      }
    }
    return out;
  }

  events(afterSeq = 0): EventStream {
    return new EventStream(this.client.events({ afterSeq }));
  }

  attach(start: { execId?: string; stdin?: boolean; stdout?: boolean; stderr?: boolean }): Attached {
    return new Attached(this.client.attach(), start);
  }

  shimAlive(): boolean {
    return this.shimPid > 0 && pidAlive(this.shimPid);
  }

  /** Pids in the container's cgroup (every hierarchy). */
  cgroupPids(): number[] {
    const pids = new Set<number>();
    for (const h of cgroupHierarchies()) {
      try {
        for (const p of readFileSync(join(h, this.cgroupsPath, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.add(Number(p));
      } catch {
        // not in this hierarchy
      }
    }
    return [...pids];
  }

  /**
   * Removes everything whatever state the test left: through the API when the shim answers
   * (kill, wait, delete: the shim exits), by hand otherwise (kill the shim and the container's
   * processes, the runtime's delete, the cgroups).
   */
  async cleanup(): Promise<void> {
    if (this.shimAlive()) {
      try {
        const st = await this.call('state', {});
        if (st.status === 2 || st.status === 4) {
          await this.call('kill', { signal: 9, all: true }).catch(() => undefined);
          await Promise.race([this.call('wait', {}), sleep(5000)]);
        }
        if (st.status !== 0) await Promise.race([this.call('delete', {}), sleep(10_000)]);
      } catch {
        // no task, or the shim is failing: force below
      }
      await waitFor(() => !this.shimAlive(), 2000);
    }
    this.client.close();
    if (this.shimAlive()) {
      try {
        process.kill(this.shimPid, 'SIGKILL');
      } catch {}
    }
    for (const pid of this.cgroupPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    for (const h of cgroupHierarchies()) {
      const freezer = join(h, this.cgroupsPath, 'freezer.state');
      if (existsSync(freezer)) writeFileSync(freezer, 'THAWED');
    }
    await waitFor(() => this.cgroupPids().length === 0, 3000);
    const runtimeRoot = join(this.bundle.dir, 'shim', 'runtime');
    if (existsSync(join(runtimeRoot, this.id))) {
      const argv = this.runtime === 'berth-runc' ? [process.execPath, berthRuncCli] : [this.runtime];
      spawnSync(argv[0]!, [...argv.slice(1), '--root', runtimeRoot, 'delete', '--force', this.id], { stdio: 'ignore' });
    }
    for (const h of cgroupHierarchies()) {
      const d = join(h, this.cgroupsPath);
      if (!existsSync(d)) continue;
      for (const sub of readdirSync(d, { withFileTypes: true })) if (sub.isDirectory()) rmdirSync(join(d, sub.name));
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(d);
          break;
        } catch {
          await sleep(20);
        }
      }
    }
  }
}

/** An Events stream, collected. */
export class EventStream {
  readonly got: Event[] = [];
  ended = false;
  constructor(readonly call: grpc.ClientReadableStream<Event>) {
    call.on('data', (e: Event) => this.got.push(e));
    call.on('error', () => (this.ended = true));
    call.on('end', () => (this.ended = true));
  }
  kinds(): string[] {
    return this.got.map((e) => `${e.payload}${e.exited ? ':' + (e.exited.execId || 'init') : ''}`);
  }
  seqs(): number[] {
    return this.got.map((e) => n(e.seq));
  }
  until(pred: (got: Event[]) => boolean, ms = 10_000): Promise<boolean> {
    return waitFor(() => pred(this.got), ms);
  }
  close(): void {
    this.call.cancel();
  }
}

/** An Attach stream, collected. */
export class Attached {
  stdout = Buffer.alloc(0);
  stderr = Buffer.alloc(0);
  exit: AttachResponse['exit'] | undefined;
  ended = false;
  error: Error | undefined;
  constructor(
    readonly call: grpc.ClientDuplexStream<IAttachRequest, AttachResponse>,
    start: object,
  ) {
    call.on('data', (r: AttachResponse) => {
      if (r.stdout?.length) this.stdout = Buffer.concat([this.stdout, r.stdout]);
      if (r.stderr?.length) this.stderr = Buffer.concat([this.stderr, r.stderr]);
      if (r.exit) this.exit = r.exit;
    });
    call.on('error', (e) => {
      this.error = e;
      this.ended = true;
    });
    call.on('end', () => (this.ended = true));
    call.write({ start: { stdout: true, stderr: true, ...start } });
  }
  send(text: string | Buffer): void {
    this.call.write({ stdin: Buffer.from(text) });
  }
  closeStdin(): void {
    this.call.write({ closeStdin: true });
  }
  resize(rows: number, cols: number): void {
    this.call.write({ resize: { rows, cols } });
  }
  close(): void {
    this.call.end();
    this.call.cancel();
  }
}

/** Fresh scratch space for runc spec. */
export const scratch = () => tempRoots().dir;
