/**
 * A test double for berth-shim at the launcher boundary: an in-process berth.shim.v1.Task server
 * that keeps the contract's event rules (seq +1 per event, kept until acked, replay after
 * after_seq) and lets a test make the container exit, or the shim die, at will. End-to-end tests
 * use the real shim.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as shimv1 from '@berth/api/berth/shim/v1';
import { unixAddress } from '@berth/api';
import type { ShimLauncher, ShimStart } from '../runtime/launcher.js';
import { toLong, toNum } from '../long.js';

let nextPid = 50_000;

export class FakeShim {
  readonly pid = nextPid++;
  readonly server = new grpc.Server();
  alive = true;
  initPid = 0;
  status: shimv1.Status = shimv1.Status.STATUS_UNKNOWN;
  exit: shimv1.IExit | undefined;
  seq = 0;
  acked = 0;
  kept: shimv1.Event[] = [];
  /** When set, Events ignores after_seq and replays everything kept (a shim that lost its acks). */
  replayAll = false;
  readonly calls: string[] = [];
  private readonly streams = new Set<grpc.ServerWritableStream<shimv1.EventsRequest, shimv1.Event>>();
  private waiters: Array<() => void> = [];

  constructor(readonly opts: ShimStart) {}

  async listen(): Promise<void> {
    const impl: shimv1.TaskServer = {
      connect: this.u('connect', () => ({ protocol: 1, shimPid: this.pid, shimVersion: 'fake', id: this.opts.id, taskPid: this.initPid })),
      create: this.u('create', () => {
        this.initPid = this.pid + 100_000;
        this.status = shimv1.Status.STATUS_CREATED;
        this.emit({ created: { pid: this.initPid, bundle: this.opts.bundle } });
        return { pid: this.initPid };
      }),
      start: this.u('start', () => {
        this.status = shimv1.Status.STATUS_RUNNING;
        this.emit({ started: { pid: this.initPid } });
        return { pid: this.initPid };
      }),
      state: this.u('state', () => ({ id: this.opts.id, pid: this.initPid, status: this.status, exit: this.exit })),
      wait: (call, cb) => {
        if (this.exit) return cb(null, { exit: this.exit });
        this.waiters.push(() => cb(null, { exit: this.exit }));
      },
      kill: this.u('kill', (r: shimv1.KillRequest) => {
        if (this.status === shimv1.Status.STATUS_RUNNING) this.exitWith(128 + r.signal, r.signal);
        return {};
      }),
      exec: this.u('exec', () => ({})),
      resizePty: this.u('resizePty', () => ({})),
      closeStdin: this.u('closeStdin', () => ({})),
      pids: this.u('pids', () => ({ processes: [{ pid: this.initPid, execId: '' }] })),
      pause: this.u('pause', () => {
        this.emit({ paused: {} });
        return {};
      }),
      resume: this.u('resume', () => {
        this.emit({ resumed: {} });
        return {};
      }),
      stats: this.u('stats', () => ({ cpuUsageNs: toLong(1000), memoryUsageBytes: toLong(4096), pidsCurrent: toLong(1) })),
      update: this.u('update', () => ({})),
      delete: this.u('delete', () => {
        this.emit({ deleted: { pid: this.initPid, exit: this.exit } });
        return { pid: this.initPid, exit: this.exit };
      }),
      attach: (call) => {
        call.on('data', (m: shimv1.AttachRequest) => {
          if (m.request === 'stdin') call.write({ stdout: m.stdin });
        });
        call.on('end', () => call.end());
      },
      events: (call) => {
        const after = this.replayAll ? 0 : toNum(call.request.afterSeq as never);
        for (const e of this.kept) if (toNum(e.seq as never) > after) call.write(e);
        this.streams.add(call);
        call.on('cancelled', () => this.streams.delete(call));
      },
      ackEvents: this.u('ackEvents', (r: shimv1.AckEventsRequest) => {
        this.acked = Math.max(this.acked, toNum(r.seq as never));
        if (!this.replayAll) this.kept = this.kept.filter((e) => toNum(e.seq as never) > this.acked);
        return {};
      }),
      shutdown: this.u('shutdown', () => {
        setImmediate(() => this.die());
        return {};
      }),
    };
    this.server.addService(shimv1.TaskService, impl);
    mkdirSync(join(this.opts.bundle, 'shim'), { recursive: true });
    await new Promise<void>((resolve, reject) => this.server.bindAsync(unixAddress(this.opts.socket), grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  }

  private u<Req, Res>(name: string, fn: (req: Req) => Res): grpc.handleUnaryCall<Req, Res> {
    return (call, cb) => {
      this.calls.push(name);
      try {
        cb(null, fn(call.request));
      } catch (e) {
        cb({ code: grpc.status.INTERNAL, details: String(e) } as grpc.ServiceError);
      }
    };
  }

  emit(payload: Partial<shimv1.IEvent>): void {
    const e = shimv1.Event.create({ seq: toLong(++this.seq), timestampNs: toLong(BigInt(Date.now()) * 1_000_000n), id: this.opts.id, ...payload });
    this.kept.push(e);
    for (const s of this.streams) s.write(e);
  }

  /** The container's init ends: the exit record is written (as the real shim does) before the event. */
  exitWith(exitStatus: number, signal = 0, at = BigInt(Date.now()) * 1_000_000n): void {
    this.exit = { exitStatus, signal, exitedAtNs: toLong(at), oomKilled: false };
    this.status = shimv1.Status.STATUS_STOPPED;
    writeFileSync(join(this.opts.bundle, 'shim', 'exit-init.json'), JSON.stringify({ pid: this.initPid, exitStatus, signal, exitedAt: String(at), oomKilled: false }));
    this.emit({ exited: { execId: '', pid: this.initPid, exit: this.exit } });
    for (const w of this.waiters.splice(0)) w();
  }

  /** The shim process ends (kill -9, or after Shutdown). */
  die(): void {
    this.alive = false;
    for (const s of this.streams) s.destroy(new Error('shim gone'));
    this.streams.clear();
    this.server.forceShutdown();
    rmSync(this.opts.socket, { force: true });
  }
}

export class FakeLauncher implements ShimLauncher {
  readonly shims = new Map<string, FakeShim>();
  /** Called before a fake shim listens: lets a test shape it. */
  onStart?: (s: FakeShim) => void;

  async start(o: ShimStart): Promise<void> {
    const s = new FakeShim(o);
    this.onStart?.(s);
    this.shims.set(o.id, s);
    await s.listen();
  }

  alive(pid: number): boolean {
    return [...this.shims.values()].some((s) => s.pid === pid && s.alive);
  }

  readonly cleanups: string[] = [];
  cleanup(o: { id: string }): Promise<void> {
    this.cleanups.push(o.id);
    return Promise.resolve();
  }

  get(id: string): FakeShim {
    const s = this.shims.get(id);
    if (!s) throw new Error(`no fake shim for ${id}`);
    return s;
  }

  stopAll(): void {
    for (const s of this.shims.values()) if (s.alive) s.die();
  }
}
