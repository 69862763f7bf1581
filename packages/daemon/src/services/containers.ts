// berth.engine.v1.Containers over the engine (the backend this router consumes is ContainersBackend).
import { execFile } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type * as grpc from '@grpc/grpc-js';
import type {
  AttachRequest, ContainersServer, ExecStartRequest, IAttachResponse, IContainerSummary, IExecStartResponse, LogsRequest, StatsRequest,
} from '@berth/api/berth/engine/v1';
import type { AttachResponse as CtdAttachResponse, IAttachRequest as CtdAttachRequest } from '@berth/api/berth/tasks/v1';
import { NAMESPACE } from '../containerd/client.js';
import { statusText } from '../container/status.js';
import { parseTimeNs, rfc3339Nano } from '../container/record.js';
import type { Engine } from '../engine.js';
import { FailedPreconditionError, InvalidArgumentError, UnavailableError, errorMessage } from '@berth/api/errdefs';
import { readLogLines, readLogs } from '../logs/reader.js';
import { LogTimes } from '../logs/log-time.js';
import { toRuns } from '../logs/runs.js';
import { containerJSON } from './inspect.js';
import { big, fail, num, unary } from './handler.js';

const run = promisify(execFile);

/** What the Containers router needs of the daemon (moby's router/container/backend.go habit). */
export type ContainersBackend = Pick<Engine,
  'create' | 'start' | 'stop' | 'restart' | 'kill' | 'pause' | 'remove' | 'list' | 'get' | 'wait' | 'rename' | 'update' |
  'execCreate' | 'exec' | 'execProcess' | 'execs' | 'prune' | 'images' | 'containerChanged' | 'ctd' | 'emit' |
  'handleExit' | 'prepareAttach' | 'registeringAttach' | 'attachOpened'>;

/** Input an exec's client sends before the process runs is held, up to this much; past it the client's stream is paused. */
export const EXEC_STDIN_BUFFER = 1 << 20;

/**
 * With an older berth-containerd (no `attached` answer in berth.tasks.v1 Attach), how long after
 * it opened an attach counts as registered with the shim (the shim registers on its first message).
 */
export const ATTACH_SETTLE_MS = 50;
/** How long berth-containerd's announced `attached` may take (a safety net: it takes milliseconds). */
export const ATTACH_ACK_TIMEOUT_MS = 10_000;

/**
 * Resolves once an attach is registered with the shim, so a Start after it loses no output.
 * berth-containerd answers `attached` first and announces it with the `berth-attach-ack` header,
 * sent as the stream opens (tasks.proto). An older one sends neither (headers only come with
 * output, which means registered too): then the attach counts as registered ATTACH_SETTLE_MS
 * after it opened, as before. Rejects with a clear error if the announced answer never comes.
 */
function attachRegistered(up: grpc.ClientDuplexStream<CtdAttachRequest, CtdAttachResponse>, containerId: string): { registered: Promise<void>; acked: () => void } {
  let acked: () => void = () => undefined;
  const ack = new Promise<void>((r) => { acked = r; });
  const registered = new Promise<void>((resolve, reject) => {
    let announced = false;
    const settle = setTimeout(() => { if (!announced) resolve(); }, ATTACH_SETTLE_MS);
    up.once('metadata', (md: grpc.Metadata) => {
      clearTimeout(settle);
      if (md.get('berth-attach-ack')[0] !== '1') return resolve();
      announced = true;
      const safety = setTimeout(() => reject(new UnavailableError(
        `attach to ${containerId}: berth-containerd did not confirm that the attach joined the container within ${ATTACH_ACK_TIMEOUT_MS / 1000} s (its shim may be stuck); try again`,
      )), ATTACH_ACK_TIMEOUT_MS);
      void ack.then(() => clearTimeout(safety));
    });
    void ack.then(() => { clearTimeout(settle); resolve(); });
  });
  return { registered, acked };
}

