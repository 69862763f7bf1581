import { createRequire } from 'node:module';
import { addonPath } from './paths.js';

/** How a child ended, as waitpid(2) reported it. */
export interface WaitResult {
  pid: number;
  /** The exit code when the process exited, else null. */
  exitCode: number | null;
  /** The signal number when a signal killed it, else null (128+N is the caller's convention). */
  signal: number | null;
  /** The raw wait status. */
  status: number;
}

/** One message received with recvFd. */
export interface ReceivedFd {
  /** The fd that came with the message (O_CLOEXEC), or null if it carried none. */
  fd: number | null;
  data: Buffer;
}

/**
 * berth_native, the N-API addon (packages/runc/native/addon): the system calls Node cannot make.
 * Every fd it creates is O_CLOEXEC and blocking. Failing calls throw Errors shaped like Node's
 * (NodeJS.ErrnoException: `code` 'EBADF', `errno` -9, `syscall` 'fcntl'); bad arguments throw
 * TypeError or RangeError.
 */
export interface BerthNative {
  /** prctl(PR_SET_CHILD_SUBREAPER): orphaned descendants are reparented to this process. */
  setChildSubreaper(): void;
  /**
   * waitpid(pid) on that one pid (never -1, which would steal libuv's children). null when
   * noHang and the child is still running. A blocking wait blocks the JS thread: poll a pidfd
   * first, then wait with noHang.
   */
  waitPid(pid: number, noHang: boolean): WaitResult | null;
  /**
   * Pids of all this process's children (zombies included), from /proc/self/task/<tid>/children.
   * Includes children spawned by child_process: skip those, libuv reaps them.
   */
  reapableChildren(): number[];
  /** pidfd_open(pid): an O_CLOEXEC fd that becomes readable when the process exits. */
  pidfdOpen(pid: number): number;

  /** pipe2(O_CLOEXEC): a real pipe (not a socketpair), [readFd, writeFd]. */
  pipe(): [number, number];
  /** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC). */
  socketpair(): [number, number];
  setCloexec(fd: number, on: boolean): void;
  /**
   * F_SETPIPE_SZ; returns the size the kernel chose. Above /proc/sys/fs/pipe-max-size it fails
   * with EPERM unless the process has CAP_SYS_RESOURCE.
   */
  setPipeSize(fd: number, bytes: number): number;
  /** F_GETPIPE_SZ. */
  getPipeSize(fd: number): number;
  /** sendmsg with SCM_RIGHTS: `fd` travels with `data` (at least one byte). */
  sendFd(socketFd: number, fd: number, data: Buffer): void;
  /**
   * recvmsg with SCM_RIGHTS, up to 4096 bytes of data. null at end of stream; throws EAGAIN on a
   * non-blocking socket with nothing pending, EPROTO if more than one fd came.
   */
  recvFd(socketFd: number): ReceivedFd | null;

  /** TIOCSWINSZ on a tty or pty master. */
  setWinsize(fd: number, rows: number, cols: number): void;
  /** TIOCGWINSZ. */
  getWinsize(fd: number): { rows: number; cols: number };

  /**
   * The listening end of an OCI runtime's `--console-socket`: binds socketPath (mode 0600; it
   * must not exist; keep it in a 0700 directory), accepts one connection and receives the pty
   * master (fd) and its name, then closes and unlinks the listener. Runs on the libuv thread pool,
   * holding one pool thread for at most timeoutMs; rejects with code ETIMEDOUT after that, or
   * EPROTO if the peer sent no fd.
   */
  receiveConsole(socketPath: string, timeoutMs: number): Promise<{ fd: number; name: string }>;
}

let loaded: BerthNative | undefined;

/**
 * Loads berth_native.node from native/build (see paths.ts) once. The require is made by
 * createRequire at run time, so a bundler leaves the .node file external and this works the same
 * under vitest (ESM) and in an esbuild cjs bundle.
 */
export function loadAddon(): BerthNative {
  if (!loaded) {
    const path = addonPath();
    loaded = createRequire(path)(path) as BerthNative;
  }
  return loaded;
}
