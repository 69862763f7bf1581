/**
 * Mounting a snapshot's mounts onto a directory (a bundle's rootfs) and taking them off, with
 * berth_native's mount(2) and umount2(2) (@berth/runc's mountAll/unmountAll), as containerd's
 * `mount.All` and `mount.UnmountRecursive` do with the syscalls. Overlay options longer than a
 * page (a very deep image) fail with InvalidArgumentError before the call; containerd shortens
 * lowerdir paths for that, which is not done here yet.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { InvalidArgumentError } from '@berth/api/errdefs';
import { InvalidArgumentError as RuncInvalidArgument, mountAll as mountSyscalls, unmountAll as unmountRecursive } from '@berth/runc';
import type { Mount } from './snapshotter.js';

/** Mounts each of `mounts` onto `target`, in order. */
export async function mountAll(mounts: Mount[], target: string): Promise<void> {
  try {
    mountSyscalls(mounts, target);
  } catch (e) {
    const message = `mount ${mounts.map((m) => m.type).join(', ')} on ${target}: ${(e as Error).message}`;
    // Options too long for mount(2): the caller's to fix (fewer layers), a gRPC InvalidArgument.
    if (e instanceof RuncInvalidArgument) throw new InvalidArgumentError(message, { cause: e });
    throw new Error(message, { cause: e });
  }
}

/** Unmounts whatever is mounted on `target`, recursively, deepest first; busy ones lazily. */
export async function unmountAll(target: string): Promise<void> {
  unmountRecursive(target);
}

// /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo.
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Whether something is mounted on `path` (in this process's mount namespace). */
export function isMountPoint(path: string): boolean {
  let p: string;
  try {
    p = realpathSync(path);
  } catch {
    return false;
  }
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => unescape(l.split(' ')[4] ?? '') === p);
}
