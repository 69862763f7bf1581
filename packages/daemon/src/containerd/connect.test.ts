import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '@berth/api/errdefs';
import { Logger } from '../log.js';
import { connectContainerd } from './connect.js';

const grpcPath = createRequire(import.meta.url).resolve('@grpc/grpc-js');
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berthd-connect-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A stand-in berth-containerd: after `delayMs` it serves Version.Get (an empty answer) on its
 * --address and writes when it began to, and its pid, beside it.
 */
function fakeContainerd(dir: string, delayMs: number): string {
  const bin = join(dir, 'fake-containerd.cjs');
  writeFileSync(bin, `
const grpc = require(${JSON.stringify(grpcPath)});
const address = process.argv[process.argv.indexOf('--address') + 1];
require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'pid'))}, String(process.pid));
setTimeout(() => {
  const server = new grpc.Server();
  const raw = (b) => b;
  server.addService({ get: { path: '/berth.version.v1.Version/Get', requestStream: false, responseStream: false,
    requestSerialize: raw, requestDeserialize: raw, responseSerialize: () => Buffer.alloc(0), responseDeserialize: raw } },
    { get: (_call, cb) => cb(null, {}) });
  server.bindAsync('unix://' + address, grpc.ServerCredentials.createInsecure(), (err) => {
    if (err) process.exit(1);
    require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'served'))}, String(Date.now()));
  });
}, ${delayMs});
setTimeout(() => process.exit(0), 20000);
`);
  cleanups.push(() => {
    try {
      process.kill(Number(readFileSync(join(dir, 'pid'), 'utf8')), 'SIGKILL');
    } catch { /* gone, or never started */ }
  });
  return bin;
}

describe('connectContainerd', () => {
  it('--containerd with nothing there: a clear error at once', async () => {
    const dir = tempDir();
    const t0 = Date.now();
    const err = await connectContainerd({ root: join(dir, 'root'), state: join(dir, 'state'), socket: join(dir, 'none.sock'), log: new Logger('error') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(String(err)).toMatch(/does not answer at .*none\.sock \(--containerd\)/);
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it('finds the berth-containerd it started within a few ms of its serving', async () => {
    const dir = tempDir();
    const bin = fakeContainerd(dir, 400);
    const state = join(dir, 'state');
    const client = await connectContainerd({ root: join(dir, 'root'), state, binary: bin, log: new Logger('error'), timeoutMs: 10_000 });
    const found = Date.now();
    cleanups.push(() => client.close());
    expect(client.socket).toBe(join(state, 'containerd', 'containerd.sock'));
    const served = Number(readFileSync(join(dir, 'served'), 'utf8'));
    // A channel that had failed once waited out grpc-js' reconnect back-off: 100 ms and more.
    expect(found - served).toBeLessThan(80);
  });

  it('a berth-containerd that never serves: a clear error naming its log', async () => {
    const dir = tempDir();
    const bin = fakeContainerd(dir, 60_000);
    const err = await connectContainerd({ root: join(dir, 'root'), state: join(dir, 'state'), binary: bin, log: new Logger('error'), timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(String(err)).toMatch(/did not answer at .* within 300 ms \(see .*containerd\.log\)/);
    expect(existsSync(join(dir, 'served'))).toBe(false);
  });
});
