// berth_native's extraction calls (src/extract.cc) on the real kernel: each acts inside its root
// and never follows a path out of it. Runs as root (chown, mknod, trusted.* xattrs).
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { constants as C } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAddon } from '@berth/runc';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const native = loadAddon();
let dir: string;
let root: string;
let outside: string;
let rootFd: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-extract-'));
  root = join(dir, 'root');
  outside = join(dir, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'keep');
  rootFd = native.openRoot(root);
});
afterEach(() => {
  closeSync(rootFd);
  rmSync(dir, { recursive: true, force: true });
});

describe('extraction inside a root', () => {
  it('creates every kind of entry with exact modes, owners, times and binary xattrs', () => {
    native.mkdirAt(rootFd, 'd', 0o700);
    native.chmodAt(rootFd, 'd', 0o2755);
    const fd = native.openAt(rootFd, 'd/f', C.O_WRONLY | C.O_CREAT | C.O_EXCL, 0o600);
    writeSync(fd, 'data');
    closeSync(fd);
    native.lchownAt(rootFd, 'd/f', 1000, 2000);
    native.chmodAt(rootFd, 'd/f', 0o4755);
    native.symlinkAt(rootFd, 'd/s', '/etc/passwd');
    native.lchownAt(rootFd, 'd/s', 7, 8);
    native.linkAt(rootFd, 'd/f', 'd/h');
    native.mknodAt(rootFd, 'null', C.S_IFCHR | 0o666, 1, 3);
    native.mknodAt(rootFd, 'fifo', C.S_IFIFO | 0o600, 0, 0);
    native.whiteoutAt(rootFd, 'gone');
    const bin = Buffer.from([0, 255, 10, 61]);
    native.lsetxattrAt(rootFd, 'd/f', 'user.bin', bin);
    native.lsetxattrAt(rootFd, 'd', 'trusted.overlay.opaque', Buffer.from('y'));
    native.lutimesAt(rootFd, 'd/s', 1_000_000_000_123n, 2_000_000_000_456n);

    expect(lstatSync(join(root, 'd')).mode & 0o7777).toBe(0o2755);
    expect(lstatSync(join(root, 'd/f'))).toMatchObject({ uid: 1000, gid: 2000, nlink: 2 });
    expect(lstatSync(join(root, 'd/f')).mode & 0o7777).toBe(0o4755);
    expect(readlinkSync(join(root, 'd/s'))).toBe('/etc/passwd');
    expect(lstatSync(join(root, 'd/s'), { bigint: true }).mtimeNs).toBe(2_000_000_000_456n);
    expect(native.lstatAt(rootFd, 'd/s')).toMatchObject({ uid: 7, gid: 8, mtimeNs: 2_000_000_000_456n });
    expect(native.lstatAt(rootFd, 'null')).toMatchObject({ rdevMajor: 1, rdevMinor: 3 });
    expect(lstatSync(join(root, 'fifo')).isFIFO()).toBe(true);
    expect(native.lstatAt(rootFd, 'gone')).toMatchObject({ mode: C.S_IFCHR, rdevMajor: 0, rdevMinor: 0 });
    expect(native.lgetxattrsAt(rootFd, 'd/f')['user.bin']).toEqual(bin);
    expect(native.lgetxattrsAt(rootFd, 'd')['trusted.overlay.opaque']?.toString()).toBe('y');
    expect(native.lstatAt(rootFd, 'missing/x')).toBeNull();
    expect(native.removeAt(rootFd, 'd')).toBe(true);
    expect(native.removeAt(rootFd, 'd')).toBe(false);
    expect(existsSync(join(root, 'd'))).toBe(false);
  });

  it('contains .. and absolute paths inside the root', () => {
    native.mkdirAt(rootFd, '../../escape', 0o755);
    expect(existsSync(join(root, 'escape'))).toBe(true);
    // `<root>/outside` does not exist: nothing is made, and the real one is untouched.
    expect(() => native.openAt(rootFd, '/../../outside/secret', C.O_WRONLY | C.O_CREAT | C.O_TRUNC, 0o644)).toThrow(/ENOENT/);
    mkdirSync(join(root, 'outside'));
    closeSync(native.openAt(rootFd, '/../../outside/secret', C.O_WRONLY | C.O_CREAT | C.O_TRUNC, 0o644));
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('keep');
    expect(existsSync(join(root, 'outside/secret'))).toBe(true);
  });

  it('follows symlinks only inside the root: write-through, chown and hard links stay in', () => {
    symlinkSync(outside, join(root, 'abs'));
    symlinkSync('../../outside', join(root, 'rel'));
    mkdirSync(join(root, 'outside'));
    mkdirSync(join(root, outside), { recursive: true }); // where the absolute link lands inside
    // Writing through either link lands in <root>/outside, never in the real one.
    for (const link of ['abs', 'rel']) {
      const fd = native.openAt(rootFd, `${link}/secret`, C.O_WRONLY | C.O_CREAT | C.O_TRUNC, 0o644);
      writeSync(fd, 'owned');
      closeSync(fd);
    }
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('keep');
    expect(readFileSync(join(root, 'outside/secret'), 'utf8')).toBe('owned');
    expect(readFileSync(join(root, outside, 'secret'), 'utf8')).toBe('owned');
    // A hard link to a path outside resolves inside the root: it links the inside file, or
    // fails ENOENT when nothing is there.
    native.linkAt(rootFd, '../../outside/secret', 'stolen');
    expect(lstatSync(join(root, 'stolen')).ino).toBe(lstatSync(join(root, 'outside/secret')).ino);
    expect(lstatSync(join(outside, 'secret')).nlink).toBe(1);
    expect(() => native.linkAt(rootFd, 'abs/../../../etc/passwd', 'stolen')).toThrow(/ENOENT/);
    // The last component is never followed: chown/chmod/xattr act on the link, open refuses it.
    native.lchownAt(rootFd, 'abs', 1234, 1234);
    expect(lstatSync(outside).uid).toBe(0);
    expect(() => native.chmodAt(rootFd, 'abs', 0o777)).toThrow(/EOPNOTSUPP/);
    expect(() => native.openAt(rootFd, 'abs', C.O_RDONLY, 0)).toThrow(/ELOOP/);
    expect(native.removeAt(rootFd, 'abs')).toBe(true);
    expect(existsSync(join(outside, 'secret'))).toBe(true);
    // /proc magic links are refused while resolving.
    expect(() => native.openAt(rootFd, '/proc/self/root/etc/passwd', C.O_RDONLY, 0)).toThrow(/ENOENT|EXDEV|ELOOP/);
  });

  it('rejects bad arguments with TypeErrors', () => {
    expect(() => (native.mkdirAt as (...a: unknown[]) => void)(rootFd, 5, 0o755)).toThrow(TypeError);
    expect(() => native.lutimesAt(rootFd, 'x', 1 as unknown as bigint, 1n)).toThrow(TypeError);
    expect(() => native.mkdirAt(rootFd, 'a/..', 0o755)).toThrow(/EINVAL/);
  });
});
