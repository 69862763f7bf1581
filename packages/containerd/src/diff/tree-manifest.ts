/**
 * A file tree as a comparable list: one line per entry with its path, type, mode, owner, size,
 * content hash, xattrs, link target, device numbers and hard-link group. Two trees are the same
 * to a container when their manifests are equal (times aside, which unpackers treat differently
 * for directories). Used to check unpacking against other unpackers (umoci) and by tests.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants as C, readdirSync, readlinkSync, readSync } from 'node:fs';
import { loadAddon } from '@berth/runc';

const S_IFMT = 0o170000;
const O_PATH = 0o10000000;

const TYPES: Record<number, string> = {
  [C.S_IFREG]: 'file', [C.S_IFDIR]: 'dir', [C.S_IFLNK]: 'symlink', [C.S_IFCHR]: 'char',
  [C.S_IFBLK]: 'block', [C.S_IFIFO]: 'fifo', [C.S_IFSOCK]: 'socket',
};

export interface ManifestOptions {
  /** xattr names to leave out (e.g. `security.selinux`); `trusted.overlay.*` is always left out. */
  ignoreXattrs?: RegExp;
  /** Include the root directory's own line (mode, owner). */
  includeRoot?: boolean;
}

/** The manifest of the tree at `dir`, sorted by path; read inside `dir` (never following out). */
export function treeManifest(dir: string, opts: ManifestOptions = {}): string[] {
  const n = loadAddon();
  const root = n.openRoot(dir);
  const firstPath = new Map<number, string>();
  const out: string[] = [];
  try {
    const visit = (path: string): void => {
      const st = n.lstatAt(root, path || '.');
      if (!st) return;
      const type = TYPES[st.mode & S_IFMT] ?? 'unknown';
      const xattrs = Object.entries(n.lgetxattrsAt(root, path || '.'))
        .filter(([k]) => !k.startsWith('trusted.overlay.') && !(opts.ignoreXattrs?.test(k) ?? false))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => `${k}=${v.toString('hex')}`);
      const fields = [path || '.', type, `mode=${(st.mode & 0o7777).toString(8).padStart(4, '0')}`, `owner=${st.uid}:${st.gid}`];
      if (type === 'file') {
        const fd = n.openAt(root, path, C.O_RDONLY, 0);
        const h = createHash('sha256');
        try {
          const buf = Buffer.allocUnsafe(1 << 20);
          for (let r = readSync(fd, buf); r > 0; r = readSync(fd, buf)) h.update(buf.subarray(0, r));
        } finally {
          closeSync(fd);
        }
        fields.push(`size=${st.size}`, `sha256=${h.digest('hex')}`);
        if (st.nlink > 1) {
          const first = firstPath.get(st.ino);
          if (first === undefined) firstPath.set(st.ino, path);
          fields.push(`links=${st.nlink}`, `group=${first ?? path}`);
        }
      }
      if (type === 'symlink') {
        const slash = path.lastIndexOf('/');
        const parent = n.openAt(root, slash === -1 ? '.' : path.slice(0, slash), O_PATH | C.O_DIRECTORY, 0);
        try {
          fields.push(`target=${readlinkSync(`/proc/self/fd/${parent}/${path.slice(slash + 1)}`)}`);
        } finally {
          closeSync(parent);
        }
      }
      if (type === 'char' || type === 'block') fields.push(`dev=${st.rdevMajor},${st.rdevMinor}`);
      if (xattrs.length) fields.push(`xattrs=${xattrs.join(';')}`);
      if (path || opts.includeRoot) out.push(fields.join(' '));
      if (type === 'dir') {
        const dfd = n.openAt(root, path || '.', C.O_RDONLY | C.O_DIRECTORY, 0);
        let names: string[];
        try {
          names = readdirSync(`/proc/self/fd/${dfd}`).sort();
        } finally {
          closeSync(dfd);
        }
        for (const name of names) visit(path ? `${path}/${name}` : name);
      }
    };
    visit('');
  } finally {
    closeSync(root);
  }
  return out;
}
