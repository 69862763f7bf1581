// Drives the built berthd as a user's client does: the daemon as a process of its own (killed
// with -9, restarted), berth.engine.v1 on <state>/berthd.sock, and the berth-containerd berthd
// starts beneath its roots (found by its pid file, killed -9 too).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createReadStream, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ContainersClient, ImagesClient, SystemClient, type IContainerConfig, type IHostConfig } from '@berth/api/berth/engine/v1';
import { repoRoot, testImageTar, type TempRoots } from './support/index.js';

export const berthdBin = join(repoRoot, 'packages', 'daemon', 'dist', 'berthd.cjs');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  for (const f of [berthdBin, join(repoRoot, 'packages', 'containerd', 'dist', 'berth-containerd.cjs'), join(repoRoot, 'packages', 'shim', 'dist', 'berth-shim.cjs')]) {
    if (!existsSync(f)) throw new Error(`prerequisite missing: ${f} is not built (cd ${repoRoot} && npm run build)`);
  }
}

type Unary = (req: object, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: any) => void) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Inspect {
  Id: string;
  Name: string;
  RestartCount: number;
  State: { Status: string; Running: boolean; Paused: boolean; Restarting: boolean; ExitCode: number; Error: string; Pid: number; StartedAt: string; FinishedAt: string; OOMKilled: boolean };
  Config: { Env: string[]; Cmd: string[] | null; Entrypoint: string[] | null; User: string; WorkingDir: string; Hostname: string };
  HostConfig: Record<string, unknown>;
  [k: string]: unknown;
}

/** berthd as a process: start, kill -9, restart, stop; and berth-containerd beneath it. */
export class Berthd {
  proc?: ChildProcess;
  readonly socket: string;
  readonly logPath: string;
  private clients?: { containers: ContainersClient; images: ImagesClient; system: SystemClient };

  constructor(readonly roots: TempRoots) {
    this.socket = join(roots.state, 'berthd.sock');
    this.logPath = join(roots.dir, 'berthd.log');
  }

  async start(): Promise<void> {
    const out = openSync(this.logPath, 'a');
    this.proc = spawn(process.execPath, [berthdBin, '--root', this.roots.root, '--state', this.roots.state, '--log-level', 'debug'], { stdio: ['ignore', out, out] });
    closeSync(out);
    const proc = this.proc;
    const ok = await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`berthd exited ${proc.exitCode}:\n${this.log()}`);
      return this.call('system', 'ping', {}, 500).then(() => true, () => false);
    }, 30_000, 100);
    if (!ok) throw new Error(`berthd did not answer on ${this.socket}:\n${this.log()}`);
  }

  log(): string {
    const c = join(this.roots.state, 'containerd', 'containerd.log');
    return (existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '') + (existsSync(c) ? `\n--- berth-containerd ---\n${readFileSync(c, 'utf8').slice(-6000)}` : '');
  }

  private exited(p = this.proc): Promise<void> {
    if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
    return new Promise((r) => p.once('exit', () => r()));
  }

  containerdPid(): number {
    try {
      return Number(readFileSync(join(this.roots.state, 'containerd', 'containerd.pid'), 'utf8'));
    } catch {
      return 0;
    }
  }

  async kill9(): Promise<void> {
    this.closeClients();
    this.proc?.kill('SIGKILL');
    await this.exited();
  }

  /** kill -9 of the berth-containerd berthd started. */
  async kill9Containerd(): Promise<void> {
    const pid = this.containerdPid();
    if (!pid) return;
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    await waitFor(() => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'), 10_000);
  }

  async stop(): Promise<void> {
    this.closeClients();
    this.proc?.kill('SIGTERM');
    await this.exited();
  }

  async stopContainerd(): Promise<void> {
    const pid = this.containerdPid();
    if (!pid) return;
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    await waitFor(() => !existsSync(`/proc/${pid}`), 10_000);
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
      this.clients = { containers: new ContainersClient(addr, creds, opts), images: new ImagesClient(addr, creds, opts), system: new SystemClient(addr, creds, opts) };
    }
    return this.clients;
  }

  call(service: 'containers' | 'images' | 'system', method: string, req: object, timeoutMs = 60_000): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const client = this.api()[service] as unknown as Record<string, Unary>;
    const fn = client[method]!.bind(client);
    return new Promise((resolve, reject) => fn(req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => (e ? reject(e) : resolve(r))));
  }

  async importBusybox(ref = 'busybox:latest', changes: string[] = []): Promise<string> {
    return new Promise((resolve, reject) => {
      const stream = this.api().images.import((e, r) => (e ? reject(e) : resolve(r!.id)));
      stream.write({ start: { reference: ref, changes } });
      const file = createReadStream(testImageTar(), { highWaterMark: 1 << 20 });
      file.on('data', (chunk) => stream.write({ chunk: chunk as Buffer }));
      file.on('end', () => stream.end());
      file.on('error', reject);
    });
  }

  async run(name: string, cmd: string[], host: IHostConfig = {}, config: Partial<IContainerConfig> = {}): Promise<string> {
    const r = await this.call('containers', 'create', { name, config: { image: 'busybox', cmd, ...config }, hostConfig: host });
    await this.call('containers', 'start', { id: r.id });
    return r.id as string;
  }

  async inspect(id: string): Promise<Inspect> {
    const r = await this.call('containers', 'inspect', { id });
    return JSON.parse(Buffer.from(r.inspectJson).toString('utf8')) as Inspect;
  }

  async logs(id: string, o: { follow?: boolean; tail?: number; timestamps?: boolean } = {}): Promise<{ stream: string; text: string }[]> {
    return new Promise((resolve, reject) => {
      const out: { stream: string; text: string }[] = [];
      const s = this.api().containers.logs({ id, ...o });
      s.on('data', (m: { stream: string; data: Uint8Array }) => out.push({ stream: m.stream, text: Buffer.from(m.data).toString() }));
      s.on('error', reject);
      s.on('end', () => resolve(out));
    });
  }

  /** Every container removed with force, then berthd and its berth-containerd stopped. */
  async cleanup(): Promise<void> {
    try {
      if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) await this.start();
      const l = await this.call('containers', 'list', { all: true });
      for (const c of l.containers) await this.call('containers', 'remove', { id: c.id, force: true }).catch(() => undefined);
    } finally {
      await this.stop();
      await this.stopContainerd();
    }
  }
}
