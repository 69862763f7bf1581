// berthd's images and container roots live in berth-containerd's image storage (DESIGN.md,
// "Images and storage"), as moby's with the containerd snapshotter: `berth import` stores a layer
// blob, config and manifest, an image record and one committed snapshot named by the chain ID; a
// container's root is the snapshot <id> on it, made at create and gone with `rm`; the same layer
// is stored once; a bad archive is refused and leaves nothing behind; rmi of a used image is
// refused with Docker's message, and after rmi GC frees what no one uses.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Kind } from '@berth/api/berth/snapshots/v1';
import { ContainerdClient } from '../packages/containerd/src/client.js';
import { dir, file, hardlink, symlink, tarOf } from './040-image-storage-support.js';
import { repoRoot, testImageTar } from './support/index.js';
import { useBerthd, type BerthdUnderTest } from './support/berthd.js';

const NS = 'berth';
const run = promisify(execFile);
const ctrBin = join(repoRoot, 'packages', 'containerd', 'dist', 'berth-ctr.cjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(100);
  }
  return check();
}

/** What berth-containerd holds: blobs, snapshots (name → kind, parent), images (name → target). */
async function holdings(c: ContainerdClient) {
  const content = (await c.call(c.content, (x) => x.list, {})).info.map((i) => i.digest);
  const snapshots = new Map((await c.call(c.snapshots, (x) => x.list, {})).info.map((i) => [i.name, { kind: i.kind, parent: i.parent }]));
  const images = new Map((await c.call(c.images, (x) => x.list, { namespace: NS })).images.map((i) => [i.name, i.target?.digest ?? '']));
  const leases = (await c.call(c.leases, (x) => x.list, {})).leases.length;
  return { content, snapshots, images, leases };
}

function client(d: BerthdUnderTest): ContainerdClient {
  return new ContainerdClient(join(d.roots.state, 'containerd', 'containerd.sock'));
}

const inspect = async (d: BerthdUnderTest, what: string, ref: string, f: string): Promise<string> => (await d.ok([what, 'inspect', '-f', f, ref])).trim();

