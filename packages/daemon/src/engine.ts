/**
 * The engine: berthd's containers over berth-containerd's containers and tasks. Every change to a
 * container goes through its own ordered queue (as moby's libcontainerd per-container queue), is
 * recorded in SQLite before it is acted on, and ends in one `State` a later berthd can trust.
 * Exits come from berth-containerd's events (`/tasks/exit`), replayed from the last seq handled
 * after a restart; the restart machine (restart/policy.ts) decides what follows an exit.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import type { Envelope } from '@berth/api/berth/events/v1';
import type { IContainerConfig, IHostConfig, IResources, IRestartPolicy } from '@berth/api/berth/engine/v1';
import type { IContainer } from '@berth/api/berth/containers/v1';
import type { IMount } from '@berth/api/berth/snapshots/v1';
import { Status, type AttachResponse as TasksAttachResponse, type IAttachRequest as TasksAttachRequest, type IProcess as Process } from '@berth/api/berth/tasks/v1';
import { loadAddon } from '@berth/runc';
import { configFromRequest, hostConfigFromRequest, resourcesFromRequest } from './config/from-request.js';
import { command, mergeConfig, processEnv } from './config/merge.js';
import { parseSignal } from './config/signals.js';
import { resolveUserInRoot } from './config/user.js';
import { NAMESPACE, type ContainerdClient } from './containerd/client.js';
import { writeEtcFiles } from './container/etc-files.js';
import { applyResult, initialHealth, nextDelayMs, probeCommand, timing } from './container/health.js';
import { NAME_RE, generateName } from './container/names.js';
import { freshState, nowNs, parseTimeNs, rfc3339Nano, type ContainerRecord } from './container/record.js';
import {
  AlreadyExistsError, BerthError, FailedPreconditionError, InvalidArgumentError, NotFoundError, errorMessage, isFailedPrecondition, isNotFound,
} from '@berth/api/errdefs';
import { ImageStore, containerdImageName } from './images/store.js';
import type { Logger } from './log.js';
import { capabilities, buildSpec, logRotation } from './oci/spec.js';
import { IllegalTransitionError, initialState, parsePolicy, transition, type RestartEvent } from './restart/policy.js';
import { mountSnapshot, overlayDirs, unmountOverlay } from './rootfs/overlay.js';
import type { EventRecord, Store } from './store/db.js';

export interface EngineOptions {
  root: string;
  state: string;
  store: Store;
  containerd: ContainerdClient;
  log: Logger;
  /** The host's tini-static for --init. */
  initBinary: string;
  version: string;
}

export interface ExitInfo {
  pid: number;
  exitStatus: number;
  exitedAtNs: bigint;
  oomKilled: boolean;
  reason: string;
}

export interface ExecRecord {
  id: string;
  containerId: string;
  args: string[];
  env: string[];
  user: string;
  workingDir: string;
  tty: boolean;
  attachStdin: boolean;
  privileged: boolean;
  rows: number;
  cols: number;
  running: boolean;
  exited: boolean;
  exitCode: number;
  pid: number;
}

/** What `--network bridge` (and `info`) tells until bridge networks exist. */
export const NO_BRIDGE = 'bridge networking is not implemented yet: the container gets its own network namespace with loopback only';

/** Docker closes stdin at the end of the first attach only without a terminal (moby: CloseStdin = StdinOnce && !Tty). */
export function effectiveStdinOnce(config: { StdinOnce: boolean; Tty: boolean }): boolean {
  return config.StdinOnce && !config.Tty;
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(String(v)));

/** Docker's exit codes for a start that failed: 127 not found, 126 cannot run, else 125 (CLI) / 128 (State). */
export function startFailureCode(message: string): number {
  if (/executable file not found|no such file or directory|ENOENT|not found in \$PATH/i.test(message)) return 127;
  if (/permission denied|EACCES|is a directory|exec format error/i.test(message)) return 126;
  return 125;
}

export class Engine {
  readonly images: ImageStore;
  readonly events = new EventEmitter();
  private readonly changes = new EventEmitter();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Per container, its last exit's queue slot and whether that exit was recorded (see handleExit). */
  private readonly exitSlots = new Map<string, { slot: Promise<unknown>; recorded: Promise<boolean> }>();
  private readonly oom = new Set<string>();
  readonly execs = new Map<string, ExecRecord>();
  /** Containers whose task was created for an attach before their start (the task is in `created`). */
  private readonly prepared = new Set<string>();
  /** Attach registrations in flight, per container: a Start waits for them, so no output is missed. */
  private readonly registering = new Map<string, Set<Promise<void>>>();
  /** Attach streams open, per container: an AutoRemove waits until they have told the exit. */
  private readonly attachedClients = new Map<string, number>();
  private readonly removeWhenDetached = new Set<string>();
  /** Each running container's healthcheck loop: its generation (a new start makes a new one) and timer. */
  private readonly healthRuns = new Map<string, { gen: number; timer?: NodeJS.Timeout }>();
  private healthGen = 0;
  private subscription?: grpc.ClientReadableStream<Envelope>;
  private closed = false;

  constructor(readonly o: EngineOptions) {
    this.images = new ImageStore(o.store, o.containerd);
    this.changes.setMaxListeners(0);
    this.events.setMaxListeners(0);
  }

  get store(): Store {
    return this.o.store;
  }

  get ctd(): ContainerdClient {
    return this.o.containerd;
  }

  // ---- lookup -------------------------------------------------------------------------------

  list(): ContainerRecord[] {
    return this.store.containers().sort((a, b) => (a.Created < b.Created ? 1 : a.Created > b.Created ? -1 : 0));
  }

