/**
 * berthd assembled: the store, berth-containerd (found or started), the engine (reconciled
 * before the socket answers, so the first `ps` already tells the truth) and the gRPC services on
 * `<state>/berthd.sock`.
 */
import * as grpc from '@grpc/grpc-js';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, rmdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ContainersService, ImagesService, SystemService } from '@berth/api/berth/engine/v1';
import { VersionService, type VersionServer } from '@berth/api/berth/version/v1';
import { unixAddress } from '@berth/api';
import { connectContainerd } from './containerd/connect.js';
import { Engine } from './engine.js';
import type { Logger } from './log.js';
import { containersService } from './services/containers.js';
import { unary } from './services/handler.js';
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

export async function startBerthd(o: BerthdOptions): Promise<Berthd> {
  mkdirSync(o.state, { recursive: true, mode: 0o711 });
  const store = new Store(o.root);
  const containerd = await connectContainerd({ root: o.root, state: o.state, socket: o.containerd, log: o.log });
  const engine = new Engine({ root: o.root, state: o.state, store, containerd, log: o.log, initBinary: o.initBinary, version: o.version });
  await engine.init();
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  const version: VersionServer = {
    get: unary(() => ({ program: 'berthd', version: o.version, apiVersions: API_VERSIONS, gitCommit: '', os: process.platform, arch: process.arch })),
  };
  server.addService(VersionService, version);
  server.addService(ContainersService, containersService(engine));
  server.addService(ImagesService, imagesService({
    images: engine.images, root: o.root,
    imageUsers: (id) => engine.list().filter((c) => c.Image === id).map((c) => c.Id),
    emit: (t, a, id, attrs) => engine.emit(t, a, id, attrs),
  }));
  server.addService(SystemService, systemService(engine, {
    root: o.root, state: o.state, version: o.version, containerdAddress: containerd.socket, initBinary: o.initBinary,
    containerdVersion: async () => (await containerd.call(containerd.version, (v) => v.get, {}, 2000)).version,
  }));
  const address = join(o.state, 'berthd.sock');
  await bindUnix(server, address);
  o.log.info('serving', { address, root: o.root, state: o.state, containerd: containerd.socket });
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
