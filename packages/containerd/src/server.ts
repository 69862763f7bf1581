/**
 * berth-containerd assembled: the metadata store, the event exchange, the task manager and the
 * gRPC services on one unix socket. Used by main.ts and, with a fake shim launcher, by tests.
 */
import * as grpc from '@grpc/grpc-js';
import { chmodSync, existsSync, mkdirSync, rmSync, renameSync, mkdtempSync, rmdirSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { ContainersService } from '@berth/api/berth/containers/v1';
import { EventsService } from '@berth/api/berth/events/v1';
import { NamespacesService } from '@berth/api/berth/namespaces/v1';
import { TasksService } from '@berth/api/berth/tasks/v1';
import { VersionService, type VersionServer } from '@berth/api/berth/version/v1';
import { ContentService } from '@berth/api/berth/content/v1';
import { DiffService } from '@berth/api/berth/diff/v1';
import { ImagesService } from '@berth/api/berth/images/v1';
import { LeasesService } from '@berth/api/berth/leases/v1';
import { SnapshotsService } from '@berth/api/berth/snapshots/v1';
import { unixAddress } from '@berth/api';
import { Exchange } from './events/exchange.js';
import { Logger } from './log.js';
import { MetadataStore } from './metadata/db.js';
import type { ShimLauncher, SpareLauncher } from './runtime/launcher.js';
import { SparePool } from './runtime/spares.js';
import { TaskManager } from './runtime/task-manager.js';
import { containersService } from './services/containers.js';
import { eventsService } from './services/events.js';
import { namespacesService } from './services/namespaces.js';
import { tasksService } from './services/tasks.js';
import { unary } from './services/handler.js';
import { ContentGrpc } from './content/index.js';
import { DiffGrpc } from './diff/index.js';
import { errorMessage, FailedPreconditionError, NotFoundError, toServiceError } from '@berth/api/errdefs';
import { LeasesGrpc } from './gc/index.js';
import { ImageStorage, ImagesGrpc } from './images/index.js';
import type { ContainerRecord } from './metadata/db.js';
import { SnapshotsGrpc } from './snapshots/index.js';

export const API_VERSIONS = [
  'berth.version.v1', 'berth.namespaces.v1', 'berth.containers.v1', 'berth.tasks.v1', 'berth.events.v1',
  'berth.content.v1', 'berth.snapshots.v1', 'berth.diff.v1', 'berth.images.v1', 'berth.leases.v1',
];

export interface DaemonOptions {
  root: string;
  state: string;
  address: string;
  launcher: ShimLauncher;
  log?: Logger;
  version?: string;
  shimDebug?: boolean;
  /** Spare shims to keep ready (`--shim-spares`); needs a launcher that starts spares. Default 0. */
  shimSpares?: number;
}

export interface Daemon {
  store: MetadataStore;
  storage: ImageStorage;
  exchange: Exchange;
  tasks: TaskManager;
  server: grpc.Server;
  address: string;
  stop(): Promise<void>;
}

/**
 * Binds a unix socket safely: inside a fresh 0700 directory (so nobody can connect before the
 * mode is set), chmod 0660, then renamed into place.
 */
export async function bindUnix(server: grpc.Server, path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmpDir = mkdtempSync(join(dirname(path), '.bind-'));
  const tmp = join(tmpDir, basename(path).slice(0, 8) || 's');
  try {
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(unixAddress(tmp), grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
    });
    chmodSync(tmp, 0o660);
    if (existsSync(path)) rmSync(path, { force: true });
    renameSync(tmp, path);
  } finally {
    try { rmdirSync(tmpDir); } catch { /* not empty if the rename failed */ }
  }
}