/** Input held until a process runs: bounded; the order of stdin, close and resizes kept. */
export class InputGate<T extends { stdin?: Uint8Array | null }> {
  private held: T[] = [];
  private bytes = 0;
  private open = false;
  constructor(private readonly send: (m: T) => void, private readonly limit = EXEC_STDIN_BUFFER, private readonly onFull?: (full: boolean) => void) {}
  push(m: T): void {
    if (this.open) return this.send(m);
    this.held.push(m);
    this.bytes += m.stdin?.length ?? 0;
    if (this.bytes >= this.limit) this.onFull?.(true);
  }
  /** The process runs: everything held goes, in order, and the rest passes straight through. */
  release(): void {
    if (this.open) return;
    this.open = true;
    for (const m of this.held.splice(0)) this.send(m);
    if (this.bytes >= this.limit) this.onFull?.(false);
    this.bytes = 0;
  }
  get heldBytes(): number {
    return this.bytes;
  }
}

/** Docker's default detach keys: ctrl-p, ctrl-q. */
export function parseDetachKeys(s: string | null | undefined): Buffer | undefined {
  if (s === 'none') return undefined;
  const spec = s || 'ctrl-p,ctrl-q';
  const out: number[] = [];
  for (const k of spec.split(',')) {
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(k);
    if (m) out.push(m[1]!.charCodeAt(0) & 0x1f);
    else if (k.length === 1) out.push(k.charCodeAt(0));
    else throw new InvalidArgumentError(`invalid detach keys (${spec}): use ctrl-<key> or a single character, comma-separated`);
  }
  return Buffer.from(out);
}

/** Scans input for the detach sequence; returns the bytes to pass on and whether it was typed. */
export class DetachScanner {
  private held = Buffer.alloc(0);
  constructor(private readonly keys: Buffer | undefined) {}
  feed(b: Buffer): { pass: Buffer; detach: boolean } {
    if (!this.keys) return { pass: b, detach: false };
    const data = Buffer.concat([this.held, b]);
    this.held = Buffer.alloc(0);
    const at = data.indexOf(this.keys);
    if (at >= 0) return { pass: data.subarray(0, at), detach: true };
    // Hold back a tail that may be the start of the sequence.
    for (let n = Math.min(this.keys.length - 1, data.length); n > 0; n--) {
      if (data.subarray(data.length - n).equals(this.keys.subarray(0, n))) {
        this.held = Buffer.from(data.subarray(data.length - n));
        return { pass: data.subarray(0, data.length - n), detach: false };
      }
    }
    return { pass: data, detach: false };
  }
}

/**
 * Docker's name filter: a regular expression, tried on the name with and without its leading
 * slash (moby's daemon/list.go); a pattern that does not compile matches nothing.
 */
