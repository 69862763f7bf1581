// Applying layers into overlay uppers and taking diffs back, on the real filesystem (as root).
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { loadAddon } from '@berth/runc';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { header, readTar, writeTar, type TarHeader, type TarInput } from '../tar/index.js';
import { applyLayer, diffTar, LayerPathError } from './index.js';
import { treeManifest } from './tree-manifest.js';

const native = loadAddon();
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-diff-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function tarOf(entries: TarInput[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of writeTar(entries)) parts.push(c);
  return Buffer.concat(parts);
}
const T = 1_600_000_000n * 1_000_000_000n;
const file = (name: string, body: string, extra: Partial<TarHeader> = {}): TarInput => ({ header: header({ name, type: 'file', size: Buffer.byteLength(body), mtimeNs: T, ...extra }), body: Buffer.from(body) });
const d = (name: string, extra: Partial<TarHeader> = {}): TarInput => ({ header: header({ name, type: 'dir', mtimeNs: T, ...extra }) });

async function entriesOf(upper: string, lowers: string[]): Promise<{ h: TarHeader; body: string }[]> {
  const out = [];
  for await (const e of readTar(diffTar(upper, lowers))) {
    let body = '';
    for await (const c of e.body) body += c.toString();
    out.push({ h: e.header, body });
  }
  return out;
}

function upperDir(name: string): string {
  const p = join(dir, name);
  mkdirSync(p);
  return p;
}

const base: TarInput[] = [
  d('etc/'),
  file('etc/passwd', 'root:x:0:0\n'),
  d('bin/', { mode: 0o755 }),
  file('bin/su', 'su', { mode: 0o4755, uid: 0, gid: 0 }),
  file('bin/tool', 'tool', { mode: 0o2711, uid: 1000, gid: 50, xattrs: new Map([['user.bin', Buffer.from([0, 1, 255])], ['security.capability', Buffer.from('0100000200100000000000000000000000000000', 'hex')]]) }),
  { header: header({ name: 'bin/sh', type: 'symlink', linkname: '/bin/su', mtimeNs: T, uid: 5, gid: 6 }) },
  { header: header({ name: 'bin/su-hard', type: 'link', linkname: 'bin/su' }) },
  d('dev/'),
  { header: header({ name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3, mtimeNs: T }) },
  { header: header({ name: 'dev/loop', type: 'block', mode: 0o660, devmajor: 7, devminor: 0, mtimeNs: T }) },
  { header: header({ name: 'dev/fifo', type: 'fifo', mode: 0o620, mtimeNs: T }) },
  d('opt/'), file('opt/a', 'a'), d('opt/sub/'), file('opt/sub/b', 'b'),
  d('sticky/', { mode: 0o1777 }),
];

