// Image storage (issue 4): unpacking agrees with Debian's umoci; shared layers are stored once and
// GC removes only what nothing references; a container's diff is exactly its change in Docker's
// whiteout form; layers cannot write outside their root; bad blobs leave nothing.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeBlob } from '../packages/containerd/src/content/index.js';
import { readTar, type TarHeader } from '../packages/containerd/src/tar/index.js';
import { treeManifest } from '../packages/containerd/src/diff/tree-manifest.js';
import { ImageStorage } from '../packages/containerd/src/images/index.js';
import { unmountAll } from '../packages/containerd/src/snapshots/index.js';
import { tempRoots, useLeakCheck } from './support/index.js';
import { diskBytes, dir, file, hardlink, opaque, run, symlink, tarOf, whiteout, writeLayout } from './040-image-storage-support.js';

const NS = 'default';
const binary = Buffer.from([0x00, 0xff, 0x10, 0x0a, 0x3d, 0x80]);

/** A deterministic pseudo-random body (incompressible, so disk use is real). */
function noise(bytes: number, seed: string): Buffer {
  const out = Buffer.alloc(bytes);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < bytes; off += 32) {
    block = createHash('sha256').update(block).digest();
    block.copy(out, off);
  }
  return out;
}

// The layer set: whiteouts, opaque directories, hard links within and across layers, setuid and
// setgid files, user.* xattrs (one binary), character and block devices, FIFOs, symlinks.
async function layerSet(): Promise<Buffer[]> {
  const l1 = await tarOf([
    dir('bin/'), dir('etc/'), dir('usr/'), dir('usr/share/'), dir('usr/share/doc/'), dir('opt/'), dir('opt/old/'), dir('dev/'), dir('run/'),
    dir('srv/', { mode: 0o2775, uid: 33, gid: 33 }), dir('tmp/', { mode: 0o1777 }),
    file('bin/busybox', noise(4096, 'busybox'), { mode: 0o755 }),
    file('bin/su', 'su', { mode: 0o4755 }),
    file('bin/wall', 'wall', { mode: 0o2755, gid: 5 }),
    symlink('bin/sh', 'busybox'),
    symlink('etc/mtab', '/proc/self/mounts'),
    file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n'),
    file('etc/hosts', '127.0.0.1 localhost\n'),
    file('etc/shadow', 'root:*:1::::::\n', { mode: 0o640, gid: 42 }),
    file('usr/share/doc/readme', 'doc'),
    file('opt/old/a', 'a'), file('opt/old/b', 'b'), file('opt/keep', 'keep'),
    file('srv/data', 'data', { uid: 1000, gid: 1000, xattrs: new Map([['user.comment', Buffer.from('hello')], ['user.bin', binary]]) }),
    { header: { ...(await import('../packages/containerd/src/tar/index.js')).header({ name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 }) } },
    { header: (await import('../packages/containerd/src/tar/index.js')).header({ name: 'dev/loop0', type: 'block', mode: 0o660, devmajor: 7, devminor: 0, gid: 6 }) },
    { header: (await import('../packages/containerd/src/tar/index.js')).header({ name: 'run/initctl', type: 'fifo', mode: 0o600 }) },
    hardlink('bin/ls', 'bin/busybox'),
  ]);
  const l2 = await tarOf([
    dir('etc/'),
    whiteout('etc/hosts'),
    file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n'),
    dir('opt/'), opaque('opt'), file('opt/new', 'new'),
    hardlink('bin/cat', 'bin/busybox'), // across layers: the target is in layer 1
    whiteout('usr/share/doc'),
    dir('home/'), dir('home/user/', { uid: 1000, gid: 1000, mode: 0o700 }),
    file('home/user/.profile', 'export PS1=$ ', { uid: 1000, gid: 1000, xattrs: new Map([['user.bin', Buffer.from([1, 2, 3, 0])]]) }),
  ]);
  const l3 = await tarOf([
    dir('srv/', { mode: 0o2775, uid: 33, gid: 33 }),
    file('srv/data', 'data v2', { uid: 1000, gid: 1000, xattrs: new Map([['user.bin', binary]]) }),
    hardlink('srv/data-link', 'srv/data'),
    file('etc/shadow', 'root:!:2::::::\n', { mode: 0o600 }),
    dir('usr/share/doc/'), file('usr/share/doc/new-readme', 'back'),
  ]);
  return [l1, l2, l3];
}