export function nameMatches(pattern: string, name: string): boolean {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch {
    return false;
  }
  return re.test(name) || re.test(name.replace(/^\//, ''));
}

function matchesFilters(c: ReturnType<ContainersBackend['list']>[number], filters: { key?: string | null; values?: string[] | null }[], imageTags: (id: string) => string[]): boolean {
  for (const f of filters) {
    const values = f.values ?? [];
    if (!values.length) continue;
    const ok = values.some((v) => {
      switch (f.key) {
        case 'id': return c.Id.startsWith(v);
        case 'name': return nameMatches(v, c.Name);
        case 'status': return c.State.Status === v;
        case 'exited': return c.State.Status === 'exited' && String(c.State.ExitCode) === v;
        case 'label': {
          const [k, val] = v.split('=', 2) as [string, string | undefined];
          return k in c.Config.Labels && (val === undefined || c.Config.Labels[k] === val);
        }
        case 'ancestor': return c.Config.Image === v || c.Image === v || c.Image.slice(7).startsWith(v) || imageTags(c.Image).includes(v.includes(':') ? v : `${v}:latest`);
        default: throw new InvalidArgumentError(`invalid filter '${f.key}'`);
      }
    });
    if (!ok) return false;
  }
  return true;
}

export function containersService(b: ContainersBackend): ContainersServer {
  const tagsOf = (id: string): string[] => b.images.tagsOf(id);
  return {
    create: unary((r) => b.create(r.name, r.config ?? {}, r.hostConfig)),
    start: unary(async (r) => { await b.start(r.id); return {}; }),
    stop: unary(async (r) => { await b.stop(r.id, r.timeout ?? null, r.signal); return {}; }),
    restart: unary(async (r) => { await b.restart(r.id, r.timeout ?? null, r.signal); return {}; }),
    kill: unary(async (r) => { await b.kill(r.id, r.signal); return {}; }),
    pause: unary(async (r) => { await b.pause(r.id, true); return {}; }),
    unpause: unary(async (r) => { await b.pause(r.id, false); return {}; }),
    remove: unary(async (r) => { await b.remove(r.id, r.force); return {}; }),
    list: unary((r) => {
      let list = b.list().filter((c) => r.all || c.State.Status === 'running' || c.State.Status === 'paused' || c.State.Status === 'restarting');
      list = list.filter((c) => matchesFilters(c, r.filters, tagsOf));
      if (r.limit > 0) list = list.slice(0, r.limit);
      const containers: IContainerSummary[] = list.map((c) => {
        const tags = tagsOf(c.Image);
        return {
          id: c.Id, names: [c.Name], image: tags.includes(c.Config.Image.includes(':') ? c.Config.Image : `${c.Config.Image}:latest`) || tags.length === 0 ? c.Config.Image : c.Image,
          imageId: c.Image, command: [c.Path, ...c.Args].map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' '),
          created: Math.floor(Number(parseTimeNs(c.Created) / 1_000_000_000n)), ports: [], labels: c.Config.Labels,
          state: c.State.Status, status: statusText(c), networkMode: c.HostConfig.NetworkMode, mounts: (c.HostConfig.Binds ?? []).map((x) => x.split(':')[1] ?? x),
        };
      });
      return { containers };
    }),
    inspect: unary((r) => {
      const c = b.get(r.id);
      const execIds = [...b.execs.values()].filter((e) => e.containerId === c.Id && !e.exited).map((e) => e.id);
      return { inspectJson: Buffer.from(JSON.stringify(containerJSON(c, execIds))), id: c.Id, name: c.Name };
    }),
    wait: unary((r, call) => {
      const ac = new AbortController();
      call.on('cancelled', () => ac.abort());
      return b.wait(r.id, r.condition, ac.signal);
    }),
    rename: unary((r) => { b.rename(r.id, r.newName); return {}; }),
    update: unary(async (r) => ({ warnings: await b.update(r.id, r.resources, r.restartPolicy) })),
    logs: (call) => { void logs(b, call).catch((e: unknown) => fail(call, e)); },
    attach: (call) => attach(b, call),
    execCreate: unary((r) => {
      const cfg = r.config ?? {};
      const id = b.execCreate(r.id, {
        cmd: cfg.cmd ?? [], env: cfg.env ?? [], user: cfg.user ?? '', workingDir: cfg.workingDir ?? '', tty: Boolean(cfg.tty),
        attachStdin: Boolean(cfg.attachStdin), privileged: Boolean(cfg.privileged), rows: num(cfg.consoleRows), cols: num(cfg.consoleCols),
      });
      return { execId: id };
    }),
    execStart: (call) => execStart(b, call),
    execResize: unary(async (r) => {
      const e = b.exec(r.execId);
      await b.ctd.call(b.ctd.tasks, (t) => t.resizePty, { namespace: NAMESPACE, containerId: e.containerId, execId: e.id, rows: r.rows, cols: r.cols });
      return {};
    }),
    execInspect: unary((r) => {
      const e = b.exec(r.execId);
      return {
        id: e.id, containerId: e.containerId, running: e.running, exitCode: e.exitCode, pid: e.pid, exited: e.exited,
        config: { cmd: e.args, env: e.env, user: e.user, workingDir: e.workingDir, tty: e.tty, attachStdin: e.attachStdin, privileged: e.privileged },
      };
    }),
    top: unary(async (r) => {
      const c = b.get(r.id);
      if (c.State.Status !== 'running' && c.State.Status !== 'paused') throw new FailedPreconditionError(`Container ${c.Id} is not running`);
      const { processes } = await b.ctd.call(b.ctd.tasks, (t) => t.pids, { namespace: NAMESPACE, containerId: c.Id });
      const pids = new Set(processes.map((p) => p.pid));
      const args = (r.psArgs || '-ef').split(/\s+/).filter(Boolean);
      const { stdout } = await run('ps', args).catch((e: { stderr?: string }) => {
        throw new InvalidArgumentError(`ps ${args.join(' ')}: ${e.stderr?.trim() ?? 'failed'}`);
      });
      const lines = stdout.split('\n').filter(Boolean);
      const titles = (lines[0] ?? '').trim().split(/\s+/);
      const pidCol = titles.indexOf('PID');
      if (pidCol < 0) throw new InvalidArgumentError(`couldn't find PID field in ps output`);
      const rows = lines.slice(1).map((l) => {
        const f = l.trim().split(/\s+/);
        const fixed = f.slice(0, titles.length - 1);
        fixed.push(f.slice(titles.length - 1).join(' '));
        return fixed;
      }).filter((f) => pids.has(Number(f[pidCol])));
      return { titles, processes: rows.map((values) => ({ values })) };
    }),
    stats: (call) => { void stats(b, call).catch((e: unknown) => fail(call, e)); },
    prune: unary(async () => ({ containersDeleted: await b.prune(), spaceReclaimed: 0 })),
  };
}

async function logs(b: ContainersBackend, call: grpc.ServerWritableStream<LogsRequest, unknown>): Promise<void> {
  const r = call.request;
  const c = b.get(r.id);
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort());
  const wantOut = r.stdout || (!r.stdout && !r.stderr);
  const wantErr = r.stderr || (!r.stdout && !r.stderr);
  const maxFiles = Number(c.HostConfig.LogConfig.Config['max-file'] ?? '1') || 1;
  const done = (): boolean => {
    try {
      const cur = b.get(c.Id);
      return cur.State.Status !== 'running' && cur.State.Status !== 'paused' && cur.State.Status !== 'restarting';
    } catch {
      return true;
    }
  };
  const opts = { maxFiles, follow: r.follow, tail: r.tail ?? undefined, sinceNs: big(r.sinceNs), untilNs: big(r.untilNs), signal: ac.signal, done };
  // Back-pressure: the next block waits for the client (or for its going away).
  const drained = (): Promise<void> => new Promise<void>((res) => {
    if (ac.signal.aborted) return res();
    const go = (): void => {
      call.off('drain', go);
      ac.signal.removeEventListener('abort', go);
      res();
    };
    call.on('drain', go);
    ac.signal.addEventListener('abort', go);
  });
  if (r.runs) {
    // Many entries per message (a block of the file each), as the client asked.
    const times = new LogTimes();
    for await (const lines of readLogLines(c.LogPath, opts)) {
      const runs = toRuns(lines, { stdout: wantOut, stderr: wantErr, timestamps: r.timestamps }, times);
      if (runs.length && !call.write({ runs })) await drained();
    }
  } else {
    // An older client: one entry per message.
    for await (const e of readLogs(c.LogPath, opts)) {
      if ((e.stream === 'stdout' && !wantOut) || (e.stream === 'stderr' && !wantErr)) continue;
      const data = r.timestamps ? Buffer.concat([Buffer.from(`${rfc3339Nano(e.timeNs)} `), e.data]) : e.data;
      if (!call.write({ stream: e.stream, data, timeNs: e.timeNs.toString() })) await drained();
    }
  }
  call.end();
}

