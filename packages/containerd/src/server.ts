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
import { unixAddress } from '@berth/api';
import { Exchange } from './events/exchange.js';
import { Logger } from './log.js';
import { MetadataStore } from './metadata/db.js';
import type { ShimLauncher } from './runtime/launcher.js';
import { TaskManager } from './runtime/task-manager.js';
import { containersService } from './services/containers.js';
import { eventsService } from './services/events.js';
import { namespacesService } from './services/namespaces.js';
import { tasksService } from './services/tasks.js';
import { unary } from './services/handler.js';

export const API_VERSIONS = ['berth.version.v1', 'berth.namespaces.v1', 'berth.containers.v1', 'berth.tasks.v1', 'berth.events.v1'];

export interface DaemonOptions {
  root: string;
  state: string;
  address: string;
  launcher: ShimLauncher;
  log?: Logger;
  version?: string;
  shimDebug?: boolean;
}

export interface Daemon {
  store: MetadataStore;
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
  const tasks = new TaskManager(store, exchange, { state: o.state, launcher: o.launcher, log, shimDebug: o.shimDebug });
  // Re-find the shims before serving, so the first List already tells the truth.
  await tasks.recover();
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  const version: VersionServer = {
    get: unary(() => ({ program: 'berth-containerd', version: o.version ?? '0.0.0', apiVersions: API_VERSIONS, gitCommit: '', os: process.platform, arch: process.arch })),
  };
  server.addService(VersionService, version);
  server.addService(NamespacesService, namespacesService(store, exchange));
  server.addService(ContainersService, containersService(store, exchange));
  server.addService(TasksService, tasksService(tasks));
  server.addService(EventsService, eventsService(exchange));
  await bindUnix(server, o.address);
  log.info('serving', { address: o.address, root: o.root, state: o.state });
  return {
    store, exchange, tasks, server, address: o.address,
    async stop() {
      tasks.close();
      await new Promise<void>((r) => server.tryShutdown(() => r()));
      server.forceShutdown();
      store.close();
      rmSync(o.address, { force: true });
    },
  };
}
