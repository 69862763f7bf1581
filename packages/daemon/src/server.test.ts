import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClient, SystemService, type SystemServer } from '@berth/api/berth/engine/v1';
import { UnavailableError } from '@berth/api/errdefs';
import { bindUnix, deferred } from './server.js';
import { unary } from './services/handler.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A System server on a fresh socket whose implementation is `impl` (held) with `ping` at once. */
async function serve(impl: Promise<SystemServer>): Promise<SystemClient> {
  const dir = mkdtempSync(join(tmpdir(), 'berthd-srv-'));
  const server = new grpc.Server();
  const ping = unary(() => ({ apiVersion: 'now', osType: 'linux' }));
  server.addService(SystemService, deferred(SystemService, impl, { ping } as never));
  const path = join(dir, 's.sock');
  await bindUnix(server, path);
  const client = new SystemClient(`unix://${path}`, grpc.credentials.createInsecure());
  cleanups.push(() => {
    client.close();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });
  return client;
}

const call = <T>(fn: (cb: (e: grpc.ServiceError | null, r?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((e, r) => (e ? reject(e) : resolve(r!))));

describe('deferred: berthd serves before its engine is there', () => {
  it('answers the methods given at once, holds the others until the implementation comes', async () => {
    let setImpl!: (s: SystemServer) => void;
    const client = await serve(new Promise((r) => { setImpl = r; }));
    expect(await call((cb) => client.ping({}, cb))).toMatchObject({ apiVersion: 'now' });
    let answered = false;
    const version = call((cb) => client.version({}, cb)).then((r) => { answered = true; return r; });
    await new Promise((r) => setTimeout(r, 100));
    expect(answered).toBe(false);
    setImpl({ version: unary(() => ({ version: 'later' })) } as unknown as SystemServer);
    expect(await version).toMatchObject({ version: 'later' });
  });

  it('tells a held call why the implementation never came', async () => {
    let fail!: (e: unknown) => void;
    const client = await serve(new Promise((_r, rej) => { fail = rej; }));
    const version = call((cb) => client.version({}, cb));
    fail(new UnavailableError('berth-containerd did not answer'));
    await expect(version).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE, details: expect.stringContaining('did not answer') });
  });
});