  /** By full id, name (with or without "/"), or a unique id prefix, as Docker. */
  get(ref: string): ContainerRecord {
    if (!ref) throw new InvalidArgumentError('no container given');
    const all = this.store.containers();
    const exact = all.find((c) => c.Id === ref) ?? all.find((c) => c.Name === (ref.startsWith('/') ? ref : `/${ref}`));
    if (exact) return exact;
    const hits = /^[0-9a-f]+$/.test(ref) ? all.filter((c) => c.Id.startsWith(ref)) : [];
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) throw new InvalidArgumentError(`multiple containers found with provided prefix: ${ref}`);
    throw new NotFoundError(`No such container: ${ref}`);
  }

  private fresh(id: string): ContainerRecord | undefined {
    return this.store.containers().find((c) => c.Id === id);
  }

  private save(c: ContainerRecord): void {
    this.store.putContainer(c);
  }

  /** Runs fn after every earlier operation on this container (exits included) has finished. */
  private queue<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.queues.set(id, settled);
    void settled.then(() => {
      if (this.queues.get(id) === settled) this.queues.delete(id);
    });
    return next;
  }

  emit(type: string, action: string, id: string, attributes: Record<string, string> = {}): void {
    const e = this.store.addEvent({ timeNs: nowNs(), type, action, id, attributes });
    this.events.emit('event', e);
  }

  private emitContainer(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.emit('container', action, c.Id, { ...c.Config.Labels, image: c.Config.Image, name: c.Name.slice(1), ...extra });
  }

  // ---- create -------------------------------------------------------------------------------

  /**
   * Records the container, then makes its writable layer (Docker makes it at create): the
   * snapshot `<id>` on the image's top layer, held by berth-containerd's container record (image
   * and snapshot key) so no GC takes it. Recorded first, so a crash in between leaves a record
   * whose snapshot the start makes (rootSnapshot), never a snapshot no one knows.
   */
  async create(name: string, reqConfig: IContainerConfig, reqHost: IHostConfig | null | undefined): Promise<{ id: string; warnings: string[] }> {
    const userConfig = configFromRequest(reqConfig);
    const hostConfig = hostConfigFromRequest(reqHost);
    hostConfig.ConsoleSize = [num(reqConfig.consoleRows), num(reqConfig.consoleCols)];
    capabilities(hostConfig.CapAdd, hostConfig.CapDrop, hostConfig.Privileged);
    const image = this.images.resolve(userConfig.Image);
    if (!image.chainId) throw new FailedPreconditionError(`image ${userConfig.Image} was imported before berthd kept images in berth-containerd: import it again`);
    if (name && !NAME_RE.test(name)) throw new InvalidArgumentError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const taken = (n: string): boolean => this.store.nameTaken(n) !== undefined;
    const fullName = `/${(name || generateName(taken)).replace(/^\//, '')}`;
    const holder = this.store.nameTaken(fullName);
    if (holder) {
      throw new AlreadyExistsError(`Conflict. The container name "${fullName}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    const id = randomBytes(32).toString('hex');
    if (!userConfig.Hostname) userConfig.Hostname = hostConfig.NetworkMode === 'host' ? hostname() : id.slice(0, 12);
    const config = mergeConfig(userConfig, image.Config);
    const { path, args } = command(config);
    const dir = join(this.o.root, 'containers', id);
    const rec: ContainerRecord = {
      Id: id,
      Name: fullName,
      Created: rfc3339Nano(nowNs()),
      Path: path,
      Args: args,
      State: freshState(),
      Image: image.Id,
      ResolvConfPath: join(dir, 'resolv.conf'),
      HostnamePath: join(dir, 'hostname'),
      HostsPath: join(dir, 'hosts'),
      LogPath: join(dir, `${id}-json.log`),
      RestartCount: 0,
      Driver: 'overlay',
      Platform: 'linux',
      Config: config,
      HostConfig: hostConfig,
      restart: initialState(parsePolicy(hostConfig.RestartPolicy.Name === 'on-failure' && hostConfig.RestartPolicy.MaximumRetryCount
        ? `on-failure:${hostConfig.RestartPolicy.MaximumRetryCount}` : hostConfig.RestartPolicy.Name)),
      // lower/upper/work: the snapshot's overlay directories (inspect's GraphDriver), set below.
      rootfs: { lower: '', upper: '', work: '', merged: join(this.o.state, 'containers', id, 'rootfs') },
    };
    mkdirSync(dir, { recursive: true, mode: 0o710 });
    try {
      this.store.tx(() => {
        if (this.store.nameTaken(fullName)) throw new AlreadyExistsError(`Conflict. The container name "${fullName}" is already in use.`);
        this.save(rec);
      });
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    try {
      const mounts = await this.prepareRoot(rec, image.chainId);
      rec.rootfs = { ...rec.rootfs, ...overlayDirs(mounts) };
      this.save(rec);
    } catch (e) {
      await this.ctd.call(this.ctd.containers, (x) => x.delete, { namespace: NAMESPACE, id }).catch(() => undefined);
      await this.ctd.call(this.ctd.snapshots, (x) => x.remove, { key: id }).catch(() => undefined);
      this.store.deleteContainer(id);
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    this.emitContainer(rec, 'create');
    const warnings: string[] = [];
    // The default network is a private namespace with loopback only until networks exist (a
    // note in `info`); only an explicit `--network bridge` is told here.
    if (hostConfig.NetworkMode === 'bridge') warnings.push(NO_BRIDGE);
    return { id, warnings };
  }

  // ---- start --------------------------------------------------------------------------------

  async start(ref: string): Promise<void> {
    const id = this.get(ref).Id;
    // An attach made before the start is registered with the task first (Docker's order).
    const pending = this.registering.get(id);
    if (pending?.size) await Promise.all([...pending]);
    return this.queue(id, async () => {
      const c = this.fresh(id);
      if (!c) throw new NotFoundError(`No such container: ${ref}`);
      if (c.State.Status === 'running') return;
      await this.applyRestart(c, { type: 'start' });
    });
  }

  /** Applies a restart-machine event: records the new state, then performs its action. */
  private async applyRestart(c: ContainerRecord, e: RestartEvent): Promise<void> {
    let r;
    try {
      r = transition(c.restart, e);
    } catch (err) {
      if (err instanceof IllegalTransitionError) throw new FailedPreconditionError(err.message);
      throw err;
    }
    c.restart = r.state;
    c.RestartCount = r.state.restartCount;
    if (r.state.status === 'restarting') {
      c.State = { ...c.State, Status: 'restarting', Restarting: true, Running: false, Paused: false };
    } else if (r.state.status === 'exited' && c.State.Status !== 'running' && c.State.Status !== 'paused') {
      c.State = { ...c.State, Status: 'exited', Restarting: false };
    }
    this.save(c);
    switch (r.action.type) {
      case 'start':
        this.clearTimer(c.Id);
        await this.doStart(c, e.type !== 'start');
        break;
      case 'schedule': {
        this.clearTimer(c.Id);
        const t = setTimeout(() => {
          this.timers.delete(c.Id);
          void this.queue(c.Id, async () => {
            const cur = this.fresh(c.Id);
            if (cur) await this.applyRestart(cur, { type: 'backoff-elapsed' });
          }).catch((err: unknown) => this.o.log.warn('restart failed', { id: c.Id, error: errorMessage(err) }));
        }, r.action.delayMs);
        this.timers.set(c.Id, t);
        break;
      }
      case 'cancel':
        this.clearTimer(c.Id);
        this.changes.emit(c.Id);
        break;
      default:
        break;
    }
  }

  private clearTimer(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  /**
   * Mounts the root, writes the spec, creates and starts the task. A failure is recorded in the
   * State (Error, ExitCode 127/126/128) and thrown with Docker's exit code for the CLI; a start
   * the policy made that fails counts as an exit (128 after 0 s), so the back-off grows.
   */
  private async doStart(c: ContainerRecord, byPolicy: boolean): Promise<void> {
    try {
      await this.launch(c);
    } catch (e) {
      const msg = errorMessage(e);
      const code = startFailureCode(msg);
      this.o.log.warn('start failed', { id: c.Id, error: msg });
      await this.ctdDeleteTask(c.Id).catch(() => undefined);
      await unmountOverlay(c.rootfs.merged).catch(() => undefined);
      const finished = rfc3339Nano(nowNs());
      c.State = { ...c.State, Status: 'exited', Running: false, Paused: false, Restarting: false, Pid: 0, ExitCode: code === 125 ? 128 : code, Error: msg, FinishedAt: finished };
      if (byPolicy) {
        c.State.Status = 'running'; // as the machine sees it, so the exit applies
        c.restart = { ...c.restart, status: 'running' };
        this.save(c);
        await this.onExited(c, { pid: 0, exitStatus: 128, exitedAtNs: nowNs(), oomKilled: false, reason: msg }, 0);
        return;
      }
      c.restart = { ...c.restart, status: 'exited' };
      this.save(c);
      this.changes.emit(c.Id);
      // As Docker: a container with AutoRemove that fails to start is removed (after its
      // attached clients have gone).
      if (c.HostConfig.AutoRemove) {
        if (this.attachedClients.get(c.Id)) this.removeWhenDetached.add(c.Id);
        else await this.removeNow(c).catch((x: unknown) => this.o.log.warn('auto-remove failed', { id: c.Id, error: errorMessage(x) }));
      }
      const err = e instanceof BerthError && !(e instanceof NotFoundError) ? e : new FailedPreconditionError(msg, { cause: e });
      err.exitCode = code;
      throw err;
    }
  }

  private async launch(c: ContainerRecord): Promise<void> {
    if (this.prepared.delete(c.Id)) {
      // Made for an attach: start that task, if it is still the created one.
      const p = await this.ctd.call(this.ctd.tasks, (x) => x.get, { namespace: NAMESPACE, containerId: c.Id }).then((r) => r.process ?? undefined, () => undefined);
      if (p?.status === Status.STATUS_CREATED) return this.startTask(c);
    }
    await this.createTask(c);
    await this.startTask(c);
  }

  /**
   * Attach to a container that is not running (created, or exited for `start -a`): its task is
   * created now, so its shim exists and the attach joins the process before it starts (the shim
   * allows attach between create and start). The Start that follows starts this task.
   */
  prepareAttach(ref: string): Promise<void> {
    const id = this.get(ref).Id;
    return this.queue(id, async () => {
      const c = this.fresh(id);
      if (!c) throw new NotFoundError(`No such container: ${ref}`);
      if (c.State.Status !== 'created' && c.State.Status !== 'exited') return;
      if (this.prepared.has(id)) return;
      try {
        await this.createTask(c);
        this.prepared.add(id);
      } catch (e) {
        // The Start will fail the same way and record it with Docker's code; leave nothing behind.
        this.o.log.debug('task for an attach not made', { id, error: errorMessage(e) });
        await this.ctdDeleteTask(id).catch(() => undefined);
        await unmountOverlay(c.rootfs.merged).catch(() => undefined);
      }
    });
  }

  /** An attach's registration with the task is under way; start() waits for it. */
  registeringAttach(id: string, done: Promise<void>): void {
    let set = this.registering.get(id);
    if (!set) this.registering.set(id, (set = new Set()));
    const p = done.catch(() => undefined);
    set.add(p);
    void p.then(() => {
      set.delete(p);
      if (!set.size && this.registering.get(id) === set) this.registering.delete(id);
    });
  }

  /** An attach stream opened on the container; the returned function closes it. */
  attachOpened(id: string): () => void {
    this.attachedClients.set(id, (this.attachedClients.get(id) ?? 0) + 1);
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      const n = (this.attachedClients.get(id) ?? 1) - 1;
      if (n > 0) {
        this.attachedClients.set(id, n);
        return;
      }
      this.attachedClients.delete(id);
      if (this.removeWhenDetached.delete(id)) {
        void this.queue(id, async () => {
          const cur = this.fresh(id);
          if (cur && cur.State.Status === 'exited' && cur.HostConfig.AutoRemove) await this.removeNow(cur);
        }).catch((e: unknown) => this.o.log.warn('auto-remove failed', { id, error: errorMessage(e) }));
      }
    };
  }

  /**
   * The container's snapshot `<id>` prepared on `parent` (the image's top layer) and its record in
   * berth-containerd made, under a lease until the record holds the snapshot.
   */
  private async prepareRoot(c: ContainerRecord, parent: string): Promise<IMount[]> {
    const ctd = this.ctd;
    const lease = (await ctd.call(ctd.leases, (x) => x.create, { labels: { 'containerd.io/gc.expire': new Date(Date.now() + 600_000).toISOString() } })).lease!.id;
    try {
      await ctd.call(ctd.leases, (x) => x.addResource, { id: lease, resource: { type: 'snapshots', id: c.Id } });
      const { mounts } = await ctd.call(ctd.snapshots, (x) => x.prepare, { key: c.Id, parent, labels: { 'berth.io/container': c.Id } });
      const container = this.ctdContainer(c, Buffer.alloc(0));
      try {
        await ctd.call(ctd.containers, (x) => x.create, { namespace: NAMESPACE, container });
      } catch (e) {
        if (!(e instanceof AlreadyExistsError)) throw e;
        await ctd.call(ctd.containers, (x) => x.update, { namespace: NAMESPACE, container, updateMask: ['image', 'rootfs', 'snapshotter', 'snapshot_key'] });
      }
      return mounts;
    } finally {
      await ctd.call(ctd.leases, (x) => x.delete, { id: lease }).catch(() => undefined);
    }
  }

  /**
   * The mounts of the container's snapshot; made again on its image when it is missing (a
   * container recorded before its snapshot was made, or berth-containerd's storage lost).
   */
  private async rootSnapshot(c: ContainerRecord): Promise<IMount[]> {
    try {
      return (await this.ctd.call(this.ctd.snapshots, (x) => x.mounts, { key: c.Id })).mounts;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const image = this.store.images().find((i) => i.Id === c.Image);
    if (!image) throw new NotFoundError(`image ${c.Image} of container ${c.Name.slice(1)} is gone`);
    if (!image.chainId) throw new FailedPreconditionError(`image ${c.Image} was imported before berthd kept images in berth-containerd: import it again and create the container anew`);
    return this.prepareRoot(c, image.chainId);
  }

  /** berth-containerd's record of the container: a rootfs directory (berthd mounts it) over its snapshot. */
  private ctdContainer(c: ContainerRecord, specJson: Buffer): IContainer {
    const runtime = c.HostConfig.Runtime === 'berth-runc' || !c.HostConfig.Runtime
      ? { name: 'berth-runc', path: '', args: [] }
      : { name: c.HostConfig.Runtime.split('/').pop()!, path: c.HostConfig.Runtime, args: [] };
    return {
      id: c.Id, image: containerdImageName(c.Image), runtime, specJson, rootfs: c.rootfs.merged,
      snapshotter: 'overlayfs', snapshotKey: c.Id, labels: { 'berth.name': c.Name.slice(1) },
    };
  }

  private async createTask(c: ContainerRecord): Promise<void> {
    await mountSnapshot(await this.rootSnapshot(c), c.rootfs.merged);
    writeEtcFiles(c.Config, c.HostConfig, { hostname: c.HostnamePath, hosts: c.HostsPath, resolv: c.ResolvConfPath });
    const user = resolveUserInRoot(c.rootfs.merged, c.Config.User, c.HostConfig.GroupAdd ?? []);
    if (c.Config.WorkingDir) mkdirInRoot(c.rootfs.merged, c.Config.WorkingDir);
    const spec = buildSpec({
      id: c.Id, config: c.Config, hostConfig: c.HostConfig, rootfs: c.rootfs.merged,
      args: [c.Path, ...c.Args], env: processEnv(c.Config, user.home), user,
      hostnamePath: c.HostnamePath, hostsPath: c.HostsPath, resolvConfPath: c.ResolvConfPath,
      initBinary: this.o.initBinary, cgroupsPath: `/berth-${c.Id}`,
    });
    const container = this.ctdContainer(c, Buffer.from(JSON.stringify(spec)));
    try {
      await this.ctd.call(this.ctd.containers, (x) => x.get, { namespace: NAMESPACE, id: c.Id });
      await this.ctdDeleteTask(c.Id);
      await this.ctd.call(this.ctd.containers, (x) => x.update, { namespace: NAMESPACE, container, updateMask: [] });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.ctd.call(this.ctd.containers, (x) => x.create, { namespace: NAMESPACE, container });
    }
    const rot = logRotation(c.HostConfig);
    await this.ctd.call(this.ctd.tasks, (x) => x.create, {
      namespace: NAMESPACE, containerId: c.Id, terminal: c.Config.Tty, stdin: c.Config.OpenStdin, stdinOnce: effectiveStdinOnce(c.Config),
      rows: c.HostConfig.ConsoleSize[0], cols: c.HostConfig.ConsoleSize[1],
      log: { path: c.LogPath, maxSize: rot.maxSize, maxFiles: rot.maxFiles },
    });
  }

  private async startTask(c: ContainerRecord): Promise<void> {
    // The start time is taken before Start: a quick init can exit (its time from the kernel)
    // before Start's reply arrives.
    const startedAt = rfc3339Nano(nowNs());
    const started = await this.ctd.call(this.ctd.tasks, (x) => x.start, { namespace: NAMESPACE, containerId: c.Id });
    this.oom.delete(c.Id);
    c.State = {
      ...c.State, Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
      Pid: started.pid, ExitCode: 0, Error: '', StartedAt: startedAt,
      Health: probeCommand(c.Config.Healthcheck) ? initialHealth() : undefined,
    };
    c.restart = { ...c.restart, status: 'running' };
    this.save(c);
    this.startHealth(c);
    this.emitContainer(c, 'start');
    this.changes.emit(c.Id);
  }

  private async ctdDeleteTask(id: string): Promise<Process | undefined> {
    try {
      const r = await this.ctd.call(this.ctd.tasks, (x) => x.delete, { namespace: NAMESPACE, containerId: id, force: true });
      return r.process ?? undefined;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  // ---- exits --------------------------------------------------------------------------------

  /**
   * An exit of a container's init, from an event, a reconcile, an attach or a stop. Idempotent.
   * Resolves once the exit is recorded (State, restart policy): the exit info given is the true
   * one already (the shim's, from its durable record), so nobody waits for the task's delete,
   * which takes as long as its shim takes to go away. That delete, the root's unmount and an
   * AutoRemove follow in the same queue slot, so no later operation on the container overtakes them.
   */
  handleExit(id: string, exit: ExitInfo): Promise<void> {
    // The same exit comes twice (the event, and an attach's stream): while nothing is queued
    // behind the first one's slot, the second waits for that recording, not for its cleanup.
    const last = this.exitSlots.get(id);
    if (last && this.queues.get(id) === last.slot) return last.recorded.then((ok) => (ok ? undefined : this.handleExit(id, exit)));
    let told!: (ok: boolean) => void;
    const recorded = new Promise<boolean>((r) => { told = r; });
    const done = this.queue(id, async () => {
      const c = this.fresh(id);
      const skip = !c || (c.State.Status !== 'running' && c.State.Status !== 'paused')
        || (exit.pid !== 0 && c.State.Pid !== 0 && exit.pid !== c.State.Pid); // an earlier run's exit
      if (!c || skip) {
        if (this.exitSlots.get(id)?.recorded === recorded) this.exitSlots.delete(id);
        return told(false);
      }
      const ranMs = Number(((exit.exitedAtNs || nowNs()) - parseTimeNs(c.State.StartedAt)) / 1_000_000n);
      await this.onExited(c, exit, ranMs, () => told(true));
    });
    const slot = this.queues.get(id)!;
    this.exitSlots.set(id, { slot, recorded });
    const forget = (): void => {
      if (this.exitSlots.get(id)?.slot === slot) this.exitSlots.delete(id);
    };
    // Settles with the recording (or its failure); a failure after it is the cleanup's, logged.
    // A slot that ends without recording lets those waiting on it try on their own.
    done.then(() => {
      forget();
      told(false);
    }, (e: unknown) => {
      forget();
      told(false);
      this.o.log.warn('after an exit', { id, error: errorMessage(e) });
    });
    return Promise.race([recorded.then(() => undefined), done]);
  }


  private async onExited(c: ContainerRecord, exit: ExitInfo, ranMs: number, recorded?: () => void): Promise<void> {
    const since = (): number | undefined => (exit.exitedAtNs ? Number(nowNs() - exit.exitedAtNs) / 1e6 : undefined);
    const arrivedMs = since();
    this.stopHealth(c.Id);
    const oom = exit.oomKilled || this.oom.has(c.Id);
    this.oom.delete(c.Id);
    const wasStart = exit.pid === 0 && c.State.Error !== '';
    c.State = {
      ...c.State, Status: 'exited', Running: false, Paused: false, Restarting: false, Pid: 0,
      ExitCode: wasStart ? c.State.ExitCode : exit.exitStatus, OOMKilled: oom,
      Error: wasStart ? c.State.Error : exit.reason && exit.exitStatus === 255 ? exit.reason : '',
      FinishedAt: rfc3339Nano(exit.exitedAtNs || nowNs()),
    };
    this.emitContainer(c, 'die', { exitCode: String(c.State.ExitCode) });
    // An exit only ever schedules a restart (never starts one now), so the task's delete and
    // the unmount below still come before any new start of this container.
    await this.applyRestart(c, { type: 'exit', exitCode: exit.exitStatus, ranMs: Math.max(0, ranMs) });
    this.changes.emit(c.Id);
    // Told now, before the task's delete (which lasts as long as its shim takes to go away);
    // except an AutoRemove's, whose attached `run --rm` ends when told: it stays told after the
    // task is gone, so the removal right behind it ends about when the client does.
    const autoRemove = c.restart.status === 'exited' && c.HostConfig.AutoRemove;
    if (!autoRemove) recorded?.();
    const recordedMs = since();
    const t0 = performance.now();
    await this.ctdDeleteTask(c.Id).catch((e: unknown) => {
      this.o.log.warn('deleting the task', { id: c.Id, error: errorMessage(e) });
    });
    const t1 = performance.now();
    await unmountOverlay(c.rootfs.merged).catch(() => undefined);
    this.o.log.debug('exit handled (ms since the exit)', { id: c.Id, arrivedMs, recordedMs, taskDeleteMs: t1 - t0, unmountMs: performance.now() - t1, doneMs: since() });
    recorded?.();
    if (autoRemove) {
      // Attached clients tell the exit first (their output is in their streams by then); the
      // container goes when the last of them has.
      if (this.attachedClients.get(c.Id)) {
        this.removeWhenDetached.add(c.Id);
        return;
      }
      await this.removeNow(c).catch((e: unknown) => this.o.log.warn('auto-remove failed', { id: c.Id, error: errorMessage(e) }));
    }
  }

  /** Resolves when the container is no longer running/paused (or at once if it is not). */
  private waitNotRunning(id: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const c = this.fresh(id);
        return !c || (c.State.Status !== 'running' && c.State.Status !== 'paused');
      };
      if (check()) return resolve(true);
      let timer: NodeJS.Timeout | undefined;
      const on = (): void => {
        if (!check()) return;
        this.changes.off(id, on);
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      this.changes.on(id, on);
      if (timeoutMs >= 0) timer = setTimeout(() => { this.changes.off(id, on); resolve(check()); }, timeoutMs);
    });
  }

  // ---- stop, kill, restart, pause -----------------------------------------------------------

  async stop(ref: string, timeoutSec?: number | null, signal?: string): Promise<void> {
    const id = this.get(ref).Id;
    const c0 = await this.queue(id, async () => {
      const c = this.fresh(id);
      if (!c) throw new NotFoundError(`No such container: ${ref}`);
      const wasRunning = c.State.Status === 'running' || c.State.Status === 'paused';
      await this.applyRestart(c, { type: 'stop' });
      if (!wasRunning) return undefined;
      const sig = parseSignal(signal || c.Config.StopSignal || 'SIGTERM');
      // The init may be exiting already: its exit event is on its way, and settles the stop.
      await this.kill0(c, sig).catch((e: unknown) => {
        if (!isNotFound(e) && !isFailedPrecondition(e)) throw e;
      });
      return c;
    });
    if (!c0) return;
    const t = timeoutSec ?? c0.Config.StopTimeout ?? 10;
    if (await this.waitNotRunning(id, t < 0 ? -1 : t * 1000)) return;
    await this.kill0(c0, 9).catch(() => undefined);
    if (!(await this.waitNotRunning(id, 30_000))) throw new FailedPreconditionError(`container ${ref} did not stop after SIGKILL`);
  }

  private async kill0(c: ContainerRecord, signal: number): Promise<void> {
    await this.ctd.call(this.ctd.tasks, (x) => x.kill, { namespace: NAMESPACE, containerId: c.Id, signal, all: signal === 9 });
    if (c.State.Paused) await this.ctd.call(this.ctd.tasks, (x) => x.resume, { namespace: NAMESPACE, containerId: c.Id }).catch(() => undefined);
  }

  async kill(ref: string, signal?: string): Promise<void> {
    const id = this.get(ref).Id;
    await this.queue(id, async () => {
      const c = this.fresh(id);
      if (!c) throw new NotFoundError(`No such container: ${ref}`);
      const sig = parseSignal(signal || 'SIGKILL');
      if (c.State.Status !== 'running' && c.State.Status !== 'paused') throw new FailedPreconditionError(`Container ${c.Id} is not running`);
      // As Docker: SIGKILL or the stop signal counts as a manual stop for the restart policy.
      if (sig === 9 || sig === parseSignal(c.Config.StopSignal || 'SIGTERM')) {
        c.restart = { ...c.restart, manuallyStopped: true };
        this.save(c);
      }
      await this.kill0(c, sig);
      this.emitContainer(c, 'kill', { signal: String(sig) });
    });
  }

  async restart(ref: string, timeoutSec?: number | null, signal?: string): Promise<void> {
    await this.stop(ref, timeoutSec, signal);
    await this.start(ref);
    const c = this.get(ref);
    this.emitContainer(c, 'restart');
  }

  async pause(ref: string, pause: boolean): Promise<void> {
    const id = this.get(ref).Id;
    await this.queue(id, async () => {
      const c = this.fresh(id)!;
      let r;
      try {
        r = transition(c.restart, { type: pause ? 'pause' : 'unpause' });
      } catch (e) {
        throw new FailedPreconditionError(pause ? `Container ${c.Id} is not running` : `Container ${c.Id} is not paused`, { cause: e });
      }
      if (pause) await this.ctd.call(this.ctd.tasks, (x) => x.pause, { namespace: NAMESPACE, containerId: id });
      else await this.ctd.call(this.ctd.tasks, (x) => x.resume, { namespace: NAMESPACE, containerId: id });
      c.restart = r.state;
      c.State = { ...c.State, Status: pause ? 'paused' : 'running', Paused: pause };
      this.save(c);
      this.emitContainer(c, pause ? 'pause' : 'unpause');
    });
  }

  // ---- remove, rename, update, wait -----------------------------------------------------------

  async remove(ref: string, force: boolean): Promise<void> {
    const c = this.get(ref);
    if ((c.State.Status === 'running' || c.State.Status === 'paused') && !force) {
      throw new FailedPreconditionError(`You cannot remove a ${c.State.Status} container ${c.Id}. Stop the container before attempting removal or force remove`);
    }
    if (c.State.Status === 'running' || c.State.Status === 'paused') {
      await this.queue(c.Id, async () => {
        const cur = this.fresh(c.Id)!;
        cur.restart = { ...cur.restart, manuallyStopped: true };
        this.save(cur);
        await this.kill0(cur, 9).catch(() => undefined);
      });
      await this.waitNotRunning(c.Id, 30_000);
    }
    await this.queue(c.Id, async () => {
      const cur = this.fresh(c.Id);
      if (cur) await this.removeNow(cur);
    });
  }

  private async removeNow(c: ContainerRecord): Promise<void> {
    this.clearTimer(c.Id);
    this.stopHealth(c.Id);
    this.prepared.delete(c.Id);
    this.removeWhenDetached.delete(c.Id);
    c.State = { ...c.State, Status: 'removing' };
    this.save(c);
    await this.ctdDeleteTask(c.Id);
    await unmountOverlay(c.rootfs.merged);
    // The record first: berth-containerd refuses to remove a snapshot a container holds.
    await this.ctd.call(this.ctd.containers, (x) => x.delete, { namespace: NAMESPACE, id: c.Id }).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
    await this.ctd.call(this.ctd.snapshots, (x) => x.remove, { key: c.Id }).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
    rmSync(join(this.o.state, 'containers', c.Id), { recursive: true, force: true });
    rmSync(join(this.o.root, 'containers', c.Id), { recursive: true, force: true });
    this.store.deleteContainer(c.Id);
    for (const [k, e] of this.execs) if (e.containerId === c.Id) this.execs.delete(k);
    this.emitContainer(c, 'destroy');
    this.changes.emit(c.Id);
    this.changes.emit(`removed:${c.Id}`);
  }

  rename(ref: string, newName: string): void {
    const c = this.get(ref);
    if (!newName || !NAME_RE.test(newName)) throw new InvalidArgumentError(`Invalid container name (${newName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const full = `/${newName.replace(/^\//, '')}`;
    if (full === c.Name) throw new InvalidArgumentError(`Renaming a container with the same name as its current name`);
    this.store.tx(() => {
      const holder = this.store.nameTaken(full);
      if (holder) throw new AlreadyExistsError(`Conflict. The container name "${full}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
      const cur = this.fresh(c.Id)!;
      const old = cur.Name;
      cur.Name = full;
      this.save(cur);
      this.emitContainer(cur, 'rename', { oldName: old });
    });
  }

  async update(ref: string, resources: IResources | null | undefined, policy: IRestartPolicy | null | undefined): Promise<string[]> {
    const id = this.get(ref).Id;
    return this.queue(id, async () => {
      const c = this.fresh(id)!;
      const warnings: string[] = [];
      if (resources) {
        Object.assign(c.HostConfig, resourcesFromRequest(resources));
        if (c.State.Running) warnings.push('resource limits are recorded and apply from the next start (live update comes with berth-containerd\'s Update)');
      }
      if (policy) {
        const hc = hostConfigFromRequest({ restartPolicy: policy });
        if (c.HostConfig.AutoRemove && hc.RestartPolicy.Name !== 'no') throw new InvalidArgumentError('Restart policy cannot be updated because AutoRemove is enabled for the container');
        c.HostConfig.RestartPolicy = hc.RestartPolicy;
        this.save(c);
        await this.applyRestart(c, { type: 'update-restart', policy: parsePolicy(hc.RestartPolicy.Name === 'on-failure' && hc.RestartPolicy.MaximumRetryCount ? `on-failure:${hc.RestartPolicy.MaximumRetryCount}` : hc.RestartPolicy.Name) });
      } else this.save(c);
      this.emitContainer(c, 'update');
      return warnings;
    });
  }

  /** Docker's wait conditions: not-running (default), next-exit, removed. */
  wait(ref: string, condition: string, signal?: AbortSignal): Promise<{ statusCode: number; error: string }> {
    const c0 = this.get(ref);
    const id = c0.Id;
    const cond = condition || 'not-running';
    if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw new InvalidArgumentError(`invalid condition: ${JSON.stringify(condition)}`);
    let last = c0;
    let seenRun = c0.State.Status === 'running' || c0.State.Status === 'paused';
    const startedAt = c0.State.StartedAt;
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        this.changes.off(id, on);
        this.changes.off(`removed:${id}`, onRemoved);
        resolve({ statusCode: last.State.ExitCode, error: last.State.Error });
      };
      const on = (): void => {
        const c = this.fresh(id);
        if (!c) return;
        last = c;
        const up = c.State.Status === 'running' || c.State.Status === 'paused';
        if (up) seenRun = true;
        if (cond === 'not-running' && !up && c.State.Status !== 'restarting') finish();
        else if (cond === 'next-exit' && !up && (seenRun || c.State.StartedAt !== startedAt) && c.State.Status !== 'created') finish();
      };
      const onRemoved = (): void => finish();
      this.changes.on(id, on);
      this.changes.on(`removed:${id}`, onRemoved);
      signal?.addEventListener('abort', () => {
        this.changes.off(id, on);
        this.changes.off(`removed:${id}`, onRemoved);
        reject(new FailedPreconditionError('wait cancelled'));
      }, { once: true });
      if (cond === 'not-running') on();
    });
  }

  containerChanged(id: string, fn: () => void): () => void {
    this.changes.on(id, fn);
    return () => this.changes.off(id, fn);
  }

  async prune(keep: (c: ContainerRecord) => boolean = () => false): Promise<string[]> {
    const deleted: string[] = [];
    for (const c of this.store.containers()) {
      if (['exited', 'created', 'dead'].includes(c.State.Status) && !keep(c)) {
        await this.remove(c.Id, false);
        deleted.push(c.Id);
      }
    }
    return deleted;
  }

  // ---- exec ---------------------------------------------------------------------------------

  execCreate(ref: string, cfg: { cmd: string[]; env: string[]; user: string; workingDir: string; tty: boolean; attachStdin: boolean; privileged: boolean; rows: number; cols: number }): string {
    const c = this.get(ref);
    if (c.State.Status !== 'running') throw new FailedPreconditionError(`Container ${c.Id} is ${c.State.Status === 'paused' ? 'paused, unpause the container before exec' : 'not running'}`);
    if (!cfg.cmd.length) throw new InvalidArgumentError('No exec command specified');
    const id = randomBytes(32).toString('hex');
    this.execs.set(id, {
      id, containerId: c.Id, args: cfg.cmd, env: cfg.env, user: cfg.user, workingDir: cfg.workingDir, tty: cfg.tty,
      attachStdin: cfg.attachStdin, privileged: cfg.privileged, rows: cfg.rows, cols: cfg.cols, running: false, exited: false, exitCode: 0, pid: 0,
    });
    this.emitContainer(c, `exec_create: ${cfg.cmd.join(' ')}`, { execID: id });
    return id;
  }

  exec(execId: string): ExecRecord {
    const e = this.execs.get(execId);
    if (!e) throw new NotFoundError(`No such exec instance: ${execId}`);
    return e;
  }

  /** The process JSON for an exec: the container's identity and limits, the exec's command. */
  execProcess(e: ExecRecord): Record<string, unknown> {
    const c = this.get(e.containerId);
    const user = resolveUserInRoot(c.rootfs.merged, e.user || c.Config.User, c.HostConfig.GroupAdd ?? []);
    const caps = capabilities(c.HostConfig.CapAdd, c.HostConfig.CapDrop, c.HostConfig.Privileged || e.privileged);
    const env = processEnv({ ...c.Config, Tty: e.tty, Env: [...c.Config.Env, ...e.env] }, user.home);
    return {
      terminal: e.tty,
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
      args: e.args,
      env,
      cwd: e.workingDir || c.Config.WorkingDir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: (c.HostConfig.SecurityOpt ?? []).some((o) => o === 'no-new-privileges' || o === 'no-new-privileges:true'),
    };
  }

  // ---- healthchecks (moby daemon/health.go) --------------------------------------------------

  /** Starts the container's healthcheck loop (when it has one), replacing an earlier run's. */
  private startHealth(c: ContainerRecord): void {
    this.stopHealth(c.Id);
    const cmd = probeCommand(c.Config.Healthcheck);
    if (!cmd) return;
    const gen = ++this.healthGen;
    const t = timing(c.Config.Healthcheck!);
    this.healthRuns.set(c.Id, { gen });
    this.scheduleHealth(c.Id, gen, nextDelayMs(t, c.State.Health ?? initialHealth(), this.sinceStartMs(c)));
  }

  private stopHealth(id: string): void {
    const run = this.healthRuns.get(id);
    if (run?.timer) clearTimeout(run.timer);
    this.healthRuns.delete(id);
  }

  private sinceStartMs(c: ContainerRecord): number {
    return Date.now() - Number(parseTimeNs(c.State.StartedAt) / 1_000_000n);
  }

  private scheduleHealth(id: string, gen: number, delayMs: number): void {
    const run = this.healthRuns.get(id);
    if (!run || run.gen !== gen || this.closed) return;
    run.timer = setTimeout(() => void this.probe(id, gen), delayMs);
  }

  /** One probe: an exec of the test in the container, its result applied to State.Health, the next one scheduled. */
  private async probe(id: string, gen: number): Promise<void> {
    const current = (): boolean => this.healthRuns.get(id)?.gen === gen;
    const c = this.fresh(id);
    if (!current() || !c) return;
    if (c.State.Status !== 'running' && c.State.Status !== 'paused') return this.stopHealth(id);
    const t = timing(c.Config.Healthcheck ?? {});
    if (c.State.Status === 'running') {
      const start = nowNs();
      const r = await this.runProbe(c, probeCommand(c.Config.Healthcheck)!, t.timeoutMs).catch((e: unknown) => ({ exitCode: -1, output: errorMessage(e) }));
      const cur = this.fresh(id);
      if (!current() || !cur || cur.State.Status !== 'running') return;
      const before = cur.State.Health?.Status;
      cur.State.Health = applyResult(cur.State.Health ?? initialHealth(), { Start: rfc3339Nano(start), End: rfc3339Nano(nowNs()), ExitCode: r.exitCode, Output: r.output }, t, this.sinceStartMs(cur));
      this.save(cur);
      if (cur.State.Health.Status !== before) this.emitContainer(cur, `health_status: ${cur.State.Health.Status}`);
    }
    const now = this.fresh(id);
    if (now) this.scheduleHealth(id, gen, nextDelayMs(t, now.State.Health ?? initialHealth(), this.sinceStartMs(now)));
  }

  /** Runs argv in the container as an exec through its shim; its exit code and output (-1 on timeout). */
  private async runProbe(c: ContainerRecord, argv: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const execId = `health-${randomBytes(8).toString('hex')}`;
    const processJson = Buffer.from(JSON.stringify(this.execProcess({
      id: execId, containerId: c.Id, args: argv, env: [], user: '', workingDir: '', tty: false, attachStdin: false, privileged: false,
      rows: 0, cols: 0, running: false, exited: false, exitCode: 0, pid: 0,
    })));
    const key = { namespace: NAMESPACE, containerId: c.Id, execId };
    await this.ctd.call(this.ctd.tasks, (x) => x.exec, { ...key, processJson, terminal: false, stdin: false });
    const up = this.ctd.tasks.attach() as grpc.ClientDuplexStream<TasksAttachRequest, TasksAttachResponse>;
    let output = '';
    const exited = new Promise<number>((resolve, reject) => {
      up.on('data', (m: TasksAttachResponse) => {
        const chunk = m.output === 'stdout' ? m.stdout : m.output === 'stderr' ? m.stderr : undefined;
        if (chunk && output.length < 8192) output += Buffer.from(chunk).toString('utf8');
        else if (m.output === 'exit' && m.exit) resolve(num(m.exit.exitStatus));
      });
      up.on('error', reject);
      up.on('end', () => reject(new Error('the probe\'s stream ended without its exit')));
    });
    exited.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    try {
      up.write({ start: { ...key, stdin: false, stdout: true, stderr: true } });
      await new Promise((r) => setTimeout(r, 50)); // the attach registered with the shim before the start
      await this.ctd.call(this.ctd.tasks, (x) => x.start, key);
      const timedOut = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); });
      const r = await Promise.race([exited, timedOut]);
      if (r === 'timeout') {
        await this.ctd.call(this.ctd.tasks, (x) => x.kill, { ...key, signal: 9, all: false }).catch(() => undefined);
        await Promise.race([exited.catch(() => undefined), new Promise((res) => setTimeout(res, 2000))]);
        return { exitCode: -1, output: `Health check exceeded timeout (${timeoutMs / 1000}s)` };
      }
      return { exitCode: r, output };
    } finally {
      if (timer) clearTimeout(timer);
      up.cancel();
      await this.ctd.call(this.ctd.tasks, (x) => x.deleteProcess, key).catch(() => undefined);
    }
  }

  // ---- events from berth-containerd and reconciliation ------------------------------------

  private async onEnvelope(env: Envelope): Promise<void> {
    const id = env.containerId;
    if (env.topic === '/tasks/oom' && id) {
      this.oom.add(id);
      const c = this.store.containers().find((x) => x.Id === id);
      if (c) this.emitContainer(c, 'oom');
    } else if (env.topic === '/tasks/exit' && env.taskExit && id) {
      const x = env.taskExit;
      if (x.execId) {
        const e = this.execs.get(x.execId);
        if (e) {
          e.running = false;
          e.exited = true;
          e.exitCode = num(x.exitStatus);
          await this.ctd.call(this.ctd.tasks, (t) => t.deleteProcess, { namespace: NAMESPACE, containerId: id, execId: x.execId }).catch(() => undefined);
        }
      } else {
        await this.handleExit(id, {
          pid: num(x.pid), exitStatus: num(x.exitStatus), exitedAtNs: BigInt(String(x.exitedAtNs ?? 0)), oomKilled: Boolean(x.oomKilled), reason: x.reason ?? '',
        });
      }
    }
  }

  /** Follows berth-containerd's task events from the last seq handled; resubscribes (and reconciles) when the stream breaks. */
  subscribe(): void {
    if (this.closed) return;
    const after = this.store.getMeta('containerd_seq') ?? '0';
    const stream = this.ctd.events.subscribe({ filters: [{ namespace: NAMESPACE, topic: '/tasks/' }], replay: true, afterSeq: after as unknown as number });
    this.subscription = stream;
    let chain = Promise.resolve();
    stream.on('data', (env: Envelope) => {
      chain = chain.then(async () => {
        try {
          await this.onEnvelope(env);
        } catch (e) {
          this.o.log.warn('handling an event', { topic: env.topic, id: env.containerId, error: errorMessage(e) });
        }
        this.store.setMeta('containerd_seq', String(env.seq));
      });
    });
    const again = (): void => {
      if (this.closed || this.subscription !== stream) return;
      this.subscription = undefined;
      this.o.log.warn('berth-containerd event stream ended; resubscribing');
      setTimeout(() => {
        if (this.closed) return;
        void this.reconcile(false).catch((e: unknown) => this.o.log.warn('reconcile', { error: errorMessage(e) })).finally(() => this.subscribe());
      }, 500);
    };
    stream.on('error', again);
    stream.on('end', again);
  }

  /**
   * Records against tasks (README, "Reconciliation at start"): running ones adopted, exits in the
   * gap applied with their true status and time, then daemon-restart or host-reboot. One List
   * answers for every task; the containers are settled side by side, each in its own queue.
   */
  async reconcile(atStart: boolean): Promise<void> {
    const bootId = readBootId();
    const prevBoot = this.store.getMeta('boot_id');
    const reboot = atStart && prevBoot !== undefined && prevBoot !== bootId;
    if (atStart) this.store.setMeta('boot_id', bootId);
    const records = this.store.containers();
    const tasks = new Map<string, Process>();
    if (!reboot && records.length) {
      for (const p of (await this.ctd.call(this.ctd.tasks, (x) => x.list, { namespace: NAMESPACE })).tasks) tasks.set(p.containerId ?? '', p);
    }
    const warn = (what: string, id: string) => (e: unknown): void => this.o.log.warn(what, { id, error: errorMessage(e) });
    await Promise.all(records.map(async (c) => {
      if (c.State.Status === 'removing') {
        return this.queue(c.Id, () => this.removeNow(c)).catch(warn('finishing a removal', c.Id));
      }
      if (reboot) {
        return this.queue(c.Id, async () => {
          await this.ctdDeleteTask(c.Id).catch(() => undefined);
          await unmountOverlay(c.rootfs.merged).catch(() => undefined);
          if (c.State.Status === 'running' || c.State.Status === 'paused') {
            c.State = { ...c.State, Status: 'exited', Running: false, Paused: false, Pid: 0, ExitCode: 255, Error: 'host rebooted', FinishedAt: rfc3339Nano(nowNs()) };
          }
          await this.applyRestart(c, { type: 'host-reboot' });
        }).catch(warn('reboot restart', c.Id));
      }
      const p = tasks.get(c.Id);
      if (c.State.Status === 'running' || c.State.Status === 'paused') {
        if (!p) {
          return this.handleExit(c.Id, { pid: 0, exitStatus: 255, exitedAtNs: nowNs(), oomKilled: false, reason: 'task not found in berth-containerd' });
        }
        if (p.status === Status.STATUS_STOPPED) {
          return this.handleExit(c.Id, { pid: num(p.pid), exitStatus: num(p.exitStatus), exitedAtNs: BigInt(String(p.exitedAtNs ?? 0)), oomKilled: Boolean(p.oomKilled), reason: p.reason ?? '' });
        }
        if (!atStart) return undefined;
        const paused = p.status === Status.STATUS_PAUSED;
        if (paused !== c.State.Paused || num(p.pid) !== c.State.Pid) {
          c.State = { ...c.State, Paused: paused, Status: paused ? 'paused' : 'running', Pid: num(p.pid) };
          c.restart = { ...c.restart, status: paused ? 'paused' : 'running' };
          this.save(c);
        }
        return this.startHealth(c);
      }
      if (!atStart) return undefined;
      if (p) {
        // A task of a container that is not running: its exit was recorded and berthd stopped
        // before deleting it, or it was made for an attach that went with berthd. Its shim goes.
        void this.queue(c.Id, async () => {
          await this.ctdDeleteTask(c.Id);
          await unmountOverlay(c.rootfs.merged);
        }).catch(warn('deleting a stale task', c.Id));
      }
      return this.queue(c.Id, () => this.applyRestart(c, { type: 'daemon-restart' })).catch(warn('daemon-restart', c.Id));
    }));
  }

  private setReady?: () => void;
  /**
   * Resolves once the start's reconciliation is over: from then on a record tells the truth
   * about its task (before, a container recorded running may have exited in the gap).
   */
  readonly ready = new Promise<void>((r) => { this.setReady = r; });

  async init(): Promise<void> {
    try {
      await this.reconcile(true);
    } finally {
      this.setReady?.();
    }
    this.subscribe();
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const id of [...this.healthRuns.keys()]) this.stopHealth(id);
    this.subscription?.cancel();
  }

  eventsSince(sinceNs: bigint): EventRecord[] {
    return this.store.eventsSince(sinceNs);
  }
}

function readBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/** mkdir -p inside the container's root, every component resolved inside it (openat2). */
function mkdirInRoot(root: string, path: string): void {
  const native = loadAddon();
  const fd = native.openRoot(root);
  try {
    let cur = '';
    for (const part of path.split('/').filter(Boolean)) {
      cur = cur ? `${cur}/${part}` : part;
      if (!native.lstatAt(fd, cur)) native.mkdirAt(fd, cur, 0o755);
    }
  } finally {
    closeSync(fd);
  }
}
