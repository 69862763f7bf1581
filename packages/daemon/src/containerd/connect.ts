/**
 * Finds berth-containerd, or starts one beneath berthd's roots (DESIGN.md, "Directories and
 * sockets"): `setsid --fork`, so it is in its own session and never berthd's child, and a kill of
 * berthd (or of its systemd unit with KillMode=process) leaves it alone.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnavailableError } from '@berth/api/errdefs';
import type { Logger } from '../log.js';
import { ContainerdClient } from './client.js';

export function defaultContainerdBinary(): string {
  return process.env.BERTH_CONTAINERD ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'containerd', 'dist', 'berth-containerd.cjs');
}

/** Whether something listens on the unix socket `path` now (a connect, closed at once). */
function accepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = netConnect({ path });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/**
 * A client of berth-containerd at `socket` once it answers Version, else undefined. The probe of
 * the socket itself comes first, and the call goes on a fresh channel only once the socket
 * accepts: a grpc-js channel whose connect failed waits out its reconnect back-off (100 ms,
 * growing) and fails every call meanwhile, which made berthd notice a new berth-containerd
 * 180-280 ms late.
 */
async function reach(socket: string, timeoutMs: number): Promise<ContainerdClient | undefined> {
  if (!(await accepts(socket))) return undefined;
  const client = new ContainerdClient(socket);
  try {
    await client.call(client.version, (v) => v.get, {}, timeoutMs, true);
    return client;
  } catch {
    client.close();
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How often a starting berth-containerd's socket is tried: a connect costs ~0.1 ms. */
const PROBE_MS = 5;

export interface ConnectOptions {
  root: string;
  state: string;
  /** --containerd: connect only, never start one. */
  socket?: string;
  binary?: string;
  log: Logger;
  timeoutMs?: number;
}

export async function connectContainerd(o: ConnectOptions): Promise<ContainerdClient> {
  const stateDir = join(o.state, 'containerd');
  const socket = o.socket ?? join(stateDir, 'containerd.sock');
  const found = await reach(socket, 1000);
  if (found) {
    o.log.info('berth-containerd answers', { socket });
    return found;
  }
  if (o.socket) {
    throw new UnavailableError(`berth-containerd does not answer at ${socket} (--containerd): start it, or leave --containerd out to let berthd start one`);
  }
  const bin = o.binary ?? defaultContainerdBinary();
  if (!existsSync(bin)) throw new UnavailableError(`berth-containerd not found at ${bin} (set BERTH_CONTAINERD or build it)`);
  mkdirSync(stateDir, { recursive: true, mode: 0o711 });
  const rootDir = join(o.root, 'containerd');
  mkdirSync(rootDir, { recursive: true, mode: 0o700 });
  const logFd = openSync(join(stateDir, 'containerd.log'), 'a');
  o.log.info('starting berth-containerd', { bin, root: rootDir, state: stateDir });
  await new Promise<void>((res, rej) => {
    const child = spawn('setsid', ['--fork', process.execPath, bin, '--root', rootDir, '--state', stateDir, '--address', socket], {
      stdio: ['ignore', logFd, logFd], cwd: '/', env: process.env,
    });
    child.on('error', (e) => rej(new UnavailableError(`starting berth-containerd: ${e.message}`)));
    child.on('exit', (code) => (code === 0 ? res() : rej(new UnavailableError(`starting berth-containerd: setsid exited ${code}`))));
  });
  closeSync(logFd);
  const deadline = Date.now() + (o.timeoutMs ?? 20_000);
  while (Date.now() < deadline) {
    const started = await reach(socket, Math.max(1, Math.min(2000, deadline - Date.now())));
    if (started) {
      o.log.info('berth-containerd started', { socket });
      return started;
    }
    await sleep(PROBE_MS);
  }
  throw new UnavailableError(`berth-containerd did not answer at ${socket} within ${o.timeoutMs ?? 20_000} ms (see ${join(stateDir, 'containerd.log')})`);
}
