/**
 * How shims are started and found alive: the one boundary the task manager does not own, so unit
 * tests put a fake shim (an in-process Task server) behind it and end-to-end tests the real one.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface ShimStart {
  namespace: string;
  id: string;
  bundle: string;
  socket: string;
  /** "berth-runc" or the path of a runc-compatible binary. */
  runtime: string;
  debug: boolean;
}

export interface ShimLauncher {
  /** Starts a shim serving on opts.socket, detached from the caller; resolves once launched (not yet serving). */
  start(opts: ShimStart): Promise<void>;
  /**
   * Whether the shim with this pid still runs (and is this task's shim, not a reused pid): a
   * started shim has the socket on its command line; a claimed spare (packages/shim/README.md)
   * has its spare socket there, and the bundle as its working directory.
   */
  alive(pid: number, socket: string, bundle?: string): boolean;
  /**
   * After a shim died, removes what it cannot any more: the runtime's container (its processes,
   * cgroups, state), as containerd's `shim delete` does. The shim keeps the runtime's state in
   * `<bundle>/shim/runtime` (packages/shim/README.md).
   */
  cleanup(o: { id: string; bundle: string; runtime: string }): Promise<void>;
}

/** Starts spare shims (`berth-shim spare`), the same detached way as a task's shim. */
export interface SpareLauncher {
  /** Resolves once the spare serves on socket (or its start gave up: the socket is then missing). */
  startSpare(socket: string, owner: number): Promise<void>;
}

/** The short socket path of a task's shim: `<state>/s/<12 hex of sha256(ns/id)>.sock` (DESIGN.md). */
export function shimSocketPath(state: string, ns: string, id: string): string {
  return join(state, 's', createHash('sha256').update(`${ns}/${id}`).digest('hex').slice(0, 12) + '.sock');
}

/** Starts the real berth-shim: `setsid --fork node berth-shim.cjs serve ...`, stdio on /dev/null. */
export class ProcessShimLauncher implements ShimLauncher, SpareLauncher {
  /** berthRunc: the berth-runc CLI, for cleaning up after a dead shim that ran the library. */
  constructor(private readonly shimBin: string, private readonly berthRunc: string, private readonly node = process.execPath) {}

  cleanup(o: { id: string; bundle: string; runtime: string }): Promise<void> {
    const argv = o.runtime === 'berth-runc' ? [this.node, this.berthRunc] : [o.runtime];
    const args = [...argv.slice(1), '--root', join(o.bundle, 'shim', 'runtime'), 'delete', '--force', o.id];
    return new Promise((resolve) => {
      const child = spawn(argv[0]!, args, { stdio: 'ignore', env: process.env });
      child.on('error', () => resolve());
      child.on('exit', () => resolve());
    });
  }

  start(o: ShimStart): Promise<void> {
    const args = ['serve', '--namespace', o.namespace, '--id', o.id, '--bundle', o.bundle, '--socket', o.socket, '--runtime', o.runtime];
    if (o.debug) args.push('--debug');
    return this.spawnDetached(args, o.bundle, o.socket);
  }

  startSpare(socket: string, owner: number): Promise<void> {
    return this.spawnDetached(['spare', '--socket', socket, '--owner', String(owner)], '/', socket);
  }

  private spawnDetached(args: string[], cwd: string, socket: string): Promise<void> {
    return new Promise((resolve, reject) => {
      // setsid --fork: the intermediate exits at once, so the shim is in its own session and
      // reparented away from berth-containerd (DESIGN.md, restart contract 1).
      const child = spawn('setsid', ['--fork', this.node, this.shimBin, ...args], { stdio: 'ignore', cwd, env: process.env });
      child.on('error', (e) => reject(new Error(`starting the shim (setsid ${this.shimBin}): ${e.message}`)));
      child.on('exit', (code, sig) => {
        if (code === 0) resolve(waitForSocket(socket));
        else reject(new Error(`starting the shim: setsid exited ${code ?? sig}`));
      });
    });
  }

  alive(pid: number, socket: string, bundle?: string): boolean {
    if (!pid) return false;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
      if (argv.includes(socket)) return true;
      // Not this.shimBin: a spare claimed before an upgrade runs the older install's bundle.
      const spare = argv.indexOf('spare');
      return Boolean(bundle) && spare > 0 && argv[spare + 1] === '--socket' && readlinkSync(`/proc/${pid}/cwd`) === bundle;
    } catch {
      return false;
    }
  }
}

/**
 * Waits until the shim's socket exists (it binds elsewhere and renames it into place, so the path
 * appearing means it accepts). Connecting earlier would put grpc-js into its reconnect back-off,
 * which costs a Create 100-200 ms; a shim that never comes is left to the caller's deadline.
 */
async function waitForSocket(socket: string, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; Date.now() < deadline && !existsSync(socket); ) {
    await new Promise((r) => setTimeout(r, 5));
  }
}