describe('applyLayer and diffTar', () => {
  it('round-trips owners, modes incl. setuid/setgid/sticky, times, hard links, symlinks, devices, FIFOs and binary xattrs', async () => {
    const layer = await tarOf(base);
    const upper = upperDir('l1');
    const r = await applyLayer(upper, [], Readable.from([gzipSync(layer)]));
    expect(r.size).toBe(layer.length);
    expect(lstatSync(join(upper, 'bin/su')).mode & 0o7777).toBe(0o4755);
    expect(lstatSync(join(upper, 'bin/tool')).mode & 0o7777).toBe(0o2711);
    expect(lstatSync(join(upper, 'sticky')).mode & 0o7777).toBe(0o1777);
    expect(lstatSync(join(upper, 'bin/su-hard')).ino).toBe(lstatSync(join(upper, 'bin/su')).ino);
    expect(lstatSync(join(upper, 'etc')).mtimeMs).toBe(1_600_000_000_000);
    expect(native.lgetxattrsAt(native.openRoot(upper), 'bin/tool')['security.capability']?.toString('hex')).toBe('0100000200100000000000000000000000000000');

    // The diff of a layer on nothing is the layer again (same members, same metadata).
    const back = await entriesOf(upper, []);
    const norm = (h: TarHeader): unknown => ({ ...h, name: h.name.replace(/\/$/, ''), size: h.type === 'file' ? h.size : 0 });
    const want = [...base].map((e) => e.header).sort((a, b) => (a.name.replace(/\/$/, '') < b.name.replace(/\/$/, '') ? -1 : 1));
    expect(back.map((e) => e.h.name)).toEqual(want.map((h) => h.name));
    for (const [i, e] of back.entries()) {
      const w = want[i]!;
      if (w.type === 'link') expect(e.h).toMatchObject({ type: 'link', linkname: 'bin/su' });
      // Linux keeps no mode for symlinks: they read back as 0777.
      else expect(norm(e.h)).toEqual(norm({ ...w, mode: w.type === 'symlink' ? 0o777 : w.mode }));
    }
    // Applying the diff elsewhere gives the same tree.
    const again = upperDir('again');
    const parts: Buffer[] = [];
    for await (const c of diffTar(upper, [])) parts.push(c);
    await applyLayer(again, [], Readable.from([Buffer.concat(parts)]));
    expect(treeManifest(again)).toEqual(treeManifest(upper));
  });

  it('turns .wh. and opaque whiteouts into overlayfs form and back; zstd layers too', async () => {
    const l1 = upperDir('l1');
    await applyLayer(l1, [], Readable.from([await tarOf(base)]));
    const layer2 = await tarOf([
      file('etc/.wh.passwd', ''),
      d('opt/', { mode: 0o750 }),
      file('opt/.wh..wh..opq', ''),
      file('opt/new', 'new'),
      file('bin/.wh.sh', ''),
      { header: header({ name: 'bin/tool-link', type: 'link', linkname: 'bin/tool' }) },
    ]);
    const zst = execFileSync('zstd', ['-q', '-c'], { input: layer2 });
    const l2 = upperDir('l2');
    await applyLayer(l2, [l1], Readable.from([zst]));
    const root = native.openRoot(l2);
    expect(native.lstatAt(root, 'etc/passwd')).toMatchObject({ mode: 0o20000, rdevMajor: 0, rdevMinor: 0 });
    expect(native.lgetxattrsAt(root, 'opt')['trusted.overlay.opaque']?.toString()).toBe('y');
    // Parents made in the upper keep the lower's metadata; a hard link to a lower file copies it up.
    expect(lstatSync(join(l2, 'etc')).mtimeMs).toBe(1_600_000_000_000);
    expect(lstatSync(join(l2, 'bin/tool')).mode & 0o7777).toBe(0o2711);
    expect(lstatSync(join(l2, 'bin/tool-link')).ino).toBe(lstatSync(join(l2, 'bin/tool')).ino);
    expect(native.lgetxattrsAt(root, 'bin/tool')['user.bin']).toEqual(Buffer.from([0, 1, 255]));

    const names = (await entriesOf(l2, [l1])).map((e) => `${e.h.type} ${e.h.name}${e.h.linkname ? ` -> ${e.h.linkname}` : ''}`);
    expect(names).toEqual([
      'file bin/.wh.sh',
      'file bin/tool',
      'link bin/tool-link -> bin/tool',
      'file etc/.wh.passwd',
      'dir opt/',
      'file opt/.wh..wh..opq',
      'file opt/new',
    ]);
  });

  it('refuses entries that climb out, contains absolute paths and symlink write-through', async () => {
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'victim'), 'keep');
    const upper = upperDir('u');
    await expect(applyLayer(upper, [], Readable.from([await tarOf([file('../outside/victim', 'pwned')])]))).rejects.toThrow(LayerPathError);
    await expect(applyLayer(upper, [], Readable.from([await tarOf([{ header: header({ name: 'h', type: 'link', linkname: '../outside/victim' }) }])]))).rejects.toThrow(/climbs out/);
    await applyLayer(upper, [], Readable.from([await tarOf([
      file(`${outside}/victim`, 'abs'),
      { header: header({ name: 'esc', type: 'symlink', linkname: outside }) },
      file('esc/victim', 'through'),
    ])]));
    expect(readFileSync(join(outside, 'victim'), 'utf8')).toBe('keep');
    expect(readFileSync(join(upper, outside, 'victim'), 'utf8')).toBe('through');
    expect(existsSync(join(upper, 'esc'))).toBe(true);
  });
});
