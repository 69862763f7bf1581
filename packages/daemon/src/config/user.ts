/**
 * The container's user and groups, resolved from its own /etc/passwd and /etc/group as Docker
 * does (runc's user.GetExecUserPath): "name", "uid", "name:group", "uid:gid"; supplementary groups
 * from /etc/group plus --group-add. The files are opened inside the root with
 * openat2(RESOLVE_IN_ROOT) (berth_native), so a symlinked /etc/passwd cannot point at the host's.
 */
import { closeSync, constants, readFileSync } from 'node:fs';
import { loadAddon } from '@berth/runc';
import { InvalidArgumentError } from '@berth/api/errdefs';

export interface ExecUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

export function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const f = l.split(':');
    return { name: f[0] ?? '', uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' };
  }).filter((e) => Number.isInteger(e.uid) && Number.isInteger(e.gid));
}

export function parseGroup(text: string): GroupEntry[] {
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const f = l.split(':');
    return { name: f[0] ?? '', gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) };
  }).filter((e) => Number.isInteger(e.gid));
}

const isNum = (s: string): boolean => /^\d+$/.test(s);

/** Pure resolution over the files' contents ('' when a file is missing). */
export function resolveUser(spec: string, passwdText: string, groupText: string, groupAdd: string[] = []): ExecUser {
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  const [userPart = '', groupPart] = spec.split(':', 2) as [string, string | undefined];
  let uid = 0;
  let gid = 0;
  let home = '/';
  let name = '';
  if (userPart === '') {
    const root = passwd.find((p) => p.uid === 0);
    if (root) ({ gid, home, name } = root);
  } else {
    const entry = passwd.find((p) => p.name === userPart) ?? (isNum(userPart) ? passwd.find((p) => p.uid === Number(userPart)) : undefined);
    if (entry) ({ uid, gid, home, name } = entry);
    else if (isNum(userPart)) uid = Number(userPart);
    else throw new InvalidArgumentError(`unable to find user ${userPart}: no matching entries in passwd file`);
  }
  let additionalGids: number[] = [];
  if (groupPart !== undefined && groupPart !== '') {
    const g = groups.find((e) => e.name === groupPart) ?? (isNum(groupPart) ? { gid: Number(groupPart) } : undefined);
    if (!g) throw new InvalidArgumentError(`unable to find group ${groupPart}: no matching entries in group file`);
    gid = g.gid;
  } else if (name) {
    additionalGids = groups.filter((e) => e.members.includes(name)).map((e) => e.gid);
  }
  for (const ga of groupAdd) {
    const g = groups.find((e) => e.name === ga) ?? (isNum(ga) ? { gid: Number(ga) } : undefined);
    if (!g) throw new InvalidArgumentError(`unable to find group ${ga}: no matching entries in group file`);
    additionalGids.push(g.gid);
  }
  additionalGids = [...new Set(additionalGids)].filter((g) => g !== gid);
  return { uid, gid, additionalGids, home };
}

/** Reads a file inside `root` without leaving it; '' when it is missing. */
export function readInRoot(root: string, path: string): string {
  const native = loadAddon();
  const rootFd = native.openRoot(root);
  try {
    let fd: number;
    try {
      fd = native.openAt(rootFd, path.replace(/^\/+/, ''), constants.O_RDONLY, 0);
    } catch {
      return '';
    }
    try {
      return readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } finally {
    closeSync(rootFd);
  }
}

export function resolveUserInRoot(root: string, spec: string, groupAdd: string[] = []): ExecUser {
  return resolveUser(spec, readInRoot(root, 'etc/passwd'), readInRoot(root, 'etc/group'), groupAdd);
}
