/**
 * Mounting a snapshot's mounts onto a directory (a bundle's rootfs) and taking them off, with
 * util-linux's mount(8): a mount is one short exec, and it is what containerd's `mount.All` does
 * with the syscall. Overlay options longer than a page (very deep images) fail with EINVAL
 * from the kernel; containerd shortens lowerdir paths for that, which is not done here yet.
 */
import { execFile } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Mount } from './snapshotter.js';

const run = promisify(execFile);

/** Mounts each of `mounts` onto `target`, in order. */
export async function mountAll(mounts: Mount[], target: string): Promise<void> {
  for (const m of mounts) {
    const opts = m.options.filter((o) => o !== 'rbind' && o !== 'bind');
    const bind = m.type === 'bind' || m.options.includes('rbind') || m.options.includes('bind');
    const args = bind
      ? [m.options.includes('rbind') ? '--rbind' : '--bind', m.source, target]
      : ['-t', m.type, '-o', opts.join(','), m.source, target];
    try {
      await run('mount', args);
      // A read-only bind needs a remount: the first bind ignores "ro".
      if (bind && opts.includes('ro')) await run('mount', ['-o', 'remount,bind,ro', target]);
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`mount ${m.type} on ${target}: ${(err.stderr || err.message).trim()}`, { cause: e });
    }
  }
}

/** Unmounts whatever is mounted on `target` (recursively; lazily if it is busy). */
export async function unmountAll(target: string): Promise<void> {
  try {
    await run('umount', ['-R', target]);
  } catch (e) {
    const msg = (e as { stderr?: string }).stderr ?? '';
    if (/not mounted|no mount point/.test(msg)) return;
    await run('umount', ['-R', '-l', target]);
  }
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
