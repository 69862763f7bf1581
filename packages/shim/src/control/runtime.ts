import type { BasicStats } from '../monitor/cgroup.js';

export interface RuntimeStdio {
  /** The process's fds 0, 1, 2 in the shim. */
  stdio: [number, number, number];
  /** The console socket to pass for a terminal. */
  consoleSocket?: string;
}

/**
 * An OCI runtime as the shim drives it: berth-runc through its library in-process, or any
 * runc-compatible binary through its command line. Both leave the container's processes as
 * children of the shim (CLONE_PARENT, or reparenting to the subreaper).
 */
export interface Runtime {
  readonly name: string;
  /** Creates the container; resolves with the init's pid once it waits for start. */
  create(id: string, bundle: string, io: RuntimeStdio): Promise<number>;
  start(id: string): Promise<void>;
  kill(id: string, signal: number, all: boolean): Promise<void>;
  /** Starts a process in the container (detached); resolves with its pid. */
  exec(id: string, execId: string, process: object, io: RuntimeStdio): Promise<number>;
  delete(id: string, force: boolean): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  ps(id: string): Promise<number[]>;
  /** undefined: the runtime has none to offer; the shim reads the cgroup itself. */
  stats(id: string): Promise<BasicStats | undefined>;
  update(id: string, resources: object): Promise<void>;
}
