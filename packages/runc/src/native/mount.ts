/**
 * Mounting a snapshot's mounts (containerd's `mount.All`) and taking a tree of mounts off
 * (`umount -R`) with berth_native's mount(2) and umount2(2), in process: exec'ing util-linux's
 * mount(8) and umount(8) cost berthd and berth-containerd ~10 ms a `run --rm`. mount(8)'s option
 * parsing is `mountCalls`, a pure function; the flags are parseMountOptions' (the same table the
 * OCI config's mounts use).
 */
import { realpathSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import { readMountInfo } from '../mountinfo.js';
import { MS, parseMountOptions } from '../plan/mount-flags.js';
import { loadAddon } from './addon.js';

export { MS };

/** umount2(2) flags, from <sys/mount.h>. */
export const MNT = {
  FORCE: 1,
  /** Lazy: detached now, released when the last user lets go (`umount -l`). */
  DETACH: 2,
  EXPIRE: 4,
  NOFOLLOW: 8,
} as const;

/**
 * The longest `data` mount(2) takes: the kernel copies one page (4 KiB on x86-64 and the usual
 * arm64), NUL included, and cuts the rest, which would mount an overlay of the wrong layers.
 */
export const MOUNT_DATA_MAX = 4095;

/** A snapshot's mount (containerd's Mount; the API's IMount has the same optional fields). */
export interface SnapshotMount {
  type?: string | null;
  source?: string | null;
  options?: readonly string[] | null;
}

/** One mount(2) call. */
export interface MountCall {
  source: string;
  target: string;
  fstype: string;
  flags: number;
  data: string;
}

// What a remount of a bind mount can change (the first bind ignores all of them).
const BIND_REMOUNT = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME | MS.NOSYMFOLLOW;
const PROPAGATION = MS.SHARED | MS.SLAVE | MS.PRIVATE | MS.UNBINDABLE;

/**
 * The mount(2) calls `mount -t <type> -o <options> <source> <target>` makes: flag options
 * (`ro`, `nosuid`, `bind`, `rbind`, `remount`, ...) become flags, the rest the filesystem's data
 * (overlay's `lowerdir=...`). A bind with flags is remounted to apply them, and a propagation
 * option (`rprivate`) is a call of its own, as mount(8) does. Data longer than mount(2) takes
 * (an overlay of ~80 layers or more) is an InvalidArgumentError, not a silently cut lowerdir.
 */
export function mountCalls(m: SnapshotMount, target: string): MountCall[] {
  const type = m.type ?? '';
  const o = parseMountOptions(m.options ?? [], target);
  const bind = type === 'bind' || (o.flags & MS.BIND) !== 0;
  if (o.data.length > MOUNT_DATA_MAX && !bind) {
    throw new InvalidArgumentError(
      `mount ${type} on ${target}: its options are ${o.data.length} bytes, more than the ${MOUNT_DATA_MAX} mount(2) takes (an image with too many layers?)`,
    );
  }
  const source = m.source ?? '';
  const calls: MountCall[] = [];
  if (bind) {
    const flags = o.flags | MS.BIND;
    calls.push({ source, target, fstype: '', flags, data: '' });
    if (flags & BIND_REMOUNT && !(flags & MS.REMOUNT)) {
      calls.push({ source: '', target, fstype: '', flags: MS.REMOUNT | MS.BIND | (flags & BIND_REMOUNT), data: '' });
    }
  } else {
    calls.push({ source, target, fstype: type, flags: o.flags, data: o.data });
  }
  if (o.propagation & PROPAGATION) calls.push({ source: '', target, fstype: '', flags: o.propagation, data: '' });
  return calls;
}

/** Mounts each of `mounts` onto `target`, in order. Errors are the addon's (code, target). */
export function mountAll(mounts: readonly SnapshotMount[], target: string): void {
  const native = loadAddon();
  for (const m of mounts) {
    for (const c of mountCalls(m, target)) native.mount(c.source, c.target, c.fstype, c.flags, c.data);
  }
}

/**
 * The mount points at and under `target` in this mount namespace, in the order to unmount them:
 * deepest first, and of mounts stacked on one point the last made first.
 */
export function mountsUnder(target: string, mountPoints: readonly string[] = readMountInfo().map((m) => m.mountPoint)): string[] {
  const prefix = target.endsWith('/') ? target : `${target}/`;
  const depth = (p: string): number => p.split('/').length;
  return mountPoints
    .filter((p) => p === target || p.startsWith(prefix))
    .reverse()
    .sort((a, b) => depth(b) - depth(a));
}

/**
 * `umount -R target`: unmounts everything at and under `target`, deepest first; a busy mount is
 * detached (`umount -l`) and goes when its last user lets go. Returns how many it took off
 * (0 when nothing is mounted there, or `target` does not exist).
 */
export function unmountAll(target: string): number {
  let path: string;
  try {
    path = realpathSync(target);
  } catch {
    return 0;
  }
  const native = loadAddon();
  const points = mountsUnder(path);
  for (const p of points) {
    try {
      native.umount2(p, MNT.NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EBUSY') native.umount2(p, MNT.NOFOLLOW | MNT.DETACH);
      // Gone already: detached with its parent, or unmounted by someone else meanwhile.
      else if (code !== 'EINVAL' && code !== 'ENOENT') throw e;
    }
  }
  return points.length;
}
