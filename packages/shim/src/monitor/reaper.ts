import { ChildProcess } from 'node:child_process';
import type { BerthNative } from '@berth/runc';

type WaitResult = ReturnType<BerthNative['waitPid']>;

export interface Reaped {
  pid: number;
  /** The shell's convention: the code, or 128+signal. */
  exitStatus: number;
  signal: number;
}

/** Exits of children nobody claimed yet, kept for a late watch(); bounded. */
const MAX_UNCLAIMED = 256;

/**
 * The shim as child subreaper: the container's init (and exec'd processes, and orphans of the
 * container once its init is gone) are its children. It learns each exit from waitpid of that
 * one pid (SIGCHLD says when to look), never waitpid(-1): libuv reaps the children it spawned
 * itself (runtime CLIs, berth-runc-init), and those are recorded here so they are never taken.
 */
export class Reaper {
  private readonly watched = new Map<number, Array<(r: Reaped) => void>>();
  private readonly unclaimed = new Map<number, Reaped>();
  private readonly libuvChildren = new Set<number>();
  private readonly notChild = new Set<number>();

  constructor(
    private readonly native: BerthNative,
    private readonly onError: (msg: string) => void = () => {},
  ) {
    native.setChildSubreaper();
    // Every child_process spawn goes through ChildProcess.prototype.spawn: note its pid
    // synchronously, before any SIGCHLD for it can be handled.
    const libuv = this.libuvChildren;
    // Not in @types/node, but it is how child_process.spawn starts every child.
    const proto = ChildProcess.prototype as unknown as { spawn: (...a: unknown[]) => unknown };
    const spawn = proto.spawn;
    proto.spawn = function (this: ChildProcess, ...args: unknown[]) {
      const result = spawn.apply(this, args);
      const pid = this.pid;
      if (pid) {
        libuv.add(pid);
        this.once('exit', () => libuv.delete(pid));
      }
      return result;
    };
    process.on('SIGCHLD', () => this.sweep());
  }

  /** Resolves when `pid` (a child of the shim) ends. */
  watch(pid: number): Promise<Reaped> {
    const early = this.unclaimed.get(pid);
    if (early) {
      this.unclaimed.delete(pid);
      return Promise.resolve(early);
    }
    return new Promise((resolve) => {
      const list = this.watched.get(pid) ?? [];
      list.push(resolve);
      this.watched.set(pid, list);
      this.sweep(); // it may have ended before we looked
    });
  }

  /** Collects every child that has ended: watched ones first, then orphans. */
  sweep(): void {
    for (const pid of [...this.watched.keys()]) {
      const r = this.tryWait(pid);
      if (!r) continue;
      const waiters = this.watched.get(pid) ?? [];
      this.watched.delete(pid);
      this.notChild.delete(pid);
      for (const w of waiters) w(r);
    }
    let children: number[];
    try {
      children = this.native.reapableChildren();
    } catch (err) {
      this.onError(`listing children: ${(err as Error).message}`);
      return;
    }
    for (const pid of children) {
      if (this.libuvChildren.has(pid) || this.watched.has(pid)) continue;
      const r = this.tryWait(pid);
      if (!r) continue;
      this.unclaimed.set(pid, r);
      if (this.unclaimed.size > MAX_UNCLAIMED) this.unclaimed.delete(this.unclaimed.keys().next().value!);
    }
  }

  private tryWait(pid: number): Reaped | undefined {
    let w: WaitResult | null;
    try {
      w = this.native.waitPid(pid, true);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'ECHILD') this.onError(`waitpid ${pid}: ${e.message}`);
      else if (this.watched.has(pid) && !this.notChild.has(pid)) {
        this.notChild.add(pid); // said once; it may still become ours (a runtime CLI exiting)
        this.onError(`waitpid ${pid}: not (yet) a child of the shim`);
      }
      return undefined;
    }
    if (!w) return undefined;
    return w.signal !== null ? { pid, exitStatus: 128 + w.signal, signal: w.signal } : { pid, exitStatus: w.exitCode ?? 0, signal: 0 };
  }
}