async function withStorage(root: string, fn: (s: ImageStorage) => Promise<void>): Promise<void> {
  const s = await ImageStorage.open(root);
  try {
    await fn(s);
  } finally {
    s.close();
  }
}

describe('040 image storage', () => {
  useLeakCheck({ settleMs: 2000 });

  it('unpacks a layer set exactly as umoci does (whiteouts, opaque dirs, hard links across layers, setuid, xattrs, devices, FIFOs)', async () => {
    const t = tempRoots();
    const layers = await layerSet();
    // The layers are proper tar for GNU tar too.
    for (const [i, l] of layers.entries()) {
      writeFileSync(join(t.dir, `l${i}.tar`), l);
      await run('tar', ['-tvf', join(t.dir, `l${i}.tar`)]);
    }
    const { stdout: l1list } = await run('tar', ['--numeric-owner', '-tvf', join(t.dir, 'l0.tar')]);
    expect(l1list).toMatch(/^-rwsr-xr-x 0\/0 .* bin\/su$/m);
    expect(l1list).toMatch(/^h\S+ .* bin\/ls link to bin\/busybox$/m);

    const layout = join(t.dir, 'layout');
    await writeLayout(layout, [{ ref: 'test', layers }]);
    const umociBundle = join(t.dir, 'umoci-bundle');
    await run('umoci', ['unpack', '--image', `${layout}:test`, umociBundle]);

    await withStorage(t.root, async (s) => {
      const imgs = await s.importOciLayout(NS, layout, { name: 'berth.test/layers' });
      expect(imgs.map((i) => i.name)).toEqual(['berth.test/layers:test']);
      const rootfs = join(t.dir, 'rootfs');
      mkdirSync(rootfs);
      await s.prepareContainer(NS, 'berth.test/layers:test', 'c1', rootfs);
      let ours: string[];
      try {
        ours = treeManifest(rootfs, { includeRoot: true });
      } finally {
        await unmountAll(rootfs);
      }
      const theirs = treeManifest(join(umociBundle, 'rootfs'), { includeRoot: true });
      expect(ours).toEqual(theirs);
      // The tree has what the layers say (so agreeing with umoci is not agreeing on nothing).
      const line = (p: string): string | undefined => ours.find((l) => l.startsWith(`${p} `));
      expect(line('etc/hosts')).toBeUndefined();
      expect(line('usr/share/doc/readme')).toBeUndefined();
      expect(line('usr/share/doc/new-readme')).toContain('file');
      expect(line('opt/old')).toBeUndefined();
      expect(line('opt/keep')).toBeUndefined();
      expect(line('opt/new')).toContain('file');
      expect(line('bin/su')).toContain('mode=4755');
      expect(line('bin/wall')).toContain('mode=2755 owner=0:5');
      expect(line('bin/cat')).toMatch(/links=3 group=bin\/busybox/);
      expect(line('srv/data')).toContain(`user.bin=${binary.toString('hex')}`);
      expect(line('srv/data-link')).toMatch(/group=srv\/data/);
      expect(line('dev/null')).toContain('char mode=0666 owner=0:0 dev=1,3');
      expect(line('dev/loop0')).toContain('block');
      expect(line('run/initctl')).toContain('fifo mode=0600');
      expect(line('tmp')).toContain('mode=1777');
      s.snapshotter.remove('c1');
    });
  });

  it('stores shared base layers once; removing one image keeps the other; GC removes what nothing references', async () => {
    const t = tempRoots();
    const base = await tarOf([dir('usr/'), file('usr/big', noise(8 << 20, 'base'))]);
    const mid = await tarOf([dir('etc/'), file('etc/os-release', 'ID=berth\n')]);
    const topA = await tarOf([file('a', noise(256 << 10, 'a'))]);
    const topB = await tarOf([file('b', noise(256 << 10, 'b'))]);
    const layout = join(t.dir, 'layout');
    await writeLayout(layout, [{ ref: 'a', layers: [base, mid, topA] }, { ref: 'b', layers: [base, mid, topB] }]);

    await withStorage(t.root, async (s) => {
      const snaps = join(t.root, 'snapshots', 'overlay', 'snapshots'); // the layers' directories
      await s.importOciLayout(NS, layout, { name: 'berth.test/img' });
      const empty = await diskBytes(snaps);
      const a = await s.unpack(NS, 'berth.test/img:a');
      expect(a).toMatchObject({ layers: 3, unpacked: 3 });
      const afterA = await diskBytes(snaps);
      const b = await s.unpack(NS, 'berth.test/img:b');
      expect(b).toMatchObject({ layers: 3, unpacked: 1 }); // base and mid were there already
      const afterB = await diskBytes(snaps);
      expect(afterA - empty).toBeGreaterThan(8 << 20);
      // B added only its own top layer (256 KiB + metadata), not another 8 MiB base.
      expect(afterB - afterA).toBeLessThan(1 << 20);
      expect(s.snapshotter.walk().filter((i) => i.kind === 'committed')).toHaveLength(4);
      // The base's blob is stored once too.
      expect((await s.content.list()).length).toBe(4 + 2 * 2); // 4 layers + 2 configs + 2 manifests

      // A container of B holds its snapshots even without the image record.
      s.snapshotter.prepare('container-b', b.chainId);
      s.images.delete(NS, 'berth.test/img:a');
      const gone = await s.gc({ snapshots: ['container-b'] });
      expect(gone.snapshots).toEqual([a.chainId]);
      expect(gone.content).toHaveLength(3); // A's manifest, config and top layer
      const rootfs = join(t.dir, 'rootfs');
      mkdirSync(rootfs);
      await s.prepareContainer(NS, 'berth.test/img:b', 'check-b', rootfs);
      try {
        expect(readdirSync(rootfs).sort()).toEqual(['b', 'etc', 'usr']);
        expect(treeManifest(rootfs).find((l) => l.startsWith('usr/big '))).toContain(`sha256=${createHash('sha256').update(noise(8 << 20, 'base')).digest('hex')}`);
      } finally {
        await unmountAll(rootfs);
      }
      s.snapshotter.remove('check-b');

      // With B gone too, only the container's snapshot chain survives; then nothing.
      s.images.delete(NS, 'berth.test/img:b');
      const second = await s.gc({ snapshots: ['container-b'] });
      expect(second.snapshots).toEqual([]);
      expect(second.content).toHaveLength(5);
      s.snapshotter.remove('container-b');
      const last = await s.gc();
      expect(last.snapshots).toHaveLength(3);
      expect(await s.content.list()).toEqual([]);
      expect(s.snapshotter.walk()).toEqual([]);
      expect(await diskBytes(snaps)).toBe(empty);
    });
  });

  it("a container's diff is exactly its change, in Docker's whiteout form", async () => {
    const t = tempRoots();
    const layout = join(t.dir, 'layout');
    await writeLayout(layout, [{ ref: 'base', layers: [await tarOf([
      dir('etc/'), file('etc/hosts', 'h'), file('etc/passwd', 'p'),
      dir('var/'), dir('var/cache/'), file('var/cache/one', '1'), dir('var/cache/sub/'), file('var/cache/sub/two', '2'),
      dir('usr/'), file('usr/untouched', 'u'),
    ])] }]);
    await withStorage(t.root, async (s) => {
      await s.importOciLayout(NS, layout, { name: 'berth.test/base' });
      const rootfs = join(t.dir, 'rootfs');
      mkdirSync(rootfs);
      await s.prepareContainer(NS, 'berth.test/base:base', 'ctr', rootfs);
      try {
        rmSync(join(rootfs, 'etc/hosts')); // delete a file
        rmSync(join(rootfs, 'var/cache'), { recursive: true }); // replace a directory
        mkdirSync(join(rootfs, 'var/cache'), { mode: 0o750 });
        writeFileSync(join(rootfs, 'var/cache/fresh'), 'fresh');
        writeFileSync(join(rootfs, 'added'), 'added'); // add a file
      } finally {
        await unmountAll(rootfs);
      }
      const { desc, diffId } = await s.diff('ctr');
      const entries: { h: TarHeader; body: string }[] = [];
      for await (const e of readTar(s.content.read(desc.digest))) {
        let body = '';
        for await (const c of e.body) body += c.toString();
        entries.push({ h: e.header, body });
      }
      expect(entries.map((e) => `${e.h.type} ${e.h.name}`)).toEqual([
        'file added',
        'dir etc/',
        'file etc/.wh.hosts',
        'dir var/',
        'dir var/cache/',
        'file var/cache/.wh..wh..opq',
        'file var/cache/fresh',
      ]);
      expect(entries[0]!.body).toBe('added');
      expect(entries.find((e) => e.h.name === 'var/cache/')!.h.mode).toBe(0o750);
      expect(entries.find((e) => e.h.name === 'etc/.wh.hosts')!.h).toMatchObject({ size: 0, mode: 0 });
      expect(diffId).toMatch(/^sha256:/);
      // Committed as a layer and stacked, the diff reproduces the container's view.
      s.snapshotter.commit('ctr-layer', 'ctr');
      const view = join(t.dir, 'view');
      mkdirSync(view);
      const mounts = s.snapshotter.view('ctr-view', 'ctr-layer');
      const { mountAll } = await import('../packages/containerd/src/snapshots/index.js');
      await mountAll(mounts, view);
      try {
        expect(treeManifest(view).map((l) => l.split(' ')[0])).toEqual(['added', 'etc', 'etc/passwd', 'usr', 'usr/untouched', 'var', 'var/cache', 'var/cache/fresh']);
      } finally {
        await unmountAll(view);
      }
    });
  });

  it('contains or refuses path escapes in layers, and leaves nothing of a bad blob', async () => {
    const t = tempRoots();
    const outside = join(t.dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'victim'), 'keep');
    const before = treeManifest(t.dir.replace(/\/[^/]+$/, '') === '/tmp' ? outside : outside);
    const attacks: { name: string; layer: Buffer; error?: RegExp }[] = [
      { name: 'dotdot', layer: await tarOf([file('../../../../../../../../../../..' + outside + '/victim', 'pwned')]), error: /climbs out of the root with "\.\."/ },
      { name: 'absolute', layer: await tarOf([file(`${outside}/victim`, 'pwned')]) },
      { name: 'symlink-write-through', layer: await tarOf([symlink('escape', outside), file('escape/victim', 'pwned')]), error: /layer entry "escape\/victim": .*ENOENT/ },
      { name: 'relative-symlink-write-through', layer: await tarOf([symlink('rel', '../../../../../../../../..' + outside), file('rel/victim2', 'pwned')]), error: /layer entry "rel\/victim2": .*ENOENT/ },
      { name: 'hardlink-out', layer: await tarOf([hardlink('stolen', `../../../../../../../..${outside}/victim`)]), error: /climbs out of the root/ },
      { name: 'hardlink-through-symlink', layer: await tarOf([symlink('s', outside), hardlink('stolen', 's/victim')]), error: /not a file in this layer or the layers below/ },
    ];
    const layout = join(t.dir, 'layout');
    await writeLayout(layout, attacks.map((a) => ({ ref: a.name, layers: [a.layer] })));
    await withStorage(t.root, async (s) => {
      await s.importOciLayout(NS, layout, { name: 'berth.test/evil' });
      for (const a of attacks) {
        const p = s.unpack(NS, `berth.test/evil:${a.name}`);
        if (a.error) await expect(p, a.name).rejects.toThrow(a.error);
        else await p;
      }
      expect(treeManifest(outside)).toEqual(before);
      // The contained writes landed inside the layer's own directory, under the same names.
      const layers = s.snapshotter.walk().map((i) => s.snapshotter.upperDir(i.name));
      expect(layers.some((l) => existsSync(join(l, outside, 'victim')))).toBe(true);
      // Failed unpacks leave no snapshot behind.
      expect(s.snapshotter.walk().every((i) => i.kind === 'committed')).toBe(true);

      const data = Buffer.from('not what the descriptor says');
      const statusBefore = await s.content.list();
      await expect(writeBlob(s.content, 'bad', Readable.from([data]) as AsyncIterable<Buffer>, { digest: `sha256:${'0'.repeat(64)}` })).rejects.toThrow(/unexpected commit digest/);
      await expect(writeBlob(s.content, 'short', Readable.from([data]) as AsyncIterable<Buffer>, { digest: `sha256:${createHash('sha256').update(data).digest('hex')}`, size: data.length + 1 })).rejects.toThrow(/unexpected commit size/);
      expect(await s.content.list()).toEqual(statusBefore);
      expect(await s.content.listStatuses()).toEqual([]);
      expect(readdirSync(join(t.root, 'content', 'ingest'))).toEqual([]);
      // An OCI layout whose blob does not match its descriptor imports nothing of it.
      const bad = join(t.dir, 'bad-layout');
      const { manifests } = await writeLayout(bad, [{ ref: 'x', layers: [await tarOf([file('f', 'f')])] }]);
      writeFileSync(join(bad, 'blobs', 'sha256', manifests[0]!.slice(7)), '{"tampered": true}');
      await expect(s.importOciLayout(NS, bad, { name: 'berth.test/bad' })).rejects.toThrow(/unexpected commit/);
      await expect(s.content.info(manifests[0]!)).rejects.toThrow(/not found/);
    });
  });
});
