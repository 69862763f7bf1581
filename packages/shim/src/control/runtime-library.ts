import { join } from 'node:path';
import type { Runtime, RuntimeStdio } from './runtime.js';
import type { BasicStats } from '../monitor/cgroup.js';

type Lib = typeof import('@berth/runc');

/**
 * berth-runc in-process: no Node start per call, only its single-threaded C helper. The init is
 * cloned with CLONE_PARENT, so it is the shim's own child. State lives in `root` (under the
 * bundle's shim directory), runtime log lines in `logPath`.
 */
export class LibraryRuntime implements Runtime {
  readonly name = 'berth-runc';
  private constructor(
    private readonly lib: Lib,
    private readonly ctx: import('@berth/runc').RuntimeContext,
  ) {}

  static async open(root: string, logPath: string, debug: boolean): Promise<LibraryRuntime> {
    const lib = await import('@berth/runc');
    return new LibraryRuntime(lib, { store: new lib.StateStore(root), log: new lib.Logger(logPath, 'json', debug) });
  }

  async create(id: string, bundle: string, io: RuntimeStdio): Promise<number> {
    const { launched } = await this.lib.create(this.ctx, id, { bundle, stdio: io.stdio, ...(io.consoleSocket ? { consoleSocket: io.consoleSocket } : {}) });
    return launched.pid;
  }
  start(id: string): Promise<void> {
    return this.lib.start(this.ctx, id);
  }
  kill(id: string, signal: number, all: boolean): Promise<void> {
    return this.lib.kill(this.ctx, id, signal, all);
  }
  async exec(id: string, _execId: string, process: object, io: RuntimeStdio): Promise<number> {
    const launched = await this.lib.exec(this.ctx, id, {
      process: process as import('@berth/runc').Process,
      detach: true,
      stdio: io.stdio,
      ...(io.consoleSocket ? { consoleSocket: io.consoleSocket } : {}),
    });
    return launched.pid;
  }
  delete(id: string, force: boolean): Promise<void> {
    return this.lib.deleteContainer(this.ctx, id, force);
  }
  pause(id: string): Promise<void> {
    return this.lib.pause(this.ctx, id);
  }
  async resume(id: string): Promise<void> {
    this.lib.resume(this.ctx, id);
  }
  async ps(id: string): Promise<number[]> {
    return this.lib.ps(this.ctx, id);
  }
  async stats(id: string): Promise<BasicStats> {
    const s = this.lib.stats(this.ctx, id);
    return {
      cpuUsageNs: s.cpu.usage.total,
      memoryUsage: s.memory.usage.usage,
      memoryLimit: s.memory.usage.limit,
      pidsCurrent: s.pids.current,
      pidsLimit: s.pids.limit,
      raw: s as unknown as Record<string, unknown>,
    };
  }
  async update(id: string, resources: object): Promise<void> {
    this.lib.update(this.ctx, id, resources as import('@berth/runc').Resources);
  }
}

export const libraryRoot = (shimDir: string) => join(shimDir, 'runtime');
