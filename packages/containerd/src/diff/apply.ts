/**
 * Applying a layer onto a snapshot: the layer's tar is extracted straight into the snapshot's
 * upper directory (as containerd's overlay applier does), never through a mount, turning the
 * OCI/Docker whiteouts into overlayfs' own:
 *
 *   `dir/.wh.NAME`        → a character device 0:0 at `dir/NAME` (hides NAME in the layers below)
 *   `dir/.wh..wh..opq`    → `trusted.overlay.opaque=y` on `dir` (hides everything below it)
 *
 * Every path is resolved inside the upper directory by berth_native (openat2 RESOLVE_IN_ROOT),
 * so a layer cannot write outside it. Names that climb out with `..` and hard links whose target
 * climbs out are refused with an error naming the entry; absolute names are taken relative to the
 * root (as GNU tar does); symlinks are followed only inside the root. Parents missing from the
 * upper are made with the metadata of the same directory in the layers below (so the merged view
 * keeps it); a hard link to a file that is only in a lower layer copies that file up first.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants as C, readdirSync, readSync, writeSync } from 'node:fs';
import { posix } from 'node:path';
import { loadAddon, type BerthNative } from '@berth/runc';
import { InvalidArgumentError } from '@berth/api/errdefs';
import { readTar, type TarHeader } from '../tar/index.js';
import { decompress, tap } from './decompress.js';

type Stat = NonNullable<ReturnType<BerthNative['lstatAt']>>;

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
export const OPAQUE_XATTR = 'trusted.overlay.opaque';

/** Entries in a layer that climb out of the root, or are otherwise unusable. */
export class LayerPathError extends InvalidArgumentError {
  override name = 'LayerPathError';
}

/**
 * A member name as a path inside the root: '' for the root itself. Leading `/` and `./` are
 * dropped (contained); a name that climbs above the root with `..` is refused.
 */
export function cleanName(name: string, what = 'entry'): string {
  const n = posix.normalize(`${name}`.replace(/^\/+/, ''));
  if (n === '..' || n.startsWith('../')) throw new LayerPathError(`layer ${what} ${JSON.stringify(name)} climbs out of the root with "..": refused`);
  const out = n.replace(/\/+$/, '');
  return out === '.' ? '' : out;
}

const S_IFMT = 0o170000;
const isDir = (st: Stat): boolean => (st.mode & S_IFMT) === C.S_IFDIR;
const isReg = (st: Stat): boolean => (st.mode & S_IFMT) === C.S_IFREG;
const isLink = (st: Stat): boolean => (st.mode & S_IFMT) === C.S_IFLNK;
const isWhiteout = (st: Stat): boolean => (st.mode & S_IFMT) === C.S_IFCHR && st.rdevMajor === 0 && st.rdevMinor === 0;
const isOverlayXattr = (name: string): boolean => name.startsWith('trusted.overlay.');

export interface ApplyResult {
  /** sha256 of the uncompressed tar: the layer's diff ID. */
  diffId: string;
  /** Uncompressed size. */
  size: number;
}

interface Meta {
  uid: number;
  gid: number;
  mode: number;
  mtimeNs: bigint;
  xattrs: Map<string, Buffer>;
}

/**
 * Extracts the layer `stream` (tar; gzip, zstd or plain) into `upper`, with `lowers` (nearest
 * first) the layers it goes on top of.
 */
export async function applyLayer(upper: string, lowers: string[], stream: AsyncIterable<Buffer>): Promise<ApplyResult> {
  const native = loadAddon();
  const hash = createHash('sha256');
  let size = 0;
  const root = native.openRoot(upper);
  const lowerFds: number[] = [];
  try {
    for (const l of lowers) lowerFds.push(native.openRoot(l));
    const ex = new Extractor(native, root, lowerFds);
    const tarBytes = tap(decompress(stream), (c) => {
      hash.update(c);
      size += c.length;
    });
    for await (const entry of readTar(tarBytes)) {
      try {
        await ex.entry(entry.header, entry.body);
      } catch (e) {
        if (e instanceof LayerPathError || !(e as NodeJS.ErrnoException).code) throw e;
        // A system call failed on this entry: name the entry. Symlinks are followed only inside
        // the root, so one pointing out ends in ENOENT here rather than outside.
        throw new LayerPathError(`layer entry ${JSON.stringify(entry.header.name)}: ${(e as Error).message} (paths resolve inside the layer's root)`, { cause: e });
      }
    }
    ex.finish();
  } finally {
    closeSync(root);
    for (const fd of lowerFds) closeSync(fd);
  }
  return { diffId: `sha256:${hash.digest('hex')}`, size };
}

