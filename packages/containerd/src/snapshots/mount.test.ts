// mountAll/unmountAll on the real kernel (as root): an overlay and a read-only bind of a
// snapshot, taken off recursively; too long an overlay is refused before the call.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@berth/api/errdefs';
import { isMountPoint, mountAll, unmountAll } from './mount.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-snap-mount-'));
  for (const d of ['l1', 'l2', 'upper', 'work', 'rootfs']) mkdirSync(join(dir, d));
});
afterEach(async () => {
  await unmountAll(join(dir, 'rootfs'));
  rmSync(dir, { recursive: true, force: true });
});

describe('mountAll and unmountAll', () => {
  it('mounts an overlay and takes it off with what was mounted under it', async () => {
    writeFileSync(join(dir, 'l2', 'f'), 'layer');
    const rootfs = join(dir, 'rootfs');
    await mountAll([{ type: 'overlay', source: 'overlay', options: ['index=off', `lowerdir=${dir}/l1:${dir}/l2`, `upperdir=${dir}/upper`, `workdir=${dir}/work`] }], rootfs);
    expect(isMountPoint(rootfs)).toBe(true);
    expect(readFileSync(join(rootfs, 'f'), 'utf8')).toBe('layer');
    mkdirSync(join(rootfs, 'proc'));
    await mountAll([{ type: 'tmpfs', source: 'tmpfs', options: [] }], join(rootfs, 'proc'));
    await unmountAll(rootfs);
    expect(isMountPoint(rootfs)).toBe(false);
    await unmountAll(rootfs); // nothing mounted: no error
  });

  it('a read-only bind (a view of one layer) is read-only', async () => {
    const rootfs = join(dir, 'rootfs');
    await mountAll([{ type: 'bind', source: join(dir, 'l1'), options: ['ro', 'rbind'] }], rootfs);
    expect(() => writeFileSync(join(rootfs, 'x'), 'x')).toThrow(expect.objectContaining({ code: 'EROFS' }));
  });

  it('names the target and the errno when the kernel refuses', async () => {
    const rootfs = join(dir, 'rootfs');
    await expect(mountAll([{ type: 'overlay', source: 'overlay', options: [`lowerdir=${dir}/missing`] }], rootfs)).rejects.toThrow(
      `mount overlay on ${rootfs}: ENOENT: No such file or directory, mount '${rootfs}'`,
    );
  });

  it('an overlay whose options pass a page is an InvalidArgumentError, and nothing is mounted', async () => {
    const lower = Array.from({ length: 120 }, (_, i) => `${dir}/snapshots/${i}/fs`).join(':');
    const rootfs = join(dir, 'rootfs');
    await expect(mountAll([{ type: 'overlay', source: 'overlay', options: [`lowerdir=${lower}`] }], rootfs)).rejects.toThrow(InvalidArgumentError);
    expect(isMountPoint(rootfs)).toBe(false);
  });
});