/**
 * Bridges a client's attach (or exec start) to berth-containerd's Tasks.Attach: stdin through the
 * detach-key scanner, resizes, output back, the exit at the end. For the container's init, the
 * exit is recorded (State, restart policy) before the client is told it; for an exec, input is
 * held until the process runs.
 */
function bridge(
  b: ContainersBackend,
  call: grpc.ServerDuplexStream<AttachRequest | ExecStartRequest, IAttachResponse | IExecStartResponse>,
  o: {
    containerId: string; execId: string; stdin: boolean; stdout: boolean; stderr: boolean; detachKeys: Buffer | undefined;
    beforeStart?: () => Promise<void>; onExit?: (code: number) => void; onRegistered?: () => void; onFinish?: () => void;
  },
): void {
  const up = b.ctd.tasks.attach() as grpc.ClientDuplexStream<CtdAttachRequest, CtdAttachResponse>;
  const scanner = new DetachScanner(o.detachKeys);
  const closeAttach = o.execId ? () => undefined : b.attachOpened(o.containerId);
  let finished = false;
  const finish = (e?: unknown): void => {
    if (finished) return;
    finished = true;
    up.cancel();
    if (e) fail(call, e);
    else call.end();
    closeAttach();
    o.onFinish?.();
  };
  // An exec's input waits for the process: the shim has no stdin for it before its Start.
  const gate = new InputGate<CtdAttachRequest>((m) => up.write(m), EXEC_STDIN_BUFFER, (full) => (full ? call.pause() : call.resume()));
  if (!o.beforeStart) gate.release();
  let exiting = Promise.resolve();
  const { registered: settled, acked } = attachRegistered(up, o.containerId);
  up.on('data', (m: CtdAttachResponse) => {
    if (m.output === 'attached') acked();
    else if (m.output === 'stdout' && m.stdout) call.write({ stdout: m.stdout });
    else if (m.output === 'stderr' && m.stderr) call.write({ stderr: m.stderr });
    else if (m.output === 'exit' && m.exit) {
      const x = m.exit;
      const code = num(x.exitStatus);
      o.onExit?.(code);
      // The init's exit is recorded before anyone is told of it (an inspect after the attach's
      // exit sees it); handleExit is idempotent with the event that also tells it.
      const recorded = o.execId ? Promise.resolve() : b.handleExit(o.containerId, {
        pid: 0, exitStatus: code, exitedAtNs: BigInt(String(x.exitedAtNs ?? 0)), oomKilled: Boolean(x.oomKilled), reason: x.reason ?? '',
      }).catch(() => undefined);
      exiting = recorded.then(() => {
        if (finished) return;
        call.write({ exit: { statusCode: code, error: x.reason ?? '' } });
        finish();
      });
    }
  });
  up.on('error', (e: unknown) => void exiting.then(() => finish(e)));
  up.on('end', () => void exiting.then(() => finish()));
  up.write({ start: { namespace: NAMESPACE, containerId: o.containerId, execId: o.execId, stdin: o.stdin, stdout: o.stdout, stderr: o.stderr } });
  call.on('data', (m: AttachRequest | ExecStartRequest) => {
    if (finished) return;
    if (m.request === 'stdin' && m.stdin && o.stdin) {
      const { pass, detach } = scanner.feed(Buffer.from(m.stdin));
      if (pass.length) gate.push({ stdin: pass });
      if (detach) {
        call.write({ detached: true });
        finish();
      }
    } else if (m.request === 'closeStdin' && o.stdin) gate.push({ closeStdin: true });
    else if (m.request === 'resize' && m.resize) {
      gate.push({ resize: { namespace: NAMESPACE, containerId: o.containerId, execId: o.execId, rows: m.resize.rows, cols: m.resize.cols } });
    }
  });
  call.on('cancelled', () => finish());
  // Messages the client sent while the attach was being set up were held (paused): now they go.
  call.resume();
  // The process starts (or the client is told it may start it) once the attach is registered.
  void settled.then(() => { if (!finished) o.onRegistered?.(); }, (e: unknown) => finish(e));
  if (o.beforeStart) {
    void settled.then(() => o.beforeStart!()).then(() => gate.release(), (e: unknown) => finish(e));
  }
}