class Extractor {
  /** Directories whose times are set last (writing their children changes them). */
  private readonly dirTimes: [string, bigint][] = [];
  private readonly present = new Set<string>();

  constructor(private readonly n: BerthNative, private readonly root: number, private readonly lowers: number[]) {}

  /** The nearest lower layer's entry at `path`, or null (also when a whiteout hides it). */
  private lower(path: string): { fd: number; st: Stat } | null {
    for (const fd of this.lowers) {
      const st = this.n.lstatAt(fd, path);
      if (st) return isWhiteout(st) ? null : { fd, st };
    }
    return null;
  }

  private setMeta(path: string, m: Meta, symlink: boolean): void {
    this.n.lchownAt(this.root, path || '.', m.uid, m.gid);
    // chown clears setuid/setgid: the mode comes after it, then xattrs (security.capability
    // is cleared by chown too), then times.
    if (!symlink) this.n.chmodAt(this.root, path || '.', m.mode & 0o7777);
    for (const [k, v] of m.xattrs) {
      if (isOverlayXattr(k)) continue; // a layer must not forge overlayfs' own markers
      try {
        this.n.lsetxattrAt(this.root, path || '.', k, v);
      } catch (e) {
        // user.* xattrs are not allowed on symlinks and devices (EPERM), as for tar and umoci.
        if ((e as NodeJS.ErrnoException).code === 'EPERM' && k.startsWith('user.') && (symlink || !isDir(this.n.lstatAt(this.root, path || '.')!))) continue;
        throw e;
      }
    }
    this.n.lutimesAt(this.root, path || '.', m.mtimeNs, m.mtimeNs);
  }

  /** Makes sure every directory above `path` exists in the upper. */
  private parents(path: string): void {
    const parts = path.split('/');
    parts.pop();
    let p = '';
    for (const part of parts) {
      p = p ? `${p}/${part}` : part;
      if (this.present.has(p)) continue;
      const st = this.n.lstatAt(this.root, p);
      if (st && (isDir(st) || isLink(st))) {
        // A symlink here is followed by openat2, inside the root.
        this.present.add(p);
        continue;
      }
      if (st) this.n.removeAt(this.root, p);
      const below = st ? null : this.lower(p);
      if (below && isLink(below.st)) {
        throw new LayerPathError(`layer entry below ${JSON.stringify(p)}: that directory is a symlink in a lower layer, which is not supported yet`);
      }
      this.n.mkdirAt(this.root, p, 0o755);
      if (below && isDir(below.st)) {
        const xattrs = new Map(Object.entries(this.n.lgetxattrsAt(below.fd, p)));
        this.setMeta(p, { uid: below.st.uid, gid: below.st.gid, mode: below.st.mode, mtimeNs: below.st.mtimeNs, xattrs }, false);
        this.dirTimes.push([p, below.st.mtimeNs]);
      }
      this.present.add(p);
    }
  }

  private readonly linkGroups = new Map<number, Map<number, string[]>>();

  /** Paths of multiply-linked files in one lower layer, by inode (walked once, when needed). */
  private groups(fd: number): Map<number, string[]> {
    let g = this.linkGroups.get(fd);
    if (g) return g;
    g = new Map();
    const walk = (dir: string): void => {
      const dfd = this.n.openAt(fd, dir || '.', C.O_RDONLY | C.O_DIRECTORY, 0);
      let names: string[];
      try {
        names = readdirSync(`/proc/self/fd/${dfd}`);
      } finally {
        closeSync(dfd);
      }
      for (const name of names) {
        const p = dir ? `${dir}/${name}` : name;
        const st = this.n.lstatAt(fd, p);
        if (!st) continue;
        if (isDir(st)) walk(p);
        else if (st.nlink > 1) g!.set(st.ino, [...(g!.get(st.ino) ?? []), p]);
      }
    };
    walk('');
    this.linkGroups.set(fd, g);
    return g;
  }

  /**
   * Copies a file from the nearest lower layer up into the upper, for a hard link to it. Its
   * other names in that layer are linked to the copy too, so the link count and the shared inode
   * look as they would in one extracted tree (as umoci and tar make it), not split across layers.
   */
  private copyUp(path: string): void {
    const below = this.lower(path);
    if (!below || !isReg(below.st)) throw new LayerPathError(`hard link target ${JSON.stringify(path)} is not a file in this layer or the layers below`);
    this.copyFile(path, below);
    if (below.st.nlink > 1) {
      for (const other of this.groups(below.fd).get(below.st.ino) ?? []) {
        if (other === path || this.n.lstatAt(this.root, other)) continue;
        const seen = this.lower(other);
        if (seen?.fd !== below.fd || seen.st.ino !== below.st.ino) continue; // hidden or replaced above
        this.parents(other);
        this.n.linkAt(this.root, path, other);
      }
    }
  }

