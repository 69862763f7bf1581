// mount(8)'s option parsing as mount(2) calls (pure), and `umount -R` on a real tree (root).
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { loadAddon } from './addon.js';
import { MNT, MOUNT_DATA_MAX, MS, mountAll, mountCalls, mountsUnder, unmountAll } from './mount.js';

describe('mountCalls', () => {
  it('an overlay: flag options become flags, the rest the data, in order', () => {
    const options = ['ro', 'nosuid', 'index=off', 'lowerdir=/s/2/fs:/s/1/fs', 'upperdir=/s/3/fs', 'workdir=/s/3/work'];
    expect(mountCalls({ type: 'overlay', source: 'overlay', options }, '/t')).toEqual([
      { source: 'overlay', target: '/t', fstype: 'overlay', flags: MS.RDONLY | MS.NOSUID, data: 'index=off,lowerdir=/s/2/fs:/s/1/fs,upperdir=/s/3/fs,workdir=/s/3/work' },
    ]);
  });

  it('a read-only bind is a bind then a remount (the first bind ignores ro)', () => {
    expect(mountCalls({ type: 'bind', source: '/s/1/fs', options: ['ro', 'rbind'] }, '/t')).toEqual([
      { source: '/s/1/fs', target: '/t', fstype: '', flags: MS.BIND | MS.REC | MS.RDONLY, data: '' },
      { source: '', target: '/t', fstype: '', flags: MS.REMOUNT | MS.BIND | MS.RDONLY, data: '' },
    ]);
  });

  it('a read-write bind is one call, whether the type or an option says bind', () => {
    expect(mountCalls({ type: 'none', source: '/s', options: ['rw', 'bind'] }, '/t')).toEqual([{ source: '/s', target: '/t', fstype: '', flags: MS.BIND, data: '' }]);
    expect(mountCalls({ type: 'bind', source: '/s' }, '/t')).toEqual([{ source: '/s', target: '/t', fstype: '', flags: MS.BIND, data: '' }]);
  });

  it('remount and propagation options', () => {
    expect(mountCalls({ type: 'bind', options: ['remount', 'bind', 'ro'] }, '/t')).toEqual([{ source: '', target: '/t', fstype: '', flags: MS.REMOUNT | MS.BIND | MS.RDONLY, data: '' }]);
    expect(mountCalls({ type: 'tmpfs', source: 'tmpfs', options: ['rprivate', 'size=1m'] }, '/t')).toEqual([
      { source: 'tmpfs', target: '/t', fstype: 'tmpfs', flags: 0, data: 'size=1m' },
      { source: '', target: '/t', fstype: '', flags: MS.PRIVATE | MS.REC, data: '' },
    ]);
  });

  it('data longer than a page is an InvalidArgumentError (the kernel would cut the lowerdir)', () => {
    const lower = Array.from({ length: 100 }, (_, i) => `/var/lib/berth/containerd/snapshots/${i}/fs`).join(':');
    const m = { type: 'overlay', source: 'overlay', options: [`lowerdir=${lower}`, 'upperdir=/u', 'workdir=/w'] };
    expect(() => mountCalls(m, '/t')).toThrow(InvalidArgumentError);
    expect(() => mountCalls(m, '/t')).toThrow(/more than the 4095 mount\(2\) takes/);
    const fits = `lowerdir=/${'x'.repeat(MOUNT_DATA_MAX - 'lowerdir=/'.length)}`;
    expect(mountCalls({ type: 'overlay', options: [fits] }, '/t')[0]?.data).toHaveLength(MOUNT_DATA_MAX);
  });
});

describe('mountsUnder', () => {
  it('the target and what is under it, deepest first, the last stacked first', () => {
    const points = ['/', '/t', '/tx', '/t/a', '/t/a/b', '/t/c', '/t/a', '/t', '/u/t'];
    expect(mountsUnder('/t', points)).toEqual(['/t/a/b', '/t/a', '/t/c', '/t/a', '/t', '/t']);
    expect(mountsUnder('/nothing', points)).toEqual([]);
  });
});

describe('mountAll and unmountAll (root)', () => {
  let dir = '';
  const native = loadAddon();
  const mounted = (p: string): boolean => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === p);
  afterEach(() => {
    for (const p of mountsUnder(dir)) native.umount2(p, MNT.DETACH);
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes off a tree of mounts, stacked and busy ones too, and is a no-op after', () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-mount-all-'));
    const t = join(dir, 'root');
    mkdirSync(t);
    mountAll([{ type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }], t);
    mkdirSync(join(t, 'a'));
    mountAll([{ type: 'tmpfs', source: 'tmpfs' }, { type: 'tmpfs', source: 'tmpfs' }], join(t, 'a'));
    mkdirSync(join(t, 'a', 'b'));
    mkdirSync(join(dir, 'src'));
    mountAll([{ type: 'bind', source: join(dir, 'src'), options: ['rbind', 'ro'] }], join(t, 'a', 'b'));
    expect(mountsUnder(t)).toHaveLength(4);
    // A busy mount is detached, not left.
    const fd = openSync(join(t, 'a'), 'r');
    try {
      // Through a symlink: the target is resolved first (mountinfo has real paths).
      symlinkSync(t, join(dir, 'link'));
      expect(unmountAll(join(dir, 'link'))).toBe(4);
    } finally {
      closeSync(fd);
    }
    expect(mountsUnder(t)).toEqual([]);
    expect(mounted(t)).toBe(false);
    expect(unmountAll(t)).toBe(0);
    expect(unmountAll(join(dir, 'missing'))).toBe(0);
  });

  it('a read-only bind is read-only; a failing mount names the target', () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-mount-all-'));
    const t = join(dir, 'ro');
    mkdirSync(t);
    mountAll([{ type: 'bind', source: dir, options: ['bind', 'ro'] }], t);
    expect(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === t)).toMatch(/ ro[ ,]/);
    expect(unmountAll(t)).toBe(1);
    expect(() => mountAll([{ type: 'overlay', source: 'overlay', options: [`lowerdir=${join(dir, 'none')}`] }], t)).toThrow(
      expect.objectContaining({ code: 'ENOENT', path: t }),
    );
  });
});