function attach(b: ContainersBackend, call: grpc.ServerDuplexStream<AttachRequest, IAttachResponse>): void {
  call.once('data', (first: AttachRequest) => {
    // Hold what follows (stdin sent at once) until the bridge listens.
    call.pause();
    void (async () => {
      if (first.request !== 'start' || !first.start) throw new InvalidArgumentError('attach: the first message must be start');
      const s = first.start;
      const c = b.get(s.id ?? '');
      const status = c.State.Status;
      if (status !== 'running' && status !== 'paused' && status !== 'created' && status !== 'exited') {
        throw new FailedPreconditionError(`You cannot attach to a ${status} container, start it first`);
      }
      const detachKeys = parseDetachKeys(s.detachKeys);
      // A Start that comes while this attach is being set up waits for it.
      let registered: () => void = () => undefined;
      b.registeringAttach(c.Id, new Promise<void>((r) => { registered = r; setTimeout(r, 10_000); }));
      try {
        // Not running: its task is made now, so the attach joins it before the Start.
        if (status === 'created' || status === 'exited') await b.prepareAttach(c.Id);
        if (s.logs) {
          for (const line of readFileSafe(c.LogPath)) call.write(line.stream === 'stderr' ? { stderr: line.data } : { stdout: line.data });
        }
        b.emit('container', 'attach', c.Id, { name: c.Name.slice(1) });
        bridge(b, call, {
          containerId: c.Id, execId: '', stdin: Boolean(s.stdin) && c.Config.OpenStdin, stdout: Boolean(s.stdout), stderr: Boolean(s.stderr), detachKeys,
          onRegistered: () => {
            call.write({ attached: true });
            registered();
          },
          onFinish: registered,
        });
        call.on('cancelled', registered);
      } catch (e) {
        registered();
        throw e;
      }
    })().catch((e: unknown) => fail(call, e));
  });
}

