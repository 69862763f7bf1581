/**
 * berthd assembled: the store, the gRPC services on `<state>/berthd.sock` (served at once, see
 * startBerthd), berth-containerd (found or started) and the engine, reconciled before any
 * container call is answered, so the first `ps` already tells the truth.
 */
import * as grpc from '@grpc/grpc-js';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, rmdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ContainersService, ImagesService, SystemService } from '@berth/api/berth/engine/v1';
import { VersionService, type VersionServer } from '@berth/api/berth/version/v1';
import { unixAddress } from '@berth/api';
import { toServiceError } from '@berth/api/errdefs';
import type { ContainerdClient } from './containerd/client.js';
import { connectContainerd } from './containerd/connect.js';
import { Engine } from './engine.js';
import type { Logger } from './log.js';
import { containersService } from './services/containers.js';
import { fail, unary } from './services/handler.js';
import { imagesService } from './services/images.js';
import { systemService } from './services/system.js';
import { Store } from './store/db.js';

export const API_VERSIONS = ['berth.version.v1', 'berth.engine.v1'];

export interface BerthdOptions {
  root: string;
  state: string;
  containerd?: string;
  log: Logger;
  version: string;
  initBinary: string;
}

export interface Berthd {
  engine: Engine;
  address: string;
  stop(): Promise<void>;
}

/** Binds inside a fresh 0700 directory, chmod 0660, then renames into place (no window at a looser mode). */
export async function bindUnix(server: grpc.Server, path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o711 });
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

/**
 * An implementation of `definition` whose calls wait for `impl` (a call made before it is there
 * is held, not refused); `now` answers its methods at once.
 */
export function deferred<T extends object>(definition: grpc.ServiceDefinition, impl: Promise<T>, now: Partial<T> = {}): T {
  impl.catch(() => undefined); // told to each call held; unheard of without calls
  const out: Record<string, unknown> = { ...now };
  for (const name of Object.keys(definition)) {
    if (name in out) continue;
    out[name] = (call: { destroyed?: boolean; emit(event: 'error', e: unknown): boolean }, cb?: (e: grpc.ServiceError) => void) => {
      impl.then(
        (real) => (real as Record<string, (c: unknown, cb?: unknown) => void>)[name]!(call, cb),
        (e: unknown) => (cb ? cb(toServiceError(e) as grpc.ServiceError) : fail(call, e)),
      );
    };
  }
  return out as T;
}

/**
 * berthd serves at once, while berth-containerd starts and the records are reconciled: Ping
 * answers then; Images, Version and Events once berth-containerd does; Containers (ps and
 * inspect included) and Info once the reconciliation is over, so their first answer is already the
 * truth (a record says running until then, even of a container that exited in the gap).
 */
export async function startBerthd(o: BerthdOptions): Promise<Berthd> {
  mkdirSync(o.state, { recursive: true, mode: 0o711 });
  const store = new Store(o.root);
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  let setEngine!: (e: { engine: Engine; containerd: ContainerdClient }) => void;
  let failEngine!: (e: unknown) => void;
  const started = new Promise<{ engine: Engine; containerd: ContainerdClient }>((res, rej) => { setEngine = res; failEngine = rej; });
  started.catch(() => undefined);
  const version: VersionServer = {
    get: unary(() => ({ program: 'berthd', version: o.version, apiVersions: API_VERSIONS, gitCommit: '', os: process.platform, arch: process.arch })),
  };
  server.addService(VersionService, version);
  server.addService(ContainersService, deferred(ContainersService, started.then(async ({ engine }) => {
    await engine.ready;
    return containersService(engine);
  })));
  server.addService(ImagesService, deferred(ImagesService, started.then(({ engine }) => imagesService({
    images: engine.images, root: o.root,
    imageUsers: (id) => engine.list().filter((c) => c.Image === id).map((c) => c.Id),
    emit: (t, a, id, attrs) => engine.emit(t, a, id, attrs),
  }))));
  const ping = unary(() => ({ apiVersion: 'berth.engine.v1', osType: 'linux' }));
  const system = started.then(({ engine, containerd }) => systemService(engine, {
    root: o.root, state: o.state, version: o.version, containerdAddress: containerd.socket, initBinary: o.initBinary,
    containerdVersion: async () => (await containerd.call(containerd.version, (v) => v.get, {}, 2000)).version,
  }));
  // Info counts the running containers: it waits for the reconciliation too.
  const { info } = deferred(SystemService, system.then(async (s) => ((await started).engine.ready).then(() => s)));
  server.addService(SystemService, deferred(SystemService, system, { ping, info } as never));
  const address = join(o.state, 'berthd.sock');
  await bindUnix(server, address);
  o.log.info('serving', { address, root: o.root, state: o.state });
  let engine: Engine;
  let containerd: ContainerdClient | undefined;
  try {
    containerd = await connectContainerd({ root: o.root, state: o.state, socket: o.containerd, log: o.log });
    engine = new Engine({ root: o.root, state: o.state, store, containerd, log: o.log, initBinary: o.initBinary, version: o.version });
    setEngine({ engine, containerd });
    const t0 = performance.now();
    await engine.init();
    o.log.info('reconciled', { containerd: containerd.socket, containers: store.containers().length, ms: Math.round(performance.now() - t0) });
  } catch (e) {
    failEngine(e);
    server.forceShutdown();
    rmSync(address, { force: true });
    containerd?.close();
    store.close();
    throw e;
  }
  return {
    engine, address,
    async stop() {
      engine.close();
      await new Promise<void>((r) => server.tryShutdown(() => r()));
      server.forceShutdown();
      containerd.close();
      store.close();
      rmSync(address, { force: true });
    },
  };
}
