// The overlay snapshotter on the real kernel (as root): records, directories and real mounts.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from '@berth/api/errdefs';
import { mountAll, OverlaySnapshotter, unmountAll } from './index.js';

let dir: string;
let sn: OverlaySnapshotter;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-snap-'));
  sn = new OverlaySnapshotter(join(dir, 'overlay'));
});
afterEach(() => {
  sn.close();
  rmSync(dir, { recursive: true, force: true });
});

const opt = (options: string[], name: string): string => options.find((o) => o.startsWith(`${name}=`))!.slice(name.length + 1);

describe('OverlaySnapshotter', () => {
  it('prepares, commits, stacks, mounts, measures, walks and removes', async () => {
    const m0 = sn.prepare('extract-1', '');
    expect(m0).toEqual([{ type: 'bind', source: sn.upperDir('extract-1'), options: ['rw', 'rbind'] }]);
    writeFileSync(join(sn.upperDir('extract-1'), 'base'), 'base-layer');
    sn.commit('layer1', 'extract-1');
    expect(sn.stat('layer1')).toMatchObject({ name: 'layer1', kind: 'committed', parent: '' });
    expect(() => sn.stat('extract-1')).toThrow(NotFoundError);
    expect(sn.usage('layer1').inodes).toBe(2);

    sn.prepare('extract-2', 'layer1');
    writeFileSync(join(sn.upperDir('extract-2'), 'second'), '2');
    sn.commit('layer2', 'extract-2', { 'berth.io/test': 'x' });
    expect(sn.stat('layer2').labels).toEqual({ 'berth.io/test': 'x' });

    const mounts = sn.prepare('container-1', 'layer2');
    expect(mounts).toHaveLength(1);
    expect(mounts[0]!.type).toBe('overlay');
    expect(opt(mounts[0]!.options, 'lowerdir').split(':')).toEqual(sn.parentDirs('container-1'));
    expect(() => sn.prepare('container-1', 'layer2')).toThrow(AlreadyExistsError);
    expect(() => sn.prepare('c2', 'container-1')).toThrow(FailedPreconditionError);
    expect(() => sn.remove('layer1')).toThrow(/has children/);

    const rootfs = join(dir, 'rootfs');
    mkdirSync(rootfs);
    await mountAll(mounts, rootfs);
    try {
      expect(readdirSync(rootfs).sort()).toEqual(['base', 'second']);
      writeFileSync(join(rootfs, 'written'), 'by the container');
      rmSync(join(rootfs, 'base'));
    } finally {
      await unmountAll(rootfs);
    }
    const upper = sn.upperDir('container-1');
    expect(readFileSync(join(upper, 'written'), 'utf8')).toBe('by the container');
    expect(existsSync(join(upper, 'base'))).toBe(true); // the whiteout
    expect(existsSync(join(sn.parentDirs('container-1')[1]!, 'base'))).toBe(true); // the layer is untouched

    const view = sn.view('view-1', 'layer2');
    expect(view[0]!.type).toBe('overlay');
    expect(view[0]!.options).toEqual([`lowerdir=${sn.parentDirs('view-1').join(':')}`]);
    expect(sn.walk().map((i) => `${i.name}:${i.kind}:${i.parent}`)).toEqual(['layer1:committed:', 'layer2:committed:layer1', 'container-1:active:layer2', 'view-1:view:layer2']);

    // The container's upper goes away with it.
    sn.remove('container-1');
    expect(existsSync(upper)).toBe(false);
    sn.remove('view-1');
    sn.remove('layer2');
    sn.remove('layer1');
    expect(sn.walk()).toEqual([]);
    expect(readdirSync(join(dir, 'overlay', 'snapshots'))).toEqual([]);
  });

  it('removes directories a crash left without a record when it opens', () => {
    sn.close();
    mkdirSync(join(dir, 'overlay', 'snapshots', '99', 'fs'), { recursive: true });
    sn = new OverlaySnapshotter(join(dir, 'overlay'));
    expect(readdirSync(join(dir, 'overlay', 'snapshots'))).toEqual([]);
  });
});
