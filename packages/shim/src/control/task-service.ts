import { closeSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import type { BerthNative } from '@berth/runc';
import { Status, type IEvent, type IExit, type TaskServer } from '@berth/api/berth/shim/v1';
import { type CgroupDirs, cgroupDirsOf, oomKillCount, readStats } from '../monitor/cgroup.js';
import { nowNs, rfc3339Nano } from '../monitor/clock.js';
import { type ExitRecord, removeExitRecord, writeExitRecord } from '../monitor/exit-record.js';
import { LogWriter, type Stream } from '../monitor/log-writer.js';
import type { Reaped, Reaper } from '../monitor/reaper.js';
import { ProcessIO } from '../monitor/stdio.js';
import { AttachHub, type AttachCall } from './attach.js';
import { ShimError, toStatus } from './errors.js';
import type { EventJournal, JournalEvent } from './events.js';
import type { Runtime } from './runtime.js';

/** 2: Attach answers `attached` first; the Spare service (packages/shim/README.md, row 12). */
export const PROTOCOL = 2;
/** How long an ended process's output may take to reach EOF before the exit is told anyway. */
const IO_DRAIN_MS = 2000;

type ProcStatus = 'new' | 'created' | 'running' | 'stopped';

interface Proc {
  execId: string;
  pid: number;
  status: ProcStatus;
  paused: boolean;
  terminal: boolean;
  stdin: boolean;
  stdinOnce: boolean;
  rows: number;
  cols: number;
  process?: object;
  io?: ProcessIO;
  hub: AttachHub;
  /** Settles once a start (and its TaskStarted) is over: an exit is told only after it. */
  starting?: Promise<unknown>;
  /** The exit, once recorded durably and told. */
  exit?: ExitRecord;
  waiters: Array<(e: ExitRecord) => void>;
  error?: string;
}

export interface ShimOptions {
  id: string;
  namespace: string;
  bundle: string;
  /** `<bundle>/shim`: exit records, events.log, the runtime's state and log. */
  dir: string;
  socket: string;
  defaultRuntime: string;
  version: string;
  native: BerthNative;
  reaper: Reaper;
  journal: EventJournal;
  openRuntime: (name: string, args: readonly string[]) => Promise<Runtime>;
  log: (level: 'debug' | 'info' | 'error', msg: string) => void;
  /** Called when the shim should exit (after the init's Delete, or Shutdown: its last call). */
  exit: (removeState: boolean, lastCall: boolean) => void;
}

/** The berth.shim.v1.Task service: the control side, driving the runtime and the monitor. */
export class TaskService {
  private readonly procs = new Map<string, Proc>();
  private runtime: Runtime | undefined;
  private logWriter: LogWriter | undefined;
  private cgroup: CgroupDirs = {};
  private oomBefore = 0;
  private consoleDir: string | undefined;
  private consoleSeq = 0;
  private initDeleted = false;

  constructor(private readonly o: ShimOptions) {}

  /** grpc-js handlers; every error is converted to a status here, once. */
  handlers(): TaskServer {
    const unary =
      <Req, Res>(fn: (req: Req) => Promise<Res> | Res): grpc.handleUnaryCall<Req, Res> =>
      (call, cb) => {
        Promise.resolve()
          .then(() => fn.call(this, call.request))
          .then(
            (res) => cb(null, res),
            (err) => {
              const s = toStatus(err);
              this.o.log('debug', `${call.getPath?.() ?? ''}: ${s.details}`);
              cb({ code: s.code, details: s.details });
            },
          );
      };
    return {
      connect: unary(this.connect),
      create: unary(this.create),
      start: unary(this.start),
      state: unary(this.state),
      wait: unary(this.wait),
      kill: unary(this.kill),
      exec: unary(this.exec),
      resizePty: unary(this.resizePty),
      closeStdin: unary(this.closeStdin),
      pids: unary(this.pids),
      pause: unary(this.pause),
      resume: unary(this.resume),
      stats: unary(this.stats),
      update: unary(this.update),
      delete: unary(this.delete),
      attach: (call) => this.attach(call),
      events: (call) => this.events(call),
      ackEvents: unary(this.ackEvents),
      shutdown: unary(this.shutdown),
    };
  }

  /** Removes what the service made outside the shim directory. */
  cleanup(): void {
    if (this.consoleDir) rmSync(this.consoleDir, { recursive: true, force: true });
    this.consoleDir = undefined;
  }

  private get init(): Proc | undefined {
    return this.procs.get('');
  }

  private proc(execId: string): Proc {
    const p = this.procs.get(execId ?? '');
    if (!p) throw ShimError.notFound(execId ? `no exec ${execId} in container ${this.o.id}` : `container ${this.o.id} has no task (Create first)`);
    return p;
  }

  connect() {
    return { protocol: PROTOCOL, shimPid: process.pid, shimVersion: this.o.version, id: this.o.id, taskPid: this.init?.pid ?? 0 };
  }

  async create(req: import('@berth/api/berth/shim/v1').CreateRequest) {
    if (this.procs.has('') || this.initDeleted) throw ShimError.exists(`container ${this.o.id} was created already (one shim serves one container)`);
    if (req.id && req.id !== this.o.id) throw ShimError.invalid(`this shim serves container ${this.o.id}, not ${req.id}`);
    if (req.bundle && resolve(req.bundle) !== resolve(this.o.bundle)) throw ShimError.invalid(`this shim serves bundle ${this.o.bundle}, not ${req.bundle}`);
    const init: Proc = { execId: '', pid: 0, status: 'new', paused: false, terminal: req.terminal, stdin: req.stdin, stdinOnce: req.stdinOnce, rows: req.rows, cols: req.cols, hub: new AttachHub(), waiters: [] };
    this.procs.set('', init);
    try {
      this.runtime = await this.o.openRuntime(req.runtime || this.o.defaultRuntime, req.runtimeArgs ?? []);
      if (req.log?.path) {
        this.logWriter = new LogWriter({ path: req.log.path, maxSize: Number(req.log.maxSize ?? 0), maxFiles: req.log.maxFiles || 1, onError: (e) => this.o.log('error', `log: ${e.message}`) });
      }
      init.pid = await this.launch(init, (io, consoleSocket) => this.runtime!.create(this.o.id, this.o.bundle, { stdio: io.containerFds!, ...(consoleSocket ? { consoleSocket } : {}) }));
    } catch (err) {
      this.procs.delete('');
      this.logWriter?.close();
      this.logWriter = undefined;
      throw err;
    }
    this.cgroup = cgroupDirsOf(init.pid);
    this.oomBefore = oomKillCount(this.cgroup);
    init.status = 'created';
    this.watch(init);
    this.publish({ created: { pid: init.pid, bundle: this.o.bundle } });
    return { pid: init.pid };
  }

  /** Sets up a process's stdio, runs the runtime call that makes the process, and wires output. */
  private async launch(p: Proc, make: (io: ProcessIO, consoleSocket?: string) => Promise<number>): Promise<number> {
    const onError = (m: string) => this.o.log('error', `${p.execId || 'init'} ${m}`);
    const sink = (stream: Stream, chunk: Buffer) => {
      if (p.execId === '') this.logWriter?.write(stream, chunk);
      p.hub.output(stream, chunk);
    };
    const io = p.terminal ? ProcessIO.terminal(this.o.native, sink, onError) : ProcessIO.pipes(this.o.native, sink, p.stdin, onError);
    let consoleSocket: string | undefined;
    let master: Promise<{ fd: number }> | undefined;
    if (p.terminal) {
      consoleSocket = this.consoleSocketPath();
      master = this.o.native.receiveConsole(consoleSocket, 30_000);
      master.catch(() => {}); // judged below, or moot when the runtime failed
    }
    let pid: number;
    try {
      pid = await make(io, consoleSocket);
      if (master) io.attachMaster((await master).fd, p.rows, p.cols);
    } catch (err) {
      io.dispose();
      // Release receiveConsole's listener (and its pool thread) now, not at its timeout, and
      // close a master that came before the runtime failed.
      if (consoleSocket) connect(consoleSocket).on('error', () => {}).end();
      master?.then(({ fd }) => closeSync(fd), () => {});
      throw err;
    } finally {
      io.closeContainerEnds();
    }
    p.io = io;
    return pid;
  }

  private consoleSocketPath(): string {
    if (!this.consoleDir) {
      // A private (0700) directory beside the shim's socket, whose path is short by design.
      const base = dirname(this.o.socket);
      this.consoleDir = Buffer.byteLength(base) < 80 ? mkdtempSync(join(base, '.c-')) : mkdtempSync(join(tmpdir(), 'berth-shim-'));
    }
    return join(this.consoleDir, `c${++this.consoleSeq}`);
  }

  async start(req: { execId: string }) {
    const p = this.proc(req.execId);
    if (p.execId === '') {
      if (p.status !== 'created') throw ShimError.precondition(`cannot start container ${this.o.id}: it is ${this.statusName(p)}`);
      p.starting = (async () => {
        await this.runtime!.start(this.o.id);
        p.status = 'running';
        this.publish({ started: { pid: p.pid } });
      })();
      await p.starting;
      return { pid: p.pid };
    }
    const init = this.init;
    if (!init || init.status !== 'running') throw ShimError.precondition(`cannot start exec ${p.execId}: container ${this.o.id} is not running`);
    if (p.status !== 'new') throw ShimError.precondition(`exec ${p.execId} was started already`);
    p.status = 'created';
    p.starting = (async () => {
      try {
        p.pid = await this.launch(p, (io, consoleSocket) => this.runtime!.exec(this.o.id, p.execId, p.process!, { stdio: io.containerFds!, ...(consoleSocket ? { consoleSocket } : {}) }));
      } catch (err) {
        p.status = 'new';
        throw err;
      }
      p.status = 'running';
      this.watch(p);
      this.publish({ execStarted: { execId: p.execId, pid: p.pid } });
    })();
    await p.starting;
    return { pid: p.pid };
  }

  /** Follows a process to its end: record, drain output, then tell. */
  private watch(p: Proc): void {
    void this.o.reaper.watch(p.pid).then((r) => this.exited(p, r)).catch((err) => this.o.log('error', `handling the exit of ${p.pid}: ${(err as Error).stack}`));
  }

  private async exited(p: Proc, r: Reaped): Promise<void> {
    const isInit = p.execId === '';
    const oomKilled = isInit && oomKillCount(this.cgroup) > this.oomBefore;
    const ns = nowNs();
    const record: ExitRecord = { pid: r.pid, exitStatus: r.exitStatus, signal: r.signal, exitedAt: rfc3339Nano(ns), exitedAtNs: ns.toString(), oomKilled };
    // Durable before anyone is told (contract 7). Should the disk refuse, the exit is still
    // told: a Wait that never returns would be worse than a record that is missing.
    try {
      writeExitRecord(this.o.dir, p.execId, record);
    } catch (err) {
      this.o.log('error', `cannot write the exit record of ${p.execId || 'the init'}: ${(err as Error).message}`);
    }
    this.o.log('debug', `${p.execId || 'init'} (pid ${r.pid}) ended with ${r.exitStatus}${oomKilled ? ' (OOM kill)' : ''}`);
    p.status = 'stopped';
    p.paused = false;
    // Its output is read to the end first, so the log and attach clients have every byte
    // before the exit is told; a descendant still holding the pipes is not waited for long.
    if (p.io) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([p.io.done, new Promise((res) => (timer = setTimeout(res, IO_DRAIN_MS)))]);
      clearTimeout(timer);
      p.io.dispose();
    }
    if (isInit && this.logWriter) {
      this.logWriter.endStream('stdout');
      this.logWriter.endStream('stderr');
    }
    await p.starting?.catch(() => {});
    if (oomKilled) this.publish({ oom: {} });
    this.publish({ exited: { execId: p.execId, pid: r.pid, exit: record } });
    p.exit = record;
    p.hub.finish(exitProto(record));
    for (const w of p.waiters.splice(0)) w(record);
  }

  state(req: { execId: string }) {
    const p = this.proc(req.execId);
    return {
      id: this.o.id,
      execId: p.execId,
      pid: p.pid,
      status: this.status(p),
      terminal: p.terminal,
      bundle: this.o.bundle,
      ...(p.exit ? { exit: exitProto(p.exit) } : {}),
      ...(p.error ? { error: p.error } : {}),
    };
  }

  private status(p: Proc): Status {
    if (p.exit || p.status === 'stopped') return Status.STATUS_STOPPED;
    if (p.status === 'running') return p.paused || (p.execId !== '' && this.init?.paused) ? Status.STATUS_PAUSED : Status.STATUS_RUNNING;
    return Status.STATUS_CREATED;
  }

  private statusName(p: Proc): string {
    return Status[this.status(p)]!.replace('STATUS_', '').toLowerCase();
  }

  async wait(req: { execId: string }) {
    const p = this.proc(req.execId);
    const rec = p.exit ?? (await new Promise<ExitRecord>((res) => p.waiters.push(res)));
    return { exit: exitProto(rec) };
  }

  async kill(req: { execId: string; signal: number; all: boolean }) {
    const p = this.proc(req.execId);
    const signal = req.signal || 15;
    if (p.status === 'stopped' || p.exit) throw ShimError.notFound(`${p.execId ? 'exec ' + p.execId : 'container ' + this.o.id}: process already finished`);
    if (p.status === 'new') throw ShimError.precondition(`${p.execId ? 'exec ' + p.execId : 'container ' + this.o.id} has not been ${p.execId ? 'started' : 'created'} yet`);
    if (p.execId === '') {
      await this.runtime!.kill(this.o.id, signal, req.all);
    } else {
      process.kill(p.pid, signal);
    }
    return {};
  }

  exec(req: import('@berth/api/berth/shim/v1').ExecRequest) {
    const init = this.init;
    if (!init || init.status === 'stopped' || init.status === 'new') throw ShimError.precondition(`cannot exec in container ${this.o.id}: it is not running`);
    if (!req.execId) throw ShimError.invalid('exec_id is required');
    if (this.procs.has(req.execId)) throw ShimError.exists(`exec ${req.execId} exists already in container ${this.o.id}`);
    let process: object;
    try {
      process = JSON.parse(Buffer.from(req.processJson).toString('utf8')) as object;
    } catch (err) {
      throw ShimError.invalid(`process_json is not valid JSON: ${(err as Error).message}`);
    }
    const proc = process as { terminal?: boolean; consoleSize?: { height: number; width: number } };
    const terminal = req.terminal || proc.terminal === true;
    proc.terminal = terminal;
    // An exec runs as soon as the runtime makes it: its size must come with it, not after.
    if (terminal && req.rows && req.cols) proc.consoleSize = { height: req.rows, width: req.cols };
    this.procs.set(req.execId, { execId: req.execId, pid: 0, status: 'new', paused: false, terminal, stdin: req.stdin, stdinOnce: false, rows: req.rows, cols: req.cols, process, hub: new AttachHub(), waiters: [] });
    this.publish({ execAdded: { execId: req.execId } });
    return {};
  }

  resizePty(req: { execId: string; rows: number; cols: number }) {
    const p = this.proc(req.execId);
    if (!p.terminal) throw ShimError.precondition(`${p.execId || 'the init'} has no terminal`);
    p.rows = req.rows;
    p.cols = req.cols;
    p.io?.resize(req.rows, req.cols);
    return {};
  }

  closeStdin(req: { execId: string }) {
    this.proc(req.execId).io?.closeStdin();
    return {};
  }

  async pids() {
    this.live();
    const pids = await this.runtime!.ps(this.o.id);
    const byPid = new Map([...this.procs.values()].filter((p) => p.execId && p.status === 'running').map((p) => [p.pid, p.execId]));
    return { processes: pids.map((pid) => ({ pid, execId: byPid.get(pid) ?? '' })) };
  }

  async pause() {
    const init = this.live();
    await this.runtime!.pause(this.o.id);
    init.paused = true;
    this.publish({ paused: {} });
    return {};
  }

  async resume() {
    const init = this.live();
    await this.runtime!.resume(this.o.id);
    init.paused = false;
    this.publish({ resumed: {} });
    return {};
  }

  async stats() {
    this.live();
    const s = (await this.runtime!.stats(this.o.id)) ?? readStats(this.cgroup);
    return {
      cpuUsageNs: s.cpuUsageNs,
      memoryUsageBytes: s.memoryUsage,
      memoryLimitBytes: s.memoryLimit,
      pidsCurrent: s.pidsCurrent,
      pidsLimit: s.pidsLimit,
      rawJson: Buffer.from(JSON.stringify(s.raw)),
    };
  }

  async update(req: { resourcesJson: Uint8Array }) {
    this.live();
    let resources: object;
    try {
      resources = JSON.parse(Buffer.from(req.resourcesJson).toString('utf8')) as object;
    } catch (err) {
      throw ShimError.invalid(`resources_json is not valid JSON: ${(err as Error).message}`);
    }
    await this.runtime!.update(this.o.id, resources);
    return {};
  }

  /** The init, which must exist and not have ended. */
  private live(): Proc {
    const init = this.proc('');
    if (init.status === 'stopped' || init.exit) throw ShimError.precondition(`container ${this.o.id} is not running`);
    return init;
  }

  async delete(req: { execId: string }) {
    const p = this.proc(req.execId);
    if (p.execId) {
      if (p.status === 'running' || p.status === 'created') {
        if (!p.exit) throw ShimError.precondition(`cannot delete exec ${p.execId}: it is running`);
      }
      this.procs.delete(p.execId);
      removeExitRecord(this.o.dir, p.execId);
      this.publish({ deleted: { execId: p.execId, pid: p.pid, ...(p.exit ? { exit: p.exit } : {}) } });
      return { pid: p.pid, ...(p.exit ? { exit: exitProto(p.exit) } : {}) };
    }
    if (p.status === 'running' && !p.exit) throw ShimError.precondition(`cannot delete container ${this.o.id}: it is running (kill it first)`);
    if (p.status === 'created' && !p.exit) {
      // Created, never started: the runtime kills it; its exit is recorded and told as any other.
      await this.runtime!.delete(this.o.id, true);
      await new Promise<ExitRecord>((res) => (p.exit ? res(p.exit) : p.waiters.push(res)));
    } else {
      if (!p.exit) await new Promise<ExitRecord>((res) => p.waiters.push(res)); // stopped, being told
      await this.runtime!.delete(this.o.id, false);
    }
    this.initDeleted = true;
    const exit = exitProto(p.exit!);
    this.publish({ deleted: { execId: '', pid: p.pid, exit: p.exit } });
    this.procs.delete('');
    this.logWriter?.close();
    this.logWriter = undefined;
    this.o.exit(true, false);
    return { pid: p.pid, exit };
  }

  attach(call: AttachCall): void {
    let detach: (() => void) | undefined;
    let p: Proc | undefined;
    let withStdin = false;
    let inputEnded = false;
    // The client's input ended (its half-close, or it left): with stdin_once the process's stdin
    // closes. Output goes on to a client that only half-closed, until the exit.
    const endInput = () => {
      if (inputEnded) return;
      inputEnded = true;
      if (p && withStdin && p.stdinOnce) p.io?.closeStdin();
    };
    const leave = () => {
      detach?.();
      detach = undefined;
      endInput();
    };
    call.on('data', (req: import('@berth/api/berth/shim/v1').AttachRequest) => {
      try {
        if (!p) {
          if (!req.start) throw ShimError.invalid('the first attach message must be start');
          p = this.proc(req.start.execId ?? '');
          withStdin = req.start.stdin === true;
          // Registered from here on (stdin above, outputs below, in this same turn): say so
          // first, so a client starts the process only now and loses no output (row 5).
          call.write({ attached: {} });
          detach = p.hub.add(call, { stdout: req.start.stdout === true, stderr: req.start.stderr === true });
          return;
        }
        if (req.stdin && req.stdin.length && withStdin && !inputEnded) p.io?.writeStdin(Buffer.from(req.stdin));
        else if (req.closeStdin) {
          inputEnded = true;
          p.io?.closeStdin();
        } else if (req.resize) p.io?.resize(req.resize.rows ?? 0, req.resize.cols ?? 0);
      } catch (err) {
        const s = toStatus(err);
        call.destroy(Object.assign(new Error(s.details), { code: s.code, details: s.details }));
      }
    });
    call.on('end', endInput);
    call.on('cancelled', leave);
    call.on('error', leave);
    call.on('close', leave);
  }

  events(call: grpc.ServerWritableStream<import('@berth/api/berth/shim/v1').EventsRequest, IEvent>): void {
    const after = Number(call.request.afterSeq?.toString() ?? 0);
    const send = (e: JournalEvent) => {
      if (e.seq > after) call.write(this.toEvent(e));
    };
    const { replay, unsubscribe } = this.o.journal.subscribe(after, send);
    for (const e of replay) send(e);
    const stop = () => unsubscribe();
    call.on('cancelled', stop);
    call.on('close', stop);
    call.on('error', stop);
  }

  ackEvents(req: { seq: number | { toString(): string } }) {
    this.o.journal.ack(Number(req.seq.toString()));
    return {};
  }

  shutdown(req: { now: boolean }) {
    const init = this.init;
    if (init && !req.now) throw ShimError.precondition(`container ${this.o.id} has not been deleted (Delete it, or Shutdown with now)`);
    this.o.exit(!init, true);
    return {};
  }

  private publish(body: Record<string, unknown>): void {
    try {
      this.o.journal.publish(body);
    } catch (err) {
      this.o.log('error', `cannot persist event ${Object.keys(body)[0]}: ${(err as Error).message}`);
    }
  }

  private toEvent(e: JournalEvent): IEvent {
    const body = structuredClone(e.body) as Record<string, { exit?: ExitRecord | IExit }>;
    for (const v of Object.values(body)) if (v && v.exit && 'exitedAtNs' in v.exit && typeof v.exit.exitedAtNs === 'string') v.exit = exitProto(v.exit as ExitRecord);
    return { seq: e.seq, timestampNs: int64(BigInt(e.ns)), id: this.o.id, ...body } as IEvent;
  }
}

/** An int64 for protobufjs' encoder (it reads low/high), exact beyond 2^53. */
export function int64(v: bigint): number {
  const u = BigInt.asUintN(64, v);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned: false } as unknown as number;
}

export function exitProto(r: ExitRecord): IExit {
  return { exitStatus: r.exitStatus, signal: r.signal, exitedAtNs: int64(BigInt(r.exitedAtNs)), oomKilled: r.oomKilled };
}
