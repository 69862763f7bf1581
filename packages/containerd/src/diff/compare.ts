/**
 * The diff of an overlay snapshot against its parents, as a layer tar in Docker's form: the
 * upper directory holds exactly what changed, so it is walked (containerd's and Docker's overlay
 * fast path), and overlayfs' markers are turned back:
 *
 *   character device 0:0 at `dir/NAME`     → an empty `dir/.wh.NAME` (mode 0)
 *   `trusted.overlay.opaque=y` on `dir`    → `dir/` then an empty `dir/.wh..wh..opq`
 *
 * Directories in the upper that exist below with the same owner, mode, mtime and xattrs were
 * only copied up by overlayfs (to hold a changed child) and are left out, as in Docker's diffs;
 * files are emitted whole. Hard links inside the upper stay hard links. Times are truncated to
 * seconds and uname/gname left empty, as moby's archive does, so identical changes give
 * identical layers. overlayfs' own xattrs (`trusted.overlay.*`) are never exported.
 *
 * Paths are opened through berth_native inside the upper (openat2 RESOLVE_IN_ROOT), so a running
 * container swapping a directory for a symlink cannot make the diff read host files.
 */
import { closeSync, constants as C, readdirSync, readlinkSync, readSync } from 'node:fs';
import { loadAddon, type BerthNative } from '@berth/runc';
import { header, writeTar, type TarHeader, type TarInput } from '../tar/index.js';
import { OPAQUE_WHITEOUT, OPAQUE_XATTR, WHITEOUT_PREFIX } from './apply.js';

type Stat = NonNullable<ReturnType<BerthNative['lstatAt']>>;
const S_IFMT = 0o170000;
/** Linux's O_PATH (Node's fs.constants lacks it). */
const O_PATH = 0o10000000;
const SEC = 1_000_000_000n;
const seconds = (ns: bigint): bigint => (ns / SEC) * SEC;

function exportedXattrs(all: Record<string, Buffer>): Map<string, Buffer> {
  return new Map(Object.entries(all).filter(([k]) => !k.startsWith('trusted.overlay.')).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const sameXattrs = (a: Map<string, Buffer>, b: Map<string, Buffer>): boolean =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k)?.equals(v) ?? false);

/**
 * The layer tar (uncompressed) of `upper` against `lowers` (nearest first), streamed.
 * The caller keeps the snapshot still while this runs (a container is paused or stopped).
 */
export function diffTar(upper: string, lowers: string[]): AsyncGenerator<Buffer> {
  return writeTar(changes(upper, lowers));
}

async function* changes(upper: string, lowers: string[]): AsyncGenerator<TarInput> {
  const n = loadAddon();
  const root = n.openRoot(upper);
  const lowerFds: number[] = [];
  try {
    for (const l of lowers) lowerFds.push(n.openRoot(l));
    const links = new Map<number, string>();
    const lowerStat = (p: string): { fd: number; st: Stat } | null => {
      for (const fd of lowerFds) {
        const st = n.lstatAt(fd, p);
        if (st) return (st.mode & S_IFMT) === C.S_IFCHR && st.rdevMajor === 0 && st.rdevMinor === 0 ? null : { fd, st };
      }
      return null;
    };

    async function* walk(dir: string): AsyncGenerator<TarInput> {
      const dfd = n.openAt(root, dir || '.', C.O_RDONLY | C.O_DIRECTORY, 0);
      let names: string[];
      try {
        names = readdirSync(`/proc/self/fd/${dfd}`).sort();
      } finally {
        closeSync(dfd);
      }
      for (const name of names) {
        const path = dir ? `${dir}/${name}` : name;
        const st = n.lstatAt(root, path);
        if (!st) continue; // gone meanwhile
        const type = st.mode & S_IFMT;
        const base = { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, mtimeNs: seconds(st.mtimeNs) };
        if (type === C.S_IFCHR && st.rdevMajor === 0 && st.rdevMinor === 0) {
          yield { header: header({ name: dir ? `${dir}/${WHITEOUT_PREFIX}${name}` : `${WHITEOUT_PREFIX}${name}`, type: 'file', mode: 0, mtimeNs: base.mtimeNs }) };
          continue;
        }
        const raw = n.lgetxattrsAt(root, path);
        const xattrs = exportedXattrs(raw);
        if (type === C.S_IFDIR) {
          const opaque = raw[OPAQUE_XATTR]?.toString() === 'y';
          const below = opaque ? null : lowerStat(path);
          const copiedUp = below !== null && (below.st.mode & S_IFMT) === C.S_IFDIR && below.st.uid === st.uid && below.st.gid === st.gid
            && (below.st.mode & 0o7777) === base.mode && seconds(below.st.mtimeNs) === base.mtimeNs
            && sameXattrs(exportedXattrs(n.lgetxattrsAt(below.fd, path)), xattrs);
          if (!copiedUp) yield { header: header({ name: `${path}/`, type: 'dir', ...base, xattrs }) };
          if (opaque) yield { header: header({ name: `${path}/${OPAQUE_WHITEOUT}`, type: 'file', mode: 0, mtimeNs: base.mtimeNs }) };
          yield* walk(path);
          continue;
        }
        if (st.nlink > 1 && type !== C.S_IFDIR) {
          const first = links.get(st.ino);
          if (first !== undefined) {
            yield { header: header({ name: path, type: 'link', linkname: first, ...base }) };
            continue;
          }
          links.set(st.ino, path);
        }
        let h: TarHeader;
        if (type === C.S_IFREG) {
          h = header({ name: path, type: 'file', size: st.size, ...base, xattrs });
          yield { header: h, body: fileBody(n, root, path, st.size) };
        } else if (type === C.S_IFLNK) {
          const parent = n.openAt(root, dir || '.', O_PATH | C.O_DIRECTORY, 0);
          let target: string;
          try {
            target = readlinkSync(`/proc/self/fd/${parent}/${name}`);
          } finally {
            closeSync(parent);
          }
          yield { header: header({ name: path, type: 'symlink', linkname: target, ...base, xattrs }) };
        } else if (type === C.S_IFCHR || type === C.S_IFBLK) {
          yield { header: header({ name: path, type: type === C.S_IFCHR ? 'char' : 'block', devmajor: st.rdevMajor, devminor: st.rdevMinor, ...base, xattrs }) };
        } else if (type === C.S_IFIFO) {
          yield { header: header({ name: path, type: 'fifo', ...base, xattrs }) };
        }
        // Sockets are not archived (as tar and Docker skip them).
      }
    }
    yield* walk('');
  } finally {
    closeSync(root);
    for (const fd of lowerFds) closeSync(fd);
  }
}

async function* fileBody(n: BerthNative, root: number, path: string, size: number): AsyncGenerator<Buffer> {
  const fd = n.openAt(root, path, C.O_RDONLY, 0);
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(left, 1 << 20));
      const r = readSync(fd, buf, 0, buf.length, null);
      if (r === 0) break; // shorter than stat said: writeTar reports it
      left -= r;
      yield buf.subarray(0, r);
    }
  } finally {
    closeSync(fd);
  }
}