  private copyFile(path: string, below: { fd: number; st: Stat }): void {
    this.parents(path);
    const src = this.n.openAt(below.fd, path, C.O_RDONLY, 0);
    try {
      const dst = this.n.openAt(this.root, path, C.O_WRONLY | C.O_CREAT | C.O_EXCL, 0o600);
      try {
        const buf = Buffer.allocUnsafe(1 << 20);
        for (let r = readSync(src, buf); r > 0; r = readSync(src, buf)) writeSync(dst, buf, 0, r);
      } finally {
        closeSync(dst);
      }
    } finally {
      closeSync(src);
    }
    const xattrs = new Map(Object.entries(this.n.lgetxattrsAt(below.fd, path)));
    this.setMeta(path, { uid: below.st.uid, gid: below.st.gid, mode: below.st.mode, mtimeNs: below.st.mtimeNs, xattrs }, false);
  }

  async entry(h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const path = cleanName(h.name);
    const base = posix.basename(path);
    const dir = posix.dirname(path) === '.' ? '' : posix.dirname(path);
    if (base === OPAQUE_WHITEOUT) {
      if (dir) {
        this.parents(`${dir}/x`);
        if (!this.n.lstatAt(this.root, dir)) this.n.mkdirAt(this.root, dir, 0o755);
      }
      this.n.lsetxattrAt(this.root, dir || '.', OPAQUE_XATTR, Buffer.from('y'));
      return;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const target = dir ? `${dir}/${base.slice(WHITEOUT_PREFIX.length)}` : base.slice(WHITEOUT_PREFIX.length);
      cleanName(target);
      this.parents(target);
      this.n.removeAt(this.root, target);
      this.n.whiteoutAt(this.root, target);
      return;
    }
    if (!path && h.type !== 'dir') throw new LayerPathError(`layer entry ${JSON.stringify(h.name)} names the root but is not a directory`);
    if (path) this.parents(path);
    const meta: Meta = { uid: h.uid, gid: h.gid, mode: h.mode, mtimeNs: h.mtimeNs, xattrs: h.xattrs };
    const existing = path ? this.n.lstatAt(this.root, path) : null;
    if (h.type === 'dir') {
      if (existing && !isDir(existing)) this.n.removeAt(this.root, path);
      if (path && (!existing || !isDir(existing))) this.n.mkdirAt(this.root, path, 0o700);
      if (path) this.present.add(path);
      this.setMeta(path, meta, false);
      this.dirTimes.push([path, h.mtimeNs]);
      return;
    }
    if (existing) this.n.removeAt(this.root, path);
    switch (h.type) {
      case 'file': {
        const fd = this.n.openAt(this.root, path, C.O_WRONLY | C.O_CREAT | C.O_EXCL, 0o600);
        try {
          for await (const chunk of body) {
            for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
          }
        } finally {
          closeSync(fd);
        }
        break;
      }
      case 'symlink':
        this.n.symlinkAt(this.root, path, h.linkname);
        break;
      case 'link': {
        const target = cleanName(h.linkname, 'hard link target');
        if (!target) throw new LayerPathError(`layer entry ${JSON.stringify(h.name)} is a hard link to the root`);
        if (!this.n.lstatAt(this.root, target)) this.copyUp(target);
        this.n.linkAt(this.root, target, path);
        return; // a hard link shares its target's inode and metadata
      }
      case 'char':
      case 'block':
      case 'fifo': {
        const type = h.type === 'char' ? C.S_IFCHR : h.type === 'block' ? C.S_IFBLK : C.S_IFIFO;
        this.n.mknodAt(this.root, path, type | (h.mode & 0o777), h.devmajor, h.devminor);
        break;
      }
    }
    this.setMeta(path, meta, h.type === 'symlink');
  }

  /** Sets directory times, deepest first, now that nothing more is written beneath them. */
  finish(): void {
    const seen = new Set<string>();
    for (const [p, t] of [...this.dirTimes].reverse()) {
      if (seen.has(p)) continue;
      seen.add(p);
      if (this.n.lstatAt(this.root, p || '.')) this.n.lutimesAt(this.root, p || '.', t, t);
    }
  }
}
