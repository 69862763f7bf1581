/**
 * A container's root: its snapshot in berth-containerd (an overlay of the image's committed
 * layers and the container's own writable layer), whose mounts berthd asks for and mounts at
 * `<state>/containers/<id>/rootfs` itself at start (as moby mounts a container's BaseFS), and
 * unmounts at exit and removal. With berth_native's mount(2)/umount2(2) (@berth/runc), not an
 * exec of mount(8)/umount(8): ~10 ms less a `run --rm`.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import type { IMount } from '@berth/api/berth/snapshots/v1';
import { InternalError, InvalidArgumentError } from '@berth/api/errdefs';
import { mountAll, InvalidArgumentError as RuncInvalidArgument, unmountAll } from '@berth/runc';

const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

export function isMounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => unescape(l.split(' ')[4] ?? '') === path);
}

/** An overlay mount's `lowerdir`, `upperdir` and `workdir` (inspect's GraphDriver data). */
export function overlayDirs(mounts: IMount[]): { lower: string; upper: string; work: string } {
  const opts = mounts[0]?.options ?? [];
  const opt = (k: string): string => opts.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1) ?? '';
  if (mounts[0]?.type === 'bind') return { lower: '', upper: mounts[0].source ?? '', work: '' };
  return { lower: opt('lowerdir'), upper: opt('upperdir'), work: opt('workdir') };
}

/** Mounts a snapshot's `mounts` onto `target`, in order (nothing when it is mounted already). */
export async function mountSnapshot(mounts: IMount[], target: string): Promise<void> {
  if (isMounted(target)) return;
  mkdirSync(target, { recursive: true, mode: 0o755 });
  try {
    mountAll(mounts, target);
  } catch (e) {
    try {
      unmountAll(target); // what of `mounts` got mounted before the failing one
    } catch {
      // The mount's error is the one to report.
    }
    const message = `mounting the container's root at ${target}: ${(e as Error).message}`;
    // Overlay options longer than mount(2) takes: an image of too many layers, not our fault.
    throw e instanceof RuncInvalidArgument ? new InvalidArgumentError(message, { cause: e }) : new InternalError(message, { cause: e });
  }
}

/**
 * Unmounts the container's root (and anything under it); a busy one is detached lazily. Never
 * fails, as `umount -l` || true did before: exit and removal go on (the lazy unmount or the next
 * start's check catches up).
 */
export async function unmountOverlay(merged: string): Promise<void> {
  try {
    unmountAll(merged);
  } catch {
    // EPERM or the like on a mount we did not make: nothing better to do here.
  }
}