describe('berthd images in berth-containerd', () => {
  const berthd = useBerthd();

  it('import stores blob, config, manifest, image and one committed snapshot; a second import stores the layer once', async () => {
    const d = await berthd();
    const c = client(d);
    try {
      const id = (await d.ok(['import', testImageTar(), 'busybox:latest'])).trim();
      const diffId = await inspect(d, 'image', id, '{{index .RootFS.Layers 0}}');
      const h1 = await holdings(c);
      // One layer: its chain ID is its diff ID; the snapshot is committed, with no parent.
      expect(h1.snapshots.get(diffId)).toEqual({ kind: Kind.KIND_COMMITTED, parent: '' });
      expect(h1.snapshots.size).toBe(1);
      const name = `berthd/image:${id.slice(7)}`;
      expect(h1.images.has(name)).toBe(true);
      // The image ID is the config blob's digest; the target is the manifest, naming config and layer.
      const manifest = JSON.parse((await c.readAll(h1.images.get(name)!)).toString()) as { config: { digest: string }; layers: { digest: string }[] };
      expect(manifest.config.digest).toBe(id);
      expect(h1.content).toEqual(expect.arrayContaining([id, h1.images.get(name)!, manifest.layers[0]!.digest]));
      expect(h1.content).toHaveLength(3);
      expect(h1.leases).toBe(0);
      // berthd keeps no unpacked copy of its own.
      expect(existsSync(join(d.roots.root, 'images'))).toBe(false);
      // berth-ctr sees the same image and its unpacked snapshot.
      const ctr = (await run(process.execPath, [ctrBin, '-a', join(d.roots.state, 'containerd', 'containerd.sock'), '-n', NS, 'images', 'check'])).stdout;
      expect(ctr).toMatch(new RegExp(`${name.replace(/[.:/]/g, '\\$&')}\\s.*complete \\(3/3\\).*\\btrue\\b`));

      // The same tar again, another tag and message: a new config and manifest, the same layer blob
      // and snapshot.
      const id2 = (await d.ok(['import', '-m', 'again', testImageTar(), 'busybox:again'])).trim();
      expect(id2).not.toBe(id);
      const h2 = await holdings(c);
      expect(h2.content).toHaveLength(5);
      expect(h2.content.filter((x) => x === manifest.layers[0]!.digest)).toHaveLength(1);
      expect([...h2.snapshots.keys()]).toEqual([diffId]);
      expect(h2.images.size).toBe(2);

      // rmi: the image goes from berth-containerd; what only it held goes with GC, the shared
      // layer and snapshot stay for the other image.
      expect(await d.ok(['rmi', 'busybox:again'])).toBe(`Untagged: busybox:again\nDeleted: ${id2}\n`);
      expect(await until(async () => (await holdings(c)).content.length === 3)).toBe(true);
      const h3 = await holdings(c);
      expect(h3.images.has(`berthd/image:${id2.slice(7)}`)).toBe(false);
      expect([...h3.snapshots.keys()]).toEqual([diffId]);
      await d.ok(['rmi', 'busybox']);
      expect(await until(async () => {
        const h = await holdings(c);
        return h.content.length === 0 && h.snapshots.size === 0 && h.images.size === 0;
      })).toBe(true);
    } finally {
      c.close();
    }
  });

  it("a container's root is its own snapshot on the image's, made at create, mounted at start, gone with rm; rmi of a used image is refused", async () => {
    const d = await berthd();
    const c = client(d);
    try {
      const id = (await d.ok(['import', testImageTar(), 'busybox:latest'])).trim();
      const chainId = await inspect(d, 'image', id, '{{index .RootFS.Layers 0}}');
      const cid = (await d.ok(['create', '--network', 'none', 'busybox', 'sh', '-c', 'echo written > /new-file; sleep 100'])).trim();
      // Made at create (Docker makes the RW layer then), held by berth-containerd's record.
      const snap = (await c.call(c.snapshots, (x) => x.stat, { key: cid })).info!;
      expect({ kind: snap.kind, parent: snap.parent }).toEqual({ kind: Kind.KIND_ACTIVE, parent: chainId });
      const rec = (await c.call(c.containers, (x) => x.get, { namespace: NS, id: cid })).container!;
      expect({ image: rec.image, snapshotKey: rec.snapshotKey }).toEqual({ image: `berthd/image:${id.slice(7)}`, snapshotKey: cid });
      const upper = await inspect(d, 'container', cid, '{{.GraphDriver.Data.UpperDir}}');
      expect(upper).not.toBe('');

      // A used image: Docker's conflicts, by reference and by id.
      const byRef = await d.berth(['rmi', 'busybox']);
      expect(byRef.code).toBe(1);
      expect(byRef.stderr).toContain(`conflict: unable to remove repository reference "busybox" (must force) - container ${cid.slice(0, 12)} is using its referenced image ${id.slice(7, 19)}`);
      const byId = await d.berth(['rmi', id.slice(7, 19)]);
      expect(byId.stderr).toContain(`conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is being used by stopped container ${cid.slice(0, 12)}`);

      await d.ok(['start', cid]);
      const rootfs = join(d.roots.state, 'containers', cid, 'rootfs');
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(` ${rootfs} `);
      // The container writes into its snapshot's upper directory.
      expect(await until(async () => existsSync(join(upper, 'new-file')))).toBe(true);
      expect(readFileSync(join(upper, 'new-file'), 'utf8')).toBe('written\n');

      await d.ok(['rm', '-f', cid]);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(` ${rootfs} `);
      await expect(c.call(c.snapshots, (x) => x.stat, { key: cid })).rejects.toThrow(/not found/i);
      await expect(c.call(c.containers, (x) => x.get, { namespace: NS, id: cid })).rejects.toThrow(/not found/i);
      expect(existsSync(upper)).toBe(false);
      // The image's own snapshot stays.
      expect((await c.call(c.snapshots, (x) => x.stat, { key: chainId })).info!.kind).toBe(Kind.KIND_COMMITTED);
    } finally {
      c.close();
    }
  });

  it('a bad archive (a name climbing out with "..", an escaping symlink or hard link) is refused and leaves nothing behind', async () => {
    const d = await berthd();
    const c = client(d);
    try {
      const base = [dir('bin/'), file('bin/ok', 'fine\n')];
      const bad: [string, Buffer, RegExp][] = [
        ['dotdot', await tarOf([...base, file('../evil', 'x')]), /archive member "\.\.\/evil" is outside of the root/],
        ['nested dotdot', await tarOf([...base, file('bin/../../evil', 'x')]), /is outside of the root/],
        ['symlink', await tarOf([...base, symlink('bin/out', '../../etc')]), /invalid symlink "bin\/out" -> "\.\.\/\.\.\/etc"/],
        ['hard link', await tarOf([...base, hardlink('bin/h', '../../etc/passwd')]), /invalid hardlink/],
      ];
      for (const [what, tar, message] of bad) {
        const path = join(d.roots.dir, `bad-${what.replace(/ /g, '-')}.tar`);
        writeFileSync(path, tar);
        const r = await d.berth(['import', path, `bad:${what.replace(/ /g, '-')}`]);
        expect(r.code, `${what}: ${r.stderr}`).toBe(1);
        expect(r.stderr, what).toMatch(message);
        const h = await holdings(c);
        expect({ content: h.content, snapshots: h.snapshots.size, images: h.images.size, leases: h.leases }, what).toEqual({ content: [], snapshots: 0, images: 0, leases: 0 });
        expect((await c.call(c.content, (x) => x.listStatuses, {})).statuses, what).toEqual([]);
      }
      expect(await d.ok(['images', '-q'])).toBe('');
      // An absolute symlink is fine: it resolves inside the container's root.
      const good = join(d.roots.dir, 'good.tar');
      writeFileSync(good, await tarOf([...base, symlink('bin/abs', '/bin/ok')]));
      await d.ok(['import', good, 'good:1']);
      expect((await holdings(c)).images.size).toBe(1);
    } finally {
      c.close();
    }
  });
});
