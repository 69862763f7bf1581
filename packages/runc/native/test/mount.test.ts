// berth_native's mount(2) and umount2(2) against the real kernel (root). Every mount is made in a
// temp dir and taken off in afterEach, so a failing test leaves nothing mounted.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAddon } from '../../src/native/addon';
import { MNT, MS } from '../../src/native/mount';

const native = loadAddon();

/** The filesystem type mounted at `path` (the last one stacked there), or undefined. */
function fsTypeAt(path: string): string | undefined {
  let type: string | undefined;
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f[4] === path) type = f[f.indexOf('-') + 1];
  }
  return type;
}

describe('mount and umount2', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-mount-test-'));
  });
  afterEach(() => {
    for (let i = 0; i < 4; i++) {
      for (const p of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '')) {
        if (p.startsWith(`${dir}/`)) native.umount2(p, MNT.DETACH);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('mounts a tmpfs with flags and data, and unmounts it', () => {
    const target = join(dir, 'mnt');
    mkdirSync(target);
    native.mount('tmpfs', target, 'tmpfs', MS.NOSUID | MS.NODEV, 'size=1m,mode=700');
    expect(fsTypeAt(target)).toBe('tmpfs');
    const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === target) ?? '';
    expect(line).toMatch(/ rw,nosuid,nodev[ ,]/);
    expect(line).toMatch(/size=1024k,mode=700/);
    native.umount2(target, 0);
    expect(fsTypeAt(target)).toBeUndefined();
  });

  it('remounts read-only (empty source, type and data are NULL)', () => {
    const target = join(dir, 'mnt');
    mkdirSync(target);
    native.mount('tmpfs', target, 'tmpfs', 0, '');
    native.mount('', target, '', MS.REMOUNT | MS.RDONLY, '');
    expect(() => writeFileSync(join(target, 'f'), 'x')).toThrow(expect.objectContaining({ code: 'EROFS' }));
    native.umount2(target, MNT.DETACH);
    expect(fsTypeAt(target)).toBeUndefined();
  });

  it('mounts an overlay of lowerdirs, upperdir and workdir', () => {
    for (const d of ['l1', 'l2', 'upper', 'work', 'merged']) mkdirSync(join(dir, d));
    writeFileSync(join(dir, 'l1', 'a'), 'from l1');
    writeFileSync(join(dir, 'l2', 'a'), 'from l2');
    writeFileSync(join(dir, 'l2', 'b'), 'only l2');
    const merged = join(dir, 'merged');
    native.mount('overlay', merged, 'overlay', 0, `lowerdir=${join(dir, 'l1')}:${join(dir, 'l2')},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`);
    expect(fsTypeAt(merged)).toBe('overlay');
    expect(readFileSync(join(merged, 'a'), 'utf8')).toBe('from l1'); // the first lowerdir is the top
    expect(readFileSync(join(merged, 'b'), 'utf8')).toBe('only l2');
    writeFileSync(join(merged, 'c'), 'new');
    expect(readFileSync(join(dir, 'upper', 'c'), 'utf8')).toBe('new');
    native.umount2(merged, 0);
    expect(fsTypeAt(merged)).toBeUndefined();
  });

  it('fails with the errno code and the target in the message', () => {
    const missing = join(dir, 'missing');
    expect(() => native.mount('tmpfs', missing, 'tmpfs', 0, '')).toThrow(
      expect.objectContaining({ code: 'ENOENT', errno: -2, syscall: 'mount', path: missing, message: `ENOENT: No such file or directory, mount '${missing}'` }),
    );
    // Nothing mounted there.
    expect(() => native.umount2(dir, 0)).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'umount2', path: dir }));
    // An overlay whose workdir is missing.
    mkdirSync(join(dir, 'merged'));
    expect(() => native.mount('overlay', join(dir, 'merged'), 'overlay', 0, `lowerdir=${dir},upperdir=${join(dir, 'nope')},workdir=${join(dir, 'nope2')}`)).toThrow(
      expect.objectContaining({ code: 'ENOENT', syscall: 'mount' }),
    );
    expect(() => native.mount('x', dir, 'no-such-fs-type', 0, '')).toThrow(expect.objectContaining({ code: 'ENODEV' }));
  });

  it('rejects arguments of the wrong type', () => {
    const m = native.mount as unknown as (...a: unknown[]) => void;
    expect(() => m('tmpfs', dir, 'tmpfs', '0', '')).toThrow(TypeError);
    expect(() => m(null, dir, 'tmpfs', 0, '')).toThrow(TypeError);
    expect(() => m('tmpfs', dir, 'tmpfs', -1, '')).toThrow(RangeError);
    expect(() => (native.umount2 as unknown as (...a: unknown[]) => void)(dir)).toThrow(TypeError);
  });
});
