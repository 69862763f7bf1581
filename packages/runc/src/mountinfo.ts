import { readFileSync } from 'node:fs';

export interface MountInfo {
  id: number;
  parent: number;
  root: string;
  mountPoint: string;
  options: string;
  optional: string;
  fsType: string;
  source: string;
  superOptions: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountInfo(text: string): MountInfo[] {
  const mounts: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [left, right = ''] = line.split(' - ');
    const f = left!.split(' ');
    const r = right.split(' ');
    mounts.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      root: unescape(f[3] ?? ''),
      mountPoint: unescape(f[4] ?? ''),
      options: f[5] ?? '',
      optional: f.slice(6).join(' '),
      fsType: r[0] ?? '',
      source: unescape(r[1] ?? ''),
      superOptions: r[2] ?? '',
    });
  }
  return mounts;
}

export function readMountInfo(pid: number | 'self' = 'self'): MountInfo[] {
  return parseMountInfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
}

/** The mount point that contains `path` (the longest mount point that prefixes it). */
export function mountPointOf(path: string, mounts: readonly MountInfo[] = readMountInfo()): string {
  let best = '/';
  for (const m of mounts) {
    const mp = m.mountPoint;
    const inside = path === mp || path.startsWith(mp.endsWith('/') ? mp : mp + '/');
    if (inside && mp.length > best.length) best = mp;
  }
  return best;
}