function readFileSafe(path: string): { stream: string; data: Buffer }[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => {
      const j = JSON.parse(l) as { log?: string; stream?: string; log_b64?: string };
      return { stream: j.stream ?? 'stdout', data: j.log_b64 ? Buffer.from(j.log_b64, 'base64') : Buffer.from(j.log ?? '') };
    });
  } catch {
    return [];
  }
}

function execStart(b: ContainersBackend, call: grpc.ServerDuplexStream<ExecStartRequest, IExecStartResponse>): void {
  call.once('data', (first: ExecStartRequest) => {
    // Hold what follows (stdin sent at once) until the bridge listens.
    call.pause();
    void (async () => {
      if (first.request !== 'start' || !first.start) throw new InvalidArgumentError('exec start: the first message must be start');
      const e = b.exec(first.start.execId ?? '');
      if (e.running || e.exited) throw new FailedPreconditionError(`exec ${e.id} has already been started`);
      const c = b.get(e.containerId);
      if (c.State.Status !== 'running') throw new FailedPreconditionError(`Container ${c.Id} is not running`);
      const processJson = Buffer.from(JSON.stringify(b.execProcess(e)));
      await b.ctd.call(b.ctd.tasks, (t) => t.exec, {
        namespace: NAMESPACE, containerId: c.Id, execId: e.id, processJson, terminal: e.tty, stdin: e.attachStdin, rows: e.rows, cols: e.cols,
      });
      const startIt = async (): Promise<void> => {
        // Told before the start, as moby does: a short exec's exit can reach the client (and
        // its next call) before the start's answer reaches berthd.
        b.emit('container', `exec_start: ${e.args.join(' ')}`, c.Id, { execID: e.id, name: c.Name.slice(1) });
        const r = await b.ctd.call(b.ctd.tasks, (t) => t.start, { namespace: NAMESPACE, containerId: c.Id, execId: e.id });
        e.pid = r.pid;
        // Its exit may have been told already.
        if (!e.exited) e.running = true;
      };
      if (first.start.detach) {
        await startIt();
        call.write({ detached: true });
        call.end();
        return;
      }
      bridge(b, call, {
        containerId: c.Id, execId: e.id, stdin: e.attachStdin, stdout: true, stderr: true, detachKeys: undefined, beforeStart: startIt,
        onExit: (code) => {
          e.running = false;
          e.exited = true;
          e.exitCode = code;
        },
      });
    })().catch((err: unknown) => fail(call, err));
  });
}

function hostCpuNs(): bigint {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const ticks = line.trim().split(/\s+/).slice(1, 8).reduce((a, v) => a + BigInt(v), 0n);
  return (ticks * 1_000_000_000n) / 100n; // USER_HZ
}

async function stats(b: ContainersBackend, call: grpc.ServerWritableStream<StatsRequest, unknown>): Promise<void> {
  const c = b.get(call.request.id);
  let cancelled = false;
  call.on('cancelled', () => { cancelled = true; });
  do {
    const cur = b.get(c.Id);
    let m;
    if (cur.State.Status === 'running' || cur.State.Status === 'paused') {
      try {
        const r = await b.ctd.call(b.ctd.tasks, (t) => t.metrics, { namespace: NAMESPACE, containerIds: [c.Id] });
        m = r.metrics[0];
      } catch (e) {
        if (!call.request.stream) throw e;
      }
    }
    call.write({
      id: c.Id, name: c.Name, readNs: (BigInt(Date.now()) * 1_000_000n).toString(), cpuUsageNs: m ? String(m.cpuUsageNs) : '0',
      systemCpuUsageNs: hostCpuNs().toString(), onlineCpus: cpus().length, memoryUsage: m ? String(m.memoryUsageBytes) : '0',
      memoryLimit: m && num(m.memoryLimitBytes) && num(m.memoryLimitBytes) < 2 ** 62 ? String(m.memoryLimitBytes) : String(totalmem()),
      pidsCurrent: m ? String(m.pidsCurrent) : '0', pidsLimit: m ? String(m.pidsLimit) : '0', rawJson: m?.rawJson ?? Buffer.alloc(0),
    });
    if (!call.request.stream) break;
    await new Promise((r) => setTimeout(r, 1000));
  } while (!cancelled);
  call.end();
}

export { errorMessage };
