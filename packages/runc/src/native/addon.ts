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

/** An entry as lstatAt reports it (never followed). Times are nanoseconds since the epoch. */
export interface StatAt {
  /** st_mode: type and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  ino: number;
  nlink: number;
  rdevMajor: number;
  rdevMinor: number;
  atimeNs: bigint;
  mtimeNs: bigint;
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

  /** clock_gettime(CLOCK_REALTIME) in nanoseconds since the Unix epoch: wall time, exact. */
  realtimeNs(): bigint;

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

  // Extraction inside a root (src/extract.cc). `path` is relative to the root directory `rootFd`
  // ("." is the root itself); its parent is resolved with openat2(RESOLVE_IN_ROOT |
  // RESOLVE_NO_MAGICLINKS), so `..` and symlinks (absolute or relative) never lead out of the
  // root, and its last component is never followed.

  /** An O_PATH directory fd for `path`, to pass as rootFd. Close it with fs.closeSync. */
  openRoot(path: string): number;
  /** openat2 inside the root with `flags | O_NOFOLLOW | O_CLOEXEC`: a symlink at `path` fails ELOOP. */
  openAt(rootFd: number, path: string, flags: number, mode: number): number;
  /** mkdirat (mode is then masked by the umask: set the exact mode with chmodAt). */
  mkdirAt(rootFd: number, path: string, mode: number): void;
  /** symlinkat; the target is stored as given (it is resolved only in the container's root). */
  symlinkAt(rootFd: number, path: string, target: string): void;
  /** linkat: a hard link at `path` to `target`, both resolved inside the root, neither followed. */
  linkAt(rootFd: number, target: string, path: string): void;
  /** mknodat: `mode` includes the type (S_IFCHR, S_IFBLK or S_IFIFO for a FIFO). */
  mknodAt(rootFd: number, path: string, mode: number, major: number, minor: number): void;
  /** overlayfs' whiteout at `path`: a character device 0:0. */
  whiteoutAt(rootFd: number, path: string): void;
  /** fchownat(AT_SYMLINK_NOFOLLOW). */
  lchownAt(rootFd: number, path: string, uid: number, gid: number): void;
  /** fchmodat(AT_SYMLINK_NOFOLLOW): the full mode incl. setuid/setgid/sticky; EOPNOTSUPP on a symlink. */
  chmodAt(rootFd: number, path: string, mode: number): void;
  /** utimensat(AT_SYMLINK_NOFOLLOW), times in nanoseconds since the epoch. */
  lutimesAt(rootFd: number, path: string, atimeNs: bigint, mtimeNs: bigint): void;
  /** lsetxattr (binary values kept); `trusted.overlay.opaque` = "y" marks an opaque directory. */
  lsetxattrAt(rootFd: number, path: string, name: string, value: Buffer): void;
  /** Every extended attribute of `path` (llistxattr + lgetxattr), name to raw value. */
  lgetxattrsAt(rootFd: number, path: string): Record<string, Buffer>;
  /** fstatat(AT_SYMLINK_NOFOLLOW), or null when nothing is there (or a parent is missing). */
  lstatAt(rootFd: number, path: string): StatAt | null;
  /** Removes a non-directory, or a directory tree (never following symlinks); false if nothing was there. */
  removeAt(rootFd: number, path: string): boolean;

  // Mounts (src/mount.cc); flags are MS_* / MNT_* from ./mount.ts. Errors name the target.

  /**
   * mount(2). An empty source, fstype or data is passed as NULL (a remount or a propagation
   * change). `data` is read by the kernel up to one page: see MOUNT_DATA_MAX.
   */
  mount(source: string, target: string, fstype: string, flags: number, data: string): void;
  /** umount2(2): EINVAL when nothing is mounted at `target`, EBUSY when it is in use. */
  umount2(target: string, flags: number): void;
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
