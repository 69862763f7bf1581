/**
 * A container's root: its snapshot in berth-containerd (an overlay of the image's committed
 * layers and the container's own writable layer), whose mounts berthd asks for and mounts at
 * `<state>/containers/<id>/rootfs` itself at start (as moby mounts a container's BaseFS), and
 * unmounts at exit and removal. With mount(8): berth_native's addon has no mount(2) binding.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { IMount } from '@berth/api/berth/snapshots/v1';
import { InternalError } from '@berth/api/errdefs';

const run = promisify(execFile);

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
  for (const m of mounts) {
    const options = m.options ?? [];
    const bind = m.type === 'bind' || options.includes('bind') || options.includes('rbind');
    const rest = options.filter((o) => o !== 'bind' && o !== 'rbind');
    const args = bind
      ? [options.includes('rbind') ? '--rbind' : '--bind', m.source ?? '', target]
      : ['-t', m.type ?? '', '-o', rest.join(','), m.source ?? '', target];
    try {
      await run('mount', args);
      // The first bind ignores "ro": a remount makes it read-only.
      if (bind && rest.includes('ro')) await run('mount', ['-o', 'remount,bind,ro', target]);
    } catch (e) {
      await unmountOverlay(target).catch(() => undefined);
      throw new InternalError(`mounting the container's root at ${target}: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`);
    }
  }
}

export async function unmountOverlay(merged: string): Promise<void> {
  if (!isMounted(merged)) return;
  try {
    await run('umount', [merged]);
  } catch {
    // Busy (a process still has a file open there): detach it now, it goes when released.
    await run('umount', ['-l', merged]).catch(() => undefined);
  }
}
