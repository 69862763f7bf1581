/**
 * A container's root: an overlay of the image's rootfs (lower) and the container's own upper/work
 * directories, mounted by berthd at start and unmounted at exit and removal. TODO: becomes a
 * berth-containerd snapshot once image storage is served over gRPC.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { InternalError } from '@berth/api/errdefs';

const run = promisify(execFile);

const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

export function isMounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => unescape(l.split(' ')[4] ?? '') === path);
}

export async function mountOverlay(r: { lower: string; upper: string; work: string; merged: string }): Promise<void> {
  if (isMounted(r.merged)) return;
  for (const d of [r.upper, r.work, r.merged]) mkdirSync(d, { recursive: true, mode: 0o755 });
  for (const p of [r.lower, r.upper, r.work]) if (/[,:\\]/.test(p)) throw new InternalError(`overlay path with a comma, colon or backslash: ${p}`);
  try {
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${r.lower},upperdir=${r.upper},workdir=${r.work}`, r.merged]);
  } catch (e) {
    throw new InternalError(`mounting the container's root at ${r.merged}: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`);
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
