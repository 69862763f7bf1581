/**
 * Tasks: one shim per task, started detached, recorded in the database before it is started so
 * a crash at any point leaves a record to recover from. Shim events are consumed in order per
 * shim; each is recorded (process state, its berth.events.v1 event, the shim's seq) in one
 * transaction, then delivered, then acknowledged to the shim. A restarted berth-containerd
 * resumes each shim's events after the last recorded seq, so an exit is published exactly once.
 *
 * Process states (a process is the init, exec id '', or an exec):
 *
 *   | from     | to       | on                                                      |
 *   |----------|----------|---------------------------------------------------------|
 *   | unknown  | created  | shim Create returned, or TaskCreated / ExecAdded event  |
 *   | created  | running  | Start returned, or TaskStarted / ExecStarted event      |
 *   | running  | paused   | TaskPaused event (init)                                  |
 *   | paused   | running  | TaskResumed event (init)                                 |
 *   | any      | stopped  | TaskExited event, Delete's exit, or the shim found dead  |
 *
 * A stopped process never leaves stopped; the first exit recorded wins and is the only one
 * published.
 */
import type * as grpc from '@grpc/grpc-js';
import { rmSync, rmdirSync, mkdirSync, writeFileSync, readFileSync, existsSync, renameSync } from 'node:fs';
import { dirname, join, isAbsolute } from 'node:path';
import type { Envelope, IEnvelope } from '@berth/api/berth/events/v1';
import * as shimv1 from '@berth/api/berth/shim/v1';
import {
  AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, errorMessage,
} from '@berth/api/errdefs';
import type { Exchange } from '../events/exchange.js';
import type { Logger } from '../log.js';
import { fromLong, toLong, toNum } from '../long.js';
import {
  DEFAULT_NAMESPACE, nowNs, type ContainerRecord, type MetadataStore, type ProcessRecord, type ProcessStatus, type TaskRecord,
} from '../metadata/db.js';
import { isMountPoint, unmountAll } from '../snapshots/mount.js';
import { SHIM_PROTOCOL, ShimConnection, ready } from './shim-client.js';
import { shimSocketPath, type ShimLauncher } from './launcher.js';
import type { SparePool } from './spares.js';

/** The reason given for a task whose shim is gone without an exit record. */
export const SHIM_DIED = 'shim died; container state unknown';
/** The exit status reported for a process whose true exit is unknown (as containerd's 255). */
export const UNKNOWN_EXIT = 255;

export interface ExitInfo {
  exitStatus: number;
  exitSignal: number;
  exitedAt: bigint;
  oomKilled: boolean;
  reason: string;
}

export interface CreateTaskOptions {
  namespace: string;
  containerId: string;
  terminal: boolean;
  stdin: boolean;
  stdinOnce: boolean;
  rows: number;
  cols: number;
  log?: { path: string; maxSize: number; maxFiles: number };
}

interface LiveShim {
  ns: string;
  id: string;
  pid: number;
  conn: ShimConnection;
  stream?: grpc.ClientReadableStream<shimv1.Event>;
  /** Set when berth-containerd itself ends the shim (Delete) or stops: stream ends are expected. */
  closing: boolean;
}

const key = (ns: string, id: string): string => `${ns}/${id}`;
const pkey = (ns: string, id: string, execId: string): string => `${ns}/${id}/${execId}`;

/**
 * A container's root from a snapshot (image storage): mounted at `<bundle>/rootfs` at task create
 * (the snapshot prepared on the image when the container has none yet), unmounted at task delete.
 * The snapshot itself lives as long as the container (removed at container delete).
 */
export interface RootfsProvider {
  mount(ns: string, c: ContainerRecord, target: string): Promise<void>;
}

export interface TaskManagerOptions {
  state: string;
  /** Mounts snapshot roots; without it a container needs a rootfs directory. */
  rootfs?: RootfsProvider;
  launcher: ShimLauncher;
  log: Logger;
  shimDebug?: boolean;
  /** Spare shims to claim at create instead of starting one (packages/containerd/README.md). */
  spares?: SparePool;
  /** How long to wait for a new shim to answer. */
  shimStartTimeoutMs?: number;
}

export class TaskManager {
  private readonly shims = new Map<string, LiveShim>();
  private readonly waiters = new Map<string, Set<(e: ExitInfo) => void>>();
  private readonly state: string;
  private readonly launcher: ShimLauncher;
  private readonly log: Logger;

