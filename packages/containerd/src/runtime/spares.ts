/**
 * Spare shims: N shims started ahead of time (Node started, the shim's bundle loaded), each
 * waiting on its own socket under `<state>/spare/`, so a task create claims one (Spare.Claim)
 * instead of paying a Node start (~200 ms here) on the container's start path. A claimed spare is
 * replaced in the background; with none ready, the task's shim is started cold as before.
 *
 * Spares are not tasks: nothing about them is in the database. They belong to the
 * berth-containerd that started them: a new one retires every spare it finds (it may be an older
 * build, and a running shim never loads code from disk), a clean stop retires its own, and a
 * spare whose berth-containerd is gone retires itself (packages/shim/README.md, "Spare shims").
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { unixAddress } from '@berth/api';
import { SpareClient, type ClaimResponse, type RetireResponse } from '@berth/api/berth/shim/v1';
import { errorMessage, fromServiceError } from '@berth/api/errdefs';
import type { Logger } from '../log.js';
import type { ShimStart, SpareLauncher } from './launcher.js';
import { SHIM_PROTOCOL } from './shim-client.js';

/** How long a Claim may take before the task's shim is started cold instead. */
const CLAIM_TIMEOUT_MS = 5000;
/** How long a retired spare may take to exit. */
const RETIRE_WAIT_MS = 3000;
/** After a spare failed to start, refilling waits this long (a broken install must not spin). */
const START_BACKOFF_MS = 5000;

interface Spare {
  socket: string;
  client: SpareClient;
}

export interface SparePoolOptions {
  /** `<state>/spare` */
  dir: string;
  /** How many spares to keep ready (0: none). */
  count: number;
  launcher: SpareLauncher;
  log: Logger;
}

export class SparePool {
  private readonly ready: Spare[] = [];
  private readonly starting = new Set<Promise<void>>();
  private stopped = false;
  private backoffUntil = 0;

  constructor(private readonly o: SparePoolOptions) {}

  /** Retires the spares an earlier berth-containerd left, then starts ours in the background. */
  async init(): Promise<void> {
    mkdirSync(this.o.dir, { recursive: true, mode: 0o700 });
    const left = readdirSync(this.o.dir).filter((f) => f.endsWith('.sock')).map((f) => join(this.o.dir, f));
    if (left.length) this.o.log.info('retiring spare shims of an earlier berth-containerd', { count: left.length });
    await Promise.all(left.map((socket) => this.retire({ socket, client: newClient(socket) })));
    this.fill();
  }

  /**
   * Makes a ready spare the shim of a task (it then serves Task on o.socket); undefined when none
   * is ready or the claim failed, and the caller starts one cold.
   */
  async claim(o: ShimStart): Promise<ClaimResponse | undefined> {
    const spare = this.ready.shift();
    this.fill();
    if (!spare) return undefined;
    try {
      return await new Promise<ClaimResponse>((resolve, reject) => {
        spare.client.claim(
          { namespace: o.namespace, id: o.id, bundle: o.bundle, socket: o.socket, runtime: o.runtime, debug: o.debug, clientProtocol: SHIM_PROTOCOL },
          new grpc.Metadata(), { deadline: Date.now() + CLAIM_TIMEOUT_MS },
          (err, res) => (err ? reject(fromServiceError(err, `spare shim ${spare.socket}`)) : resolve(res!)),
        );
      });
    } catch (e) {
      // A failed claim retires the spare itself; its socket is removed in case it cannot.
      this.o.log.warn('claiming a spare shim failed; starting one cold', { id: o.id, spare: spare.socket, error: errorMessage(e) });
      rmSync(spare.socket, { force: true });
      return undefined;
    } finally {
      spare.client.close();
    }
  }

  /** Retires every spare (berth-containerd's clean stop); a spare still starting is retired when up. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.starting]);
    await Promise.all(this.ready.splice(0).map((s) => this.retire(s)));
  }

  /** Starts spares until `count` are ready or starting. */
  private fill(): void {
    while (!this.stopped && Date.now() >= this.backoffUntil && this.ready.length + this.starting.size < this.o.count) {
      const socket = join(this.o.dir, `${randomBytes(6).toString('hex')}.sock`);
      const p = this.o.launcher.startSpare(socket, process.pid).then(
        () => {
          if (!existsSync(socket)) throw new Error('it did not serve in time');
          const spare = { socket, client: newClient(socket) };
          if (this.stopped) return this.retire(spare);
          // Connect now, so the claim is one round trip.
          spare.client.waitForReady(Date.now() + CLAIM_TIMEOUT_MS, () => undefined);
          this.ready.push(spare);
        },
      ).catch((e: unknown) => {
        this.backoffUntil = Date.now() + START_BACKOFF_MS;
        rmSync(socket, { force: true });
        this.o.log.warn('starting a spare shim failed (tasks start their shims cold)', { spare: socket, error: errorMessage(e) });
      }).finally(() => {
        this.starting.delete(p);
      });
      this.starting.add(p);
    }
  }

  /** Asks a spare to exit and waits for it; removing its socket makes it go even if it cannot answer. */
  private async retire(s: Spare): Promise<void> {
    const res = await new Promise<RetireResponse | undefined>((resolve) => {
      s.client.retire({}, new grpc.Metadata(), { deadline: Date.now() + 2000 }, (err, r) => resolve(err ? undefined : r));
    });
    s.client.close();
    rmSync(s.socket, { force: true });
    const pid = res?.shimPid ?? 0;
    for (const deadline = Date.now() + RETIRE_WAIT_MS; pid && running(pid) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
  }
}

function newClient(socket: string): SpareClient {
  return new SpareClient(unixAddress(socket), grpc.credentials.createInsecure());
}

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
