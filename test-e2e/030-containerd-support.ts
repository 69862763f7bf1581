// Drives the built berth-containerd and berth-ctr as a user does: the daemon as a process of
// its own (killed with -9, restarted), the gRPC API (berth.{containers,tasks,events}.v1) on its
// socket, and berth-ctr's command line.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ContainersClient } from '@berth/api/berth/containers/v1';
import { EventsClient, type Envelope } from '@berth/api/berth/events/v1';
import { TasksClient, type AttachResponse, type IAttachRequest } from '@berth/api/berth/tasks/v1';
import { VersionClient } from '@berth/api/berth/version/v1';
import { repoRoot, type TempRoots } from './support/index.js';

export const containerdBin = join(repoRoot, 'packages', 'containerd', 'dist', 'berth-containerd.cjs');
export const ctrBin = join(repoRoot, 'packages', 'containerd', 'dist', 'berth-ctr.cjs');
export const shimBin = join(repoRoot, 'packages', 'shim', 'dist', 'berth-shim.cjs');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Long or number to number (or bigint for times). */
export const n = (v: unknown): number => Number(v === undefined || v === null ? 0 : (v as { toString(): string }).toString());
export const big = (v: unknown): bigint => BigInt(v === undefined || v === null ? 0 : (v as { toString(): string }).toString());

export async function waitFor<T>(check: () => Promise<T> | T, ms = 10_000, every = 50): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await check();
  while (!v && Date.now() < deadline) {
    await sleep(every);
    v = await check();
  }
  return v;
}

export function prerequisites(): void {
  for (const f of [containerdBin, ctrBin, shimBin]) {
    if (!existsSync(f)) throw new Error(`prerequisite missing: ${f} is not built (cd ${repoRoot} && npm run build)`);
  }
}

const rand = (): string => Math.random().toString(16).slice(2, 8);

/** A spec as ctr's default, with a cgroup of its own (one level, so nothing is left above it). */
export function spec(id: string, args: string[], o: { terminal?: boolean; mounts?: object[]; memoryLimit?: number } = {}): Buffer {
  const caps = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_NET_BIND_SERVICE', 'CAP_AUDIT_WRITE'];
  return Buffer.from(JSON.stringify({
    ociVersion: '1.0.2-dev',
    process: {
      terminal: Boolean(o.terminal), user: { uid: 0, gid: 0 }, args, cwd: '/',
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      capabilities: { bounding: caps, effective: caps, permitted: caps },
    },
    root: { path: 'rootfs', readonly: true },
    hostname: id,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=65536k'] },
      ...(o.mounts ?? []),
    ],
    linux: {
      cgroupsPath: `/berth-e2e-${rand()}-${id}`,
      ...(o.memoryLimit ? { resources: { memory: { limit: o.memoryLimit, swap: o.memoryLimit } } } : {}),
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }],
      maskedPaths: ['/proc/kcore', '/proc/keys', '/sys/firmware'],
      readonlyPaths: ['/proc/sys', '/proc/sysrq-trigger'],
    },
  }));
}

type Unary = (req: object, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: any) => void) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

/** berth-containerd as a process: start, kill -9, restart, stop. */
export class Containerd {
  proc?: ChildProcess;
  readonly socket: string;
  readonly logPath: string;
  private clients?: { containers: ContainersClient; tasks: TasksClient; events: EventsClient; version: VersionClient };
  private starts = 0;

  constructor(readonly roots: TempRoots) {
    this.socket = join(roots.state, 'containerd.sock');
    this.logPath = join(roots.dir, 'containerd.log');
  }

  async start(): Promise<void> {
    const out = openSync(this.logPath, 'a');
    this.proc = spawn(process.execPath, [containerdBin, '--root', this.roots.root, '--state', this.roots.state, '--log-level', 'debug'], { stdio: ['ignore', out, out] });
    closeSync(out);
    this.starts++;
    const proc = this.proc;
    const ok = await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`berth-containerd exited ${proc.exitCode}:\n${this.log()}`);
      return this.call('version', 'get', {}, 500).then(() => true, () => false);
    }, 15_000, 100);
    if (!ok) throw new Error(`berth-containerd did not answer on ${this.socket}:\n${this.log()}`);
  }

  log(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '';
  }

  private exited(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
    return new Promise((r) => p.once('exit', () => r()));
  }

  async kill9(): Promise<void> {
    this.closeClients();
    this.proc?.kill('SIGKILL');
    await this.exited();
  }

  async stop(): Promise<void> {
    this.closeClients();
    this.proc?.kill('SIGTERM');
    await this.exited();
  }

  private closeClients(): void {
    if (!this.clients) return;
    for (const c of Object.values(this.clients)) c.close();
    this.clients = undefined;
  }

  api() {
    if (!this.clients) {
      const addr = `unix://${this.socket}`;
      const creds = grpc.credentials.createInsecure();
      const opts = { 'grpc.max_reconnect_backoff_ms': 1000 };
      this.clients = {
        containers: new ContainersClient(addr, creds, opts), tasks: new TasksClient(addr, creds, opts),
        events: new EventsClient(addr, creds, opts), version: new VersionClient(addr, creds, opts),
      };
    }
    return this.clients;
  }

  call(service: 'containers' | 'tasks' | 'events' | 'version', method: string, req: object, timeoutMs = 30_000): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const client = this.api()[service] as unknown as Record<string, Unary>;
    const fn = client[method]!.bind(client);
    return new Promise((resolve, reject) => fn(req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => (e ? reject(e) : resolve(r))));
  }

  /** Every event kept, from the first, whose topic starts with `topic`. */
  async events(topic: string): Promise<Envelope[]> {
    const out: Envelope[] = [];
    const stream = this.api().events.subscribe({ filters: [{ topic }], replay: true, afterSeq: 0 });
    stream.on('data', (e: Envelope) => out.push(e));
    stream.on('error', () => undefined);
    await sleep(300);
    stream.cancel();
    return out;
  }

  /** Attaches to a process through Tasks.Attach. */
  attach(containerId: string, stdin = true): AttachedIo {
    const stream = this.api().tasks.attach() as grpc.ClientDuplexStream<IAttachRequest, AttachResponse>;
    stream.write({ start: { containerId, stdin, stdout: true, stderr: true } });
    return new AttachedIo(stream);
  }

  async ctr(args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [ctrBin, '--address', this.socket, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }
}

export class AttachedIo {
  out = '';
  ended = false;
  constructor(readonly stream: grpc.ClientDuplexStream<IAttachRequest, AttachResponse>) {
    stream.on('data', (m: AttachResponse) => {
      if (m.stdout) this.out += Buffer.from(m.stdout).toString('utf8');
      if (m.stderr) this.out += Buffer.from(m.stderr).toString('utf8');
    });
    stream.on('end', () => (this.ended = true));
    stream.on('error', () => (this.ended = true));
  }
  write(s: string): void {
    this.stream.write({ stdin: Buffer.from(s) });
  }
  close(): void {
    this.stream.cancel();
  }
}

export interface LogEntry { time: string; stream: string; log?: string; log_b64?: string; partial?: boolean }

export function readLog(path: string): LogEntry[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogEntry);
}

export function logBytes(entries: LogEntry[], stream = 'stdout'): Buffer {
  return Buffer.concat(entries.filter((e) => e.stream === stream).map((e) => (e.log_b64 !== undefined ? Buffer.from(e.log_b64, 'base64') : Buffer.from(e.log ?? '', 'utf8'))));
}