export async function startDaemon(o: DaemonOptions): Promise<Daemon> {
  const log = o.log ?? new Logger('info');
  mkdirSync(o.state, { recursive: true, mode: 0o711 });
  const store = new MetadataStore(o.root);
  const exchange = new Exchange(store);
  // Image storage beside meta.db: <root>/content, <root>/snapshots/overlay, <root>/storage.db.
  // Opening it never touches a snapshot that is mounted: running containers keep their roots.
  const storage = await ImageStorage.open(o.root);
  // Every GC, whoever asks for it, keeps the snapshots containers hold.
  storage.setInUse(() => ({ snapshots: store.snapshotKeys() }));
  const gcInBackground = (why: string): void => {
    storage.gc().then(
      (r) => log.debug('gc', { why, content: r.content.length, snapshots: r.snapshots.length, ingests: r.ingests.length, leases: r.leases.length }),
      (e: unknown) => log.warn('gc failed', { why, error: errorMessage(e) }),
    );
  };
  const launcher = o.launcher as ShimLauncher & Partial<SpareLauncher>;
  // New spares start once we serve: each is a Node start, which would slow the re-finding of the
  // shims (restart with 50 running: ~20 ms sooner to Ping).
  let served = (): void => undefined;
  const serving = new Promise<void>((r) => { served = r; });
  const startSpare = launcher.startSpare?.bind(launcher);
  const spares = o.shimSpares && startSpare
    ? new SparePool({
      dir: join(o.state, 'spare'), count: o.shimSpares, log,
      launcher: { startSpare: async (socket, owner) => { await serving; return startSpare(socket, owner); } },
    })
    : undefined;
  const tasks = new TaskManager(store, exchange, {
    state: o.state, launcher: o.launcher, log, shimDebug: o.shimDebug, spares,
    rootfs: { mount: async (ns, c, target) => void (await storage.mountContainer(ns, c.image, c.snapshotKey, target)) },
  });
  // Spares of an earlier berth-containerd (maybe an older build) go; ours start in the background.
  // Retiring one waits ~100 ms for it to exit: that wait overlaps the re-finding of the shims.
  const sparesReady = spares ? spares.init() : undefined;
  if (!spares) rmSync(join(o.state, 'spare'), { recursive: true, force: true }); // a spare retires when its socket goes
  // Re-find the shims before serving, so the first List already tells the truth.
  await Promise.all([tasks.recover(), sparesReady]);
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  const version: VersionServer = {
    get: unary(() => ({ program: 'berth-containerd', version: o.version ?? '0.0.0', apiVersions: API_VERSIONS, gitCommit: '', os: process.platform, arch: process.arch })),
  };
  server.addService(VersionService, version);
  server.addService(NamespacesService, namespacesService(store, exchange));
  server.addService(ContainersService, containersService(store, exchange, {
    // A container's snapshot (its writable layer) goes with it; then what nothing holds.
    async deleted(c: ContainerRecord) {
      if (c.snapshotKey && !c.rootfs && !store.containerWithSnapshot(c.snapshotKey)) {
        try {
          storage.snapshotter.remove(c.snapshotKey);
        } catch (e) {
          if (!(e instanceof NotFoundError)) log.warn('removing the container\'s snapshot failed (GC retries)', { id: c.id, snapshot: c.snapshotKey, error: errorMessage(e) });
        }
      }
      gcInBackground(`container ${c.namespace}/${c.id} deleted`);
    },
  }));
  server.addService(TasksService, tasksService(tasks));
  server.addService(EventsService, eventsService(exchange));
  server.addService(ContentService, new ContentGrpc(storage.content).handlers);
  const snapshots = new SnapshotsGrpc(storage.snapshotter).handlers;
  const removeSnapshot = snapshots.remove;
  // A container's snapshot goes with the container, never from under it.
  snapshots.remove = (call, cb) => {
    const holder = store.containerWithSnapshot(call.request.key);
    if (holder) {
      cb(toServiceError(new FailedPreconditionError(`snapshot ${call.request.key} is the root of container ${holder.id} (namespace ${holder.namespace}): delete the container instead`)) as grpc.ServiceError);
      return;
    }
    removeSnapshot(call, cb);
  };
  server.addService(SnapshotsService, snapshots);
  server.addService(DiffService, new DiffGrpc(storage.content).handlers);
  server.addService(ImagesService, new ImagesGrpc(storage, gcInBackground).handlers);
  server.addService(LeasesService, new LeasesGrpc(storage).handlers);
  await bindUnix(server, o.address);
  log.info('serving', { address: o.address, root: o.root, state: o.state });
  served();
  return {
    store, storage, exchange, tasks, server, address: o.address,
    async stop() {
      tasks.close();
      await spares?.stop();
      await new Promise<void>((r) => server.tryShutdown(() => r()));
      server.forceShutdown();
      await storage.idle();
      storage.close();
      store.close();
      rmSync(o.address, { force: true });
    },
  };
}