  constructor(private readonly store: MetadataStore, private readonly exchange: Exchange, private readonly opts: TaskManagerOptions) {
    this.state = opts.state;
    this.launcher = opts.launcher;
    this.log = opts.log;
  }

  // --- recovery

  /** Re-finds every task's shim after a start: reconnect to the live ones, settle the dead ones. */
  async recover(): Promise<void> {
    const tasks = this.store.listTasks();
    await Promise.all(tasks.map(async (t) => {
      const procs = this.store.listProcesses(t.namespace, t.containerId);
      if (this.launcher.alive(t.shimPid, t.shimAddress, t.bundle)) {
        try {
          await this.connect(t, 10_000);
          this.log.info('reconnected to shim', { namespace: t.namespace, id: t.containerId, shimPid: t.shimPid, afterSeq: t.shimSeq });
          return;
        } catch (e) {
          this.log.warn('shim alive but not answering', { id: t.containerId, error: errorMessage(e) });
          if (this.launcher.alive(t.shimPid, t.shimAddress, t.bundle)) return; // keep the record; a later call retries
        }
      }
      if (procs.every((p) => p.status === 'stopped')) return;
      this.settleDeadShim(t);
    }));
  }

  /** Connects to a task's shim and follows its events from the last recorded seq. */
  private async connect(t: TaskRecord, timeoutMs: number): Promise<LiveShim> {
    const conn = new ShimConnection(t.shimAddress);
    try {
      const hello = await conn.call((c) => c.connect, { clientProtocol: SHIM_PROTOCOL }, timeoutMs);
      conn.protocol = hello.protocol || 1;
      const shim: LiveShim = { ns: t.namespace, id: t.containerId, pid: hello.shimPid, conn, closing: false };
      if (hello.shimPid && hello.shimPid !== t.shimPid) this.store.setShim(t.namespace, t.containerId, hello.shimPid, t.shimAddress);
      this.shims.set(key(t.namespace, t.containerId), shim);
      this.follow(shim);
      return shim;
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  private follow(shim: LiveShim): void {
    const t = this.store.getTask(shim.ns, shim.id);
    if (!t || shim.closing) return;
    const stream = shim.conn.client.events({ afterSeq: toLong(t.shimSeq) }, ready());
    shim.stream = stream;
    stream.on('data', (ev: shimv1.Event) => {
      try {
        this.onShimEvent(shim, ev);
      } catch (e) {
        this.log.error('recording a shim event failed', { id: shim.id, seq: String(ev.seq), error: errorMessage(e) });
      }
    });
    let ended = false;
    const onEnd = (): void => {
      if (ended) return;
      ended = true;
      stream.removeAllListeners('data');
      if (!shim.closing) void this.onStreamEnd(shim);
    };
    stream.on('error', onEnd);
    stream.on('end', onEnd);
  }

  private async onStreamEnd(shim: LiveShim): Promise<void> {
    const t = this.store.getTask(shim.ns, shim.id);
    if (!t || shim.closing || this.shims.get(key(shim.ns, shim.id)) !== shim) return;
    // The stream broke: the shim died, or the connection hiccuped. Tell them apart by the pid.
    await new Promise((r) => setTimeout(r, 100));
    if (shim.closing) return;
    if (this.launcher.alive(t.shimPid, t.shimAddress, t.bundle)) {
      this.follow(shim);
      return;
    }
    this.log.warn('shim died', { namespace: shim.ns, id: shim.id, shimPid: t.shimPid });
    this.shims.delete(key(shim.ns, shim.id));
    shim.conn.close();
    this.settleDeadShim(t);
  }

  /**
   * A task whose shim is gone: its processes that have not stopped are stopped now, with the
   * exit the shim wrote to disk if there is one (contract 7), else as failed with SHIM_DIED.
   */
  private settleDeadShim(t: TaskRecord): void {
    for (const p of this.store.listProcesses(t.namespace, t.containerId)) {
      if (p.status === 'stopped') continue;
      const onDisk = readExitRecord(t.bundle, p.execId);
      const exit: ExitInfo = onDisk ?? { exitStatus: UNKNOWN_EXIT, exitSignal: 0, exitedAt: nowNs(), oomKilled: false, reason: SHIM_DIED };
      this.log.warn('task settled without its shim', { namespace: t.namespace, id: t.containerId, execId: p.execId, exitStatus: exit.exitStatus, reason: exit.reason });
      this.recordExit(t.namespace, t.containerId, p.execId, p.pid, exit);
    }
  }

  // --- shim events

  private onShimEvent(shim: LiveShim, ev: shimv1.Event): void {
    const seq = toNum(ev.seq as never);
    const { ns, id } = shim;
    const t = this.store.getTask(ns, id);
    if (!t) return;
    if (seq <= t.shimSeq) {
      this.ack(shim, seq);
      return;
    }
    const ts = fromLong(ev.timestampNs as never) || nowNs();
    const envs: Envelope[] = [];
    const exits: Array<[string, ExitInfo]> = [];
    const base = { namespace: ns, containerId: id, timestampNs: toLong(ts) };
    const emit = (e: IEnvelope): void => {
      envs.push(this.exchange.record({ ...base, ...e }));
    };
    this.store.tx(() => {
      switch (ev.payload) {
        case 'created':
          this.advance(ns, id, '', 'created', ev.created?.pid ?? 0);
          emit({ topic: '/tasks/create', taskCreate: { pid: ev.created?.pid ?? 0, bundle: ev.created?.bundle ?? t.bundle } });
          break;
        case 'started':
          this.advance(ns, id, '', 'running', ev.started?.pid ?? 0);
          emit({ topic: '/tasks/start', taskStart: { pid: ev.started?.pid ?? 0 } });
          break;
        case 'exited': {
          const x = ev.exited;
          const execId = x?.execId ?? '';
          const exit = exitFromShim(x?.exit ?? undefined);
          const env = this.applyExit(ns, id, execId, x?.pid ?? 0, exit);
          if (env) {
            envs.push(env);
            exits.push([execId, exit]);
          }
          break;
        }
        case 'oom':
          emit({ topic: '/tasks/oom', taskOom: {} });
          break;
        case 'execAdded': {
          const execId = ev.execAdded?.execId ?? '';
          if (!this.store.getProcess(ns, id, execId)) this.store.putProcess(newProcess(ns, id, execId, 0, 'created', false));
          emit({ topic: '/tasks/exec-added', taskExecAdded: { execId } });
          break;
        }
        case 'execStarted': {
          const execId = ev.execStarted?.execId ?? '';
          this.advance(ns, id, execId, 'running', ev.execStarted?.pid ?? 0);
          emit({ topic: '/tasks/exec-started', taskExecStarted: { execId, pid: ev.execStarted?.pid ?? 0 } });
          break;
        }
        case 'paused':
          this.advance(ns, id, '', 'paused', 0);
          emit({ topic: '/tasks/paused', taskPaused: {} });
          break;
        case 'resumed':
          this.advance(ns, id, '', 'running', 0);
          emit({ topic: '/tasks/resumed', taskResumed: {} });
          break;
        default:
          // TaskDeleted: berth-containerd publishes /tasks/delete itself when its Delete is done.
          break;
      }
      this.store.setShimSeq(ns, id, seq);
    });
    for (const e of envs) this.exchange.deliver(e);
    for (const [execId, exit] of exits) this.wake(ns, id, execId, exit);
    this.ack(shim, seq);
  }

  private ack(shim: LiveShim, seq: number): void {
    shim.conn.call((c) => c.ackEvents, { seq: toLong(seq) }, 10_000).catch((e: unknown) => {
      this.log.debug('ack failed (the shim keeps the event; it is replayed and skipped by seq)', { id: shim.id, seq, error: errorMessage(e) });
    });
  }

  /** Moves a process forward (never out of stopped, never back to created). Inside a transaction. */
  private advance(ns: string, id: string, execId: string, to: ProcessStatus, pid: number): void {
    const p = this.store.getProcess(ns, id, execId);
    if (!p) {
      if (this.store.getTask(ns, id)) this.store.putProcess(newProcess(ns, id, execId, pid, to, false));
      return;
    }
    if (p.status === 'stopped') return;
    if (to === 'created' && p.status !== 'unknown') {
      if (pid && !p.pid) this.store.putProcess({ ...p, pid });
      return;
    }
    this.store.putProcess({ ...p, status: to, pid: pid || p.pid });
  }

  /** Records an exit and its event unless the process has one already; returns the event to deliver. */
  private applyExit(ns: string, id: string, execId: string, pid: number, exit: ExitInfo): Envelope | undefined {
    const p = this.store.getProcess(ns, id, execId);
    if (!p || p.status === 'stopped') return undefined;
    this.store.putProcess({ ...p, pid: p.pid || pid, status: 'stopped', exitStatus: exit.exitStatus, exitSignal: exit.exitSignal, exitedAt: exit.exitedAt, oomKilled: exit.oomKilled, reason: exit.reason });
    return this.exchange.record({
      namespace: ns, containerId: id, topic: '/tasks/exit', timestampNs: toLong(exit.exitedAt),
      taskExit: { execId, pid: p.pid || pid, exitStatus: exit.exitStatus, exitSignal: exit.exitSignal, exitedAtNs: toLong(exit.exitedAt), oomKilled: exit.oomKilled, reason: exit.reason },
    });
  }

  /** applyExit in its own transaction, then delivery and waking waiters. */
  private recordExit(ns: string, id: string, execId: string, pid: number, exit: ExitInfo): void {
    const env = this.store.tx(() => this.applyExit(ns, id, execId, pid, exit));
    if (!env) return;
    this.exchange.deliver(env);
    this.wake(ns, id, execId, exit);
  }

  private wake(ns: string, id: string, execId: string, exit: ExitInfo): void {
    const k = pkey(ns, id, execId);
    const ws = this.waiters.get(k);
    if (!ws) return;
    this.waiters.delete(k);
    for (const w of ws) w(exit);
  }

  // --- the Tasks API

  private requireTask(ns: string, id: string): TaskRecord {
    const t = this.store.getTask(ns, id);
    if (!t) throw new NotFoundError(`task ${id}: not found in namespace ${ns} (no task; start one with: berth-ctr tasks start ${id})`);
    return t;
  }

  private requireProcess(ns: string, id: string, execId: string): ProcessRecord {
    this.requireTask(ns, id);
    const p = this.store.getProcess(ns, id, execId);
    if (!p) throw new NotFoundError(`process ${execId} of task ${id}: not found`);
    return p;
  }

  /** The live shim of a task; FailedPrecondition with the reason when it is gone. */
  private async requireShim(ns: string, id: string): Promise<LiveShim> {
    const t = this.requireTask(ns, id);
    const live = this.shims.get(key(ns, id));
    if (live) return live;
    if (this.launcher.alive(t.shimPid, t.shimAddress, t.bundle)) return this.connect(t, 5000);
    const init = this.store.getProcess(ns, id, '');
    throw new FailedPreconditionError(`task ${id}: its shim is gone (${init?.reason || SHIM_DIED}); delete it with: berth-ctr tasks rm ${id}`);
  }

  async create(o: CreateTaskOptions): Promise<{ pid: number }> {
    const ns = o.namespace || DEFAULT_NAMESPACE;
    const c = this.store.getContainer(ns, o.containerId);
    if (this.store.getTask(ns, c.id)) throw new AlreadyExistsError(`task ${c.id}: already exists in namespace ${ns}`);
    const bundle = join(this.state, ns, c.id);
    const socket = shimSocketPath(this.state, ns, c.id);
    const logPath = o.log?.path || join(bundle, 'log.json');
    const runtime = runtimeOf(c);
    // A container without a rootfs directory but with a snapshot key runs on that snapshot,
    // mounted at <bundle>/rootfs (a rootfs directory, as berthd gives, wins).
    const fromSnapshot = !c.rootfs && Boolean(c.snapshotKey);
    if (fromSnapshot && !this.opts.rootfs) throw new FailedPreconditionError(`container ${c.id}: its root is snapshot ${c.snapshotKey}, and this berth-containerd has no image storage`);
    if (fromSnapshot && c.snapshotter && c.snapshotter !== 'overlayfs') throw new InvalidArgumentError(`container ${c.id}: snapshotter ${JSON.stringify(c.snapshotter)}: only "overlayfs" is available`);
    const rootPath = fromSnapshot ? join(bundle, 'rootfs') : undefined;
    writeBundle(bundle, c, o.terminal, rootPath);
    const t: TaskRecord = {
      namespace: ns, containerId: c.id, bundle, logPath, shimPid: 0, shimAddress: socket, shimSeq: 0,
      terminal: o.terminal, stdin: o.stdin, createdAt: nowNs(),
    };
    this.store.insertTask(t, newProcess(ns, c.id, '', 0, 'unknown', o.terminal));
    // Beside the database, on disk: where the shim is, for a human or a tool without the DB.
    writeAtomic(join(bundle, 'task.json'), JSON.stringify({ namespace: ns, id: c.id, socket, runtime }) + '\n');
    let shim: LiveShim | undefined;
    try {
      mkdirSync(join(this.state, 's'), { recursive: true, mode: 0o700 });
      if (rootPath) {
        mkdirSync(rootPath, { recursive: true, mode: 0o755 });
        if (isMountPoint(rootPath)) throw new FailedPreconditionError(`container ${c.id}: ${rootPath} is mounted already (left by an earlier task?)`);
        await this.opts.rootfs!.mount(ns, c, rootPath);
      }
      const start = { namespace: ns, id: c.id, bundle, socket, runtime, debug: Boolean(this.opts.shimDebug) };
      // A spare serves on the socket once claimed; with none, one is started for this task.
      const claimed = await this.opts.spares?.claim(start);
      if (claimed?.shimPid) this.store.setShim(ns, c.id, claimed.shimPid, socket);
      else await this.launcher.start(start);
      shim = await this.connect(t, this.opts.shimStartTimeoutMs ?? 10_000);
      const task = this.store.getTask(ns, c.id)!;
      writeAtomic(join(bundle, 'task.json'), JSON.stringify({ namespace: ns, id: c.id, socket, runtime, shimPid: task.shimPid }) + '\n');
      const res = await shim.conn.call((x) => x.create, {
        id: c.id, bundle, runtime, runtimeArgs: c.runtime.args, terminal: o.terminal, stdin: o.stdin, stdinOnce: o.stdinOnce,
        log: { path: logPath, maxSize: toLong(o.log?.maxSize ?? 0), maxFiles: o.log?.maxFiles ?? 0 }, rows: o.rows, cols: o.cols,
      });
      this.store.tx(() => this.advance(ns, c.id, '', 'created', res.pid));
      return { pid: res.pid };
    } catch (e) {
      this.log.warn('task create failed; cleaning up', { namespace: ns, id: c.id, error: errorMessage(e) });
      await this.teardown(ns, c.id, shim, true);
      throw e;
    }
  }

  async start(ns: string, id: string, execId: string): Promise<{ pid: number }> {
    const p = this.requireProcess(ns, id, execId);
    if (p.status !== 'created') throw new FailedPreconditionError(`${describe(id, execId)} is ${p.status}, not created: it cannot be started`);
    const shim = await this.requireShim(ns, id);
    const res = await shim.conn.call((c) => c.start, { execId });
    this.store.tx(() => this.advance(ns, id, execId, 'running', res.pid));
    return { pid: res.pid };
  }

  get(ns: string, id: string, execId: string): { task: TaskRecord; process: ProcessRecord } {
    const task = this.requireTask(ns, id);
    return { task, process: this.requireProcess(ns, id, execId) };
  }

  list(ns: string): Array<{ task: TaskRecord; process: ProcessRecord }> {
    return this.store.listTasks(ns).flatMap((task) => {
      const process = this.store.getProcess(ns, task.containerId, '');
      return process ? [{ task, process }] : [];
    });
  }

  async kill(ns: string, id: string, execId: string, signal: number, all: boolean): Promise<void> {
    const p = this.requireProcess(ns, id, execId);
    if (p.status === 'stopped' && !all) throw new NotFoundError(`${describe(id, execId)} has already exited (${p.exitStatus})`);
    const shim = await this.requireShim(ns, id);
    await shim.conn.call((c) => c.kill, { execId, signal, all });
  }

  /** Resolves with the exit once it is recorded (at once if it is). */
  wait(ns: string, id: string, execId: string, signal?: AbortSignal): Promise<ExitInfo> {
    const p = this.requireProcess(ns, id, execId);
    if (p.status === 'stopped') return Promise.resolve(exitOf(p));
    return new Promise((resolve, reject) => {
      const k = pkey(ns, id, execId);
      let set = this.waiters.get(k);
      if (!set) this.waiters.set(k, (set = new Set()));
      const w = (e: ExitInfo): void => resolve(e);
      set.add(w);
      signal?.addEventListener('abort', () => {
        set.delete(w);
        reject(new Error('wait cancelled'));
      });
    });
  }

  async exec(ns: string, id: string, execId: string, processJson: Uint8Array, terminal: boolean, stdin: boolean, rows: number, cols: number): Promise<void> {
    if (!execId) throw new InvalidArgumentError('exec id must not be empty');
    const init = this.requireProcess(ns, id, '');
    if (init.status !== 'running') throw new FailedPreconditionError(`task ${id} is ${init.status}: exec needs a running task`);
    if (this.store.getProcess(ns, id, execId)) throw new AlreadyExistsError(`exec ${execId} of task ${id}: already exists`);
    try {
      JSON.parse(Buffer.from(processJson).toString('utf8'));
    } catch (e) {
      throw new InvalidArgumentError(`exec ${execId}: process is not JSON: ${errorMessage(e)}`);
    }
    const shim = await this.requireShim(ns, id);
    this.store.putProcess(newProcess(ns, id, execId, 0, 'unknown', terminal));
    try {
      await shim.conn.call((c) => c.exec, { execId, processJson, terminal, stdin, rows, cols });
    } catch (e) {
      this.store.deleteProcess(ns, id, execId);
      throw e;
    }
    this.store.tx(() => this.advance(ns, id, execId, 'created', 0));
  }

  async deleteProcess(ns: string, id: string, execId: string): Promise<ProcessRecord> {
    if (!execId) throw new InvalidArgumentError('DeleteProcess is for exec\'d processes; delete the task for the init');
    const p = this.requireProcess(ns, id, execId);
    if (p.status !== 'stopped' && p.status !== 'created') throw new FailedPreconditionError(`exec ${execId} of task ${id} is ${p.status}: kill it first`);
    const shim = this.shims.get(key(ns, id));
    if (shim) {
      const res = await shim.conn.call((c) => c.delete, { execId });
      if (res.exit) this.recordExit(ns, id, execId, res.pid, exitFromShim(res.exit));
    }
    const final = this.store.getProcess(ns, id, execId) ?? p;
    const env = this.store.tx(() => {
      this.store.deleteProcess(ns, id, execId);
      return this.exchange.record({ namespace: ns, containerId: id, topic: '/tasks/delete', taskDelete: { execId, pid: final.pid, exitStatus: final.exitStatus, exitedAtNs: toLong(final.exitedAt) } });
    });
    this.exchange.deliver(env);
    return final;
  }

  async delete(ns: string, id: string, force: boolean): Promise<ProcessRecord> {
    const init = this.requireProcess(ns, id, '');
    let shim = this.shims.get(key(ns, id));
    if (init.status === 'running' || init.status === 'paused') {
      if (!force) throw new FailedPreconditionError(`task ${id} is ${init.status}: stop it first, or delete with force (berth-ctr tasks rm -f ${id})`);
      shim ??= await this.requireShim(ns, id).catch(() => undefined);
      if (shim) {
        if (init.status === 'paused') await shim.conn.call((c) => c.resume, {}).catch(() => undefined);
        await shim.conn.call((c) => c.kill, { execId: '', signal: 9, all: true }).catch(() => undefined);
        const ac = new AbortController();
        const timer = setTimeout(() => ac.abort(), 10_000);
        await this.wait(ns, id, '', ac.signal).catch(() => undefined);
        clearTimeout(timer);
      }
    }
    if (shim) {
      try {
        const res = await shim.conn.call((c) => c.delete, { execId: '' });
        if (res.exit) this.recordExit(ns, id, '', res.pid, exitFromShim(res.exit));
      } catch (e) {
        if (!force) throw e;
        this.log.warn('shim delete failed; forcing', { id, error: errorMessage(e) });
      }
    }
    const final = this.store.getProcess(ns, id, '') ?? init;
    await this.teardown(ns, id, shim, false);
    const env = this.exchange.record({ namespace: ns, containerId: id, topic: '/tasks/delete', taskDelete: { execId: '', pid: final.pid, exitStatus: final.exitStatus, exitedAtNs: toLong(final.exitedAt) } });
    this.exchange.deliver(env);
    return final;
  }

  /**
   * Ends a task's shim (asking it to exit, then SIGKILL if it lingers), kills a container left
   * without its shim, removes the bundle and socket, and drops the records.
   */
  private async teardown(ns: string, id: string, shim: LiveShim | undefined, now: boolean): Promise<void> {
    const t = this.store.getTask(ns, id);
    if (shim) {
      shim.closing = true;
      await shim.conn.call((c) => c.shutdown, { now }, 5000).catch(() => undefined);
      shim.stream?.cancel();
      shim.conn.close();
    }
    this.shims.delete(key(ns, id));
    if (t) {
      const deadline = Date.now() + 3000;
      while (this.launcher.alive(t.shimPid, t.shimAddress, t.bundle) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      if (this.launcher.alive(t.shimPid, t.shimAddress, t.bundle)) {
        try { process.kill(t.shimPid, 'SIGKILL'); } catch { /* gone */ }
      }
      if (!shim) {
        // No shim to do it: the container is an orphan now; have its runtime remove it.
        let runtime = 'berth-runc';
        try {
          runtime = (JSON.parse(readFileSync(join(t.bundle, 'task.json'), 'utf8')) as { runtime?: string }).runtime ?? runtime;
        } catch { /* the default */ }
        await this.launcher.cleanup({ id, bundle: t.bundle, runtime });
      }
      // A snapshot root is unmounted before the bundle goes: removing through the mount would
      // write whiteouts into the container's layer (and delete its files).
      const rootfs = join(t.bundle, 'rootfs');
      if (isMountPoint(rootfs)) {
        await unmountAll(rootfs).catch((e: unknown) => this.log.error('unmounting the task\'s rootfs failed', { id, rootfs, error: errorMessage(e) }));
      }
      if (isMountPoint(rootfs)) {
        this.log.error('the task\'s rootfs is still mounted; its bundle is left in place', { id, rootfs });
      } else {
        rmSync(t.bundle, { recursive: true, force: true });
      }
      try { rmdirSync(dirname(t.bundle)); } catch { /* other tasks of the namespace */ }
      rmSync(t.shimAddress, { force: true });
      this.store.deleteTask(ns, id);
    }
  }

  async pids(ns: string, id: string): Promise<Array<{ pid: number; execId: string }>> {
    const shim = await this.requireShim(ns, id);
    const res = await shim.conn.call((c) => c.pids, {});
    return res.processes.map((p) => ({ pid: p.pid ?? 0, execId: p.execId ?? '' }));
  }

  async pause(ns: string, id: string): Promise<void> {
    const p = this.requireProcess(ns, id, '');
    if (p.status !== 'running') throw new FailedPreconditionError(`task ${id} is ${p.status}: only a running task can be paused`);
    const shim = await this.requireShim(ns, id);
    await shim.conn.call((c) => c.pause, {});
    this.store.tx(() => this.advance(ns, id, '', 'paused', 0));
  }

  async resume(ns: string, id: string): Promise<void> {
    const p = this.requireProcess(ns, id, '');
    if (p.status !== 'paused') throw new FailedPreconditionError(`task ${id} is ${p.status}, not paused`);
    const shim = await this.requireShim(ns, id);
    await shim.conn.call((c) => c.resume, {});
    this.store.tx(() => this.advance(ns, id, '', 'running', 0));
  }

  async resizePty(ns: string, id: string, execId: string, rows: number, cols: number): Promise<void> {
    this.requireProcess(ns, id, execId);
    const shim = await this.requireShim(ns, id);
    await shim.conn.call((c) => c.resizePty, { execId, rows, cols });
  }

  async closeIO(ns: string, id: string, execId: string): Promise<void> {
    this.requireProcess(ns, id, execId);
    const shim = await this.requireShim(ns, id);
    await shim.conn.call((c) => c.closeStdin, { execId });
  }

  async metrics(ns: string, id: string): Promise<shimv1.StatsResponse> {
    const shim = await this.requireShim(ns, id);
    return shim.conn.call((c) => c.stats, {});
  }

  /** The shim connection for an attach stream (the service proxies the stream itself). */
  async shimFor(ns: string, id: string, execId: string): Promise<ShimConnection> {
    this.requireProcess(ns, id, execId);
    return (await this.requireShim(ns, id)).conn;
  }

  /** Lets go of every shim connection (the shims keep running). */
  close(): void {
    for (const s of this.shims.values()) {
      s.closing = true;
      s.stream?.cancel();
      s.conn.close();
    }
    this.shims.clear();
  }
}

function describe(id: string, execId: string): string {
  return execId ? `exec ${execId} of task ${id}` : `task ${id}`;
}

function newProcess(ns: string, id: string, execId: string, pid: number, status: ProcessStatus, terminal: boolean): ProcessRecord {
  return { namespace: ns, containerId: id, execId, pid, status, terminal, exitStatus: 0, exitSignal: 0, exitedAt: 0n, oomKilled: false, reason: '' };
}

export function exitOf(p: ProcessRecord): ExitInfo {
  return { exitStatus: p.exitStatus, exitSignal: p.exitSignal, exitedAt: p.exitedAt, oomKilled: p.oomKilled, reason: p.reason };
}

function exitFromShim(x: shimv1.IExit | undefined): ExitInfo {
  return {
    exitStatus: x?.exitStatus ?? UNKNOWN_EXIT, exitSignal: x?.signal ?? 0,
    exitedAt: fromLong(x?.exitedAtNs as never) || nowNs(), oomKilled: Boolean(x?.oomKilled), reason: '',
  };
}

/** The exit record the shim keeps on disk (packages/shim/README.md), if it wrote one. */
export function readExitRecord(bundle: string, execId: string): ExitInfo | undefined {
  const file = join(bundle, 'shim', execId ? `exit-exec-${encodeURIComponent(execId)}.json` : 'exit-init.json');
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as { exitStatus?: number; signal?: number; exitedAt?: string | number; exitedAtNs?: string | number; oomKilled?: boolean };
    let at = 0n;
    if (r.exitedAtNs !== undefined) at = BigInt(String(r.exitedAtNs));
    else if (typeof r.exitedAt === 'number') at = BigInt(r.exitedAt);
    else if (typeof r.exitedAt === 'string' && /^\d+$/.test(r.exitedAt)) at = BigInt(r.exitedAt);
    else if (typeof r.exitedAt === 'string') at = BigInt(Date.parse(r.exitedAt)) * 1_000_000n;
    return { exitStatus: r.exitStatus ?? UNKNOWN_EXIT, exitSignal: r.signal ?? 0, exitedAt: at || nowNs(), oomKilled: Boolean(r.oomKilled), reason: '' };
  } catch {
    return undefined;
  }
}

function runtimeOf(c: ContainerRecord): string {
  return c.runtime.path || (c.runtime.name && c.runtime.name !== 'berth-runc' ? c.runtime.name : 'berth-runc');
}

function writeAtomic(file: string, data: string): void {
  writeFileSync(file + '.tmp', data);
  renameSync(file + '.tmp', file);
}

/** `<state>/<ns>/<id>/config.json`: the container's spec, its root pointing at the container's rootfs. */
function writeBundle(bundle: string, c: ContainerRecord, terminal: boolean, rootPath?: string): void {
  let spec: Record<string, unknown>;
  try {
    spec = JSON.parse(c.spec.toString('utf8') || '{}') as Record<string, unknown>;
  } catch (e) {
    throw new InvalidArgumentError(`container ${c.id}: its spec is not JSON: ${errorMessage(e)}`);
  }
  const root = (spec.root ?? {}) as { path?: string; readonly?: boolean };
  if (rootPath) {
    root.path = rootPath;
  } else if (c.rootfs) {
    if (!isAbsolute(c.rootfs)) throw new InvalidArgumentError(`container ${c.id}: rootfs must be an absolute path: ${c.rootfs}`);
    if (!existsSync(c.rootfs)) throw new InvalidArgumentError(`container ${c.id}: rootfs ${c.rootfs} does not exist`);
    root.path = c.rootfs;
  } else if (!root.path || !isAbsolute(root.path)) {
    throw new InvalidArgumentError(`container ${c.id} has no root filesystem: give it a rootfs directory or a snapshot key (berth-ctr run --rootfs DIR, or run IMAGE)`);
  }
  spec.root = root;
  const proc = (spec.process ?? {}) as { terminal?: boolean };
  proc.terminal = terminal;
  spec.process = proc;
  mkdirSync(bundle, { recursive: true, mode: 0o711 });
  writeAtomic(join(bundle, 'config.json'), JSON.stringify(spec, null, 2) + '\n');
}
