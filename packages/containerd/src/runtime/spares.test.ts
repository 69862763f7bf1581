// The spare pool against in-process Spare servers (the real `berth-shim spare` is proven in
// test-e2e/032): leftovers retired, a claim served by a ready spare and replaced, none ready
// means a cold start, a failed claim falls back, a stop retires every spare.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { SpareService, type ClaimRequest, type SpareServer } from '@berth/api/berth/shim/v1';
import { Logger } from '../log.js';
import type { ShimStart, SpareLauncher } from './launcher.js';
import { SparePool } from './spares.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Spares as gRPC servers in this process; `failClaims` makes Claim answer an error. */
class FakeSpares implements SpareLauncher {
  readonly servers = new Map<string, grpc.Server>();
  readonly claims: Array<Pick<ClaimRequest, 'id' | 'socket'>> = [];
  retired: string[] = [];
  failClaims = false;
  /** How long a spare takes to start (a real one: Node's start). */
  startMs = 0;

  async startSpare(socket: string): Promise<void> {
    await new Promise((r) => setTimeout(r, this.startMs));
    const server = new grpc.Server();
    const impl: SpareServer = {
      claim: (call, cb) => {
        if (this.failClaims) return cb({ code: grpc.status.FAILED_PRECONDITION, details: 'no' });
        this.claims.push({ id: call.request.id, socket: call.request.socket });
        cb(null, { protocol: 2, shimPid: 4242 });
        this.close(socket);
      },
      retire: (_call, cb) => {
        this.retired.push(socket);
        cb(null, { shimPid: 0 });
        this.close(socket);
      },
    };
    server.addService(SpareService, impl);
    await new Promise<void>((r, j) => server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? j(e) : r())));
    this.servers.set(socket, server);
  }

  private close(socket: string): void {
    const s = this.servers.get(socket);
    this.servers.delete(socket);
    setTimeout(() => s?.forceShutdown(), 20);
    rmSync(socket, { force: true });
  }

  stopAll(): void {
    for (const s of this.servers.values()) s.forceShutdown();
    this.servers.clear();
  }
}

function setup(count = 1) {
  const dir = mkdtempSync('/tmp/berth-spare-u-');
  const spares = new FakeSpares();
  const pool = new SparePool({ dir: join(dir, 'spare'), count, launcher: spares, log: new Logger('error') });
  cleanups.push(() => {
    spares.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, spares, pool };
}

const start = (id: string): ShimStart => ({ namespace: 'default', id, bundle: `/b/${id}`, socket: `/s/${id}.sock`, runtime: 'berth-runc', debug: false });
const until = async (ok: () => boolean, ms = 3000): Promise<boolean> => {
  for (const end = Date.now() + ms; !ok() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
  return ok();
};

describe('SparePool', () => {
  it('claims a ready spare, then starts a replacement; with none ready the caller starts one cold', async () => {
    const { spares, pool } = setup();
    await pool.init();
    expect(await until(() => spares.servers.size === 1)).toBe(true);
    const first = [...spares.servers.keys()][0]!;
    await new Promise((r) => setTimeout(r, 20)); // the pool has taken it as ready
    spares.startMs = 200;
    expect(await pool.claim(start('c1'))).toMatchObject({ shimPid: 4242, protocol: 2 });
    expect(spares.claims).toEqual([{ id: 'c1', socket: '/s/c1.sock' }]);
    // A burst: the replacement is not ready yet.
    expect(await pool.claim(start('c2'))).toBeUndefined();
    expect(await until(() => spares.servers.size === 1 && !spares.servers.has(first))).toBe(true);
    await pool.stop();
    expect(spares.servers.size).toBe(0);
  });

  it('retires the spares an earlier berth-containerd left before starting its own', async () => {
    const { dir, spares, pool } = setup();
    mkdirSync(join(dir, 'spare'));
    const old = join(dir, 'spare', 'feedfacecafe.sock');
    await spares.startSpare(old);
    await pool.init();
    expect(spares.retired).toEqual([old]);
    expect(existsSync(old)).toBe(false);
    expect(await until(() => spares.servers.size === 1)).toBe(true);
    await pool.stop();
  });

  it('a failed claim falls back to a cold start and removes the spare\'s socket', async () => {
    const { spares, pool } = setup();
    await pool.init();
    expect(await until(() => spares.servers.size === 1)).toBe(true);
    const socket = [...spares.servers.keys()][0]!;
    await new Promise((r) => setTimeout(r, 20));
    spares.failClaims = true;
    expect(await pool.claim(start('c1'))).toBeUndefined();
    expect(existsSync(socket)).toBe(false);
    await pool.stop();
  });

  it('count 0 starts nothing; stop retires what is ready', async () => {
    const none = setup(0);
    await none.pool.init();
    await new Promise((r) => setTimeout(r, 50));
    expect(none.spares.servers.size).toBe(0);
    const two = setup(2);
    await two.pool.init();
    expect(await until(() => two.spares.servers.size === 2)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    await two.pool.stop();
    expect(two.spares.retired.length).toBe(2);
  });
});
