import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { header, writeTar, type TarInput } from '@berth/containerd/src/tar/index.js';
import { BadLayerError, scanLayer } from './layer.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

async function tarFile(entries: TarInput[], gzip = false): Promise<{ path: string; tar: Buffer }> {
  const parts: Buffer[] = [];
  for await (const c of writeTar(entries)) parts.push(c);
  const tar = Buffer.concat(parts);
  const d = mkdtempSync(join(tmpdir(), 'berthd-layer-'));
  dirs.push(d);
  const path = join(d, 'layer.tar');
  writeFileSync(path, gzip ? gzipSync(tar) : tar);
  return { path, tar };
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const file = (name: string, body = 'x'): TarInput => ({ header: header({ name, type: 'file', size: body.length }), body: Buffer.from(body) });
const link = (type: 'symlink' | 'link', name: string, linkname: string): TarInput => ({ header: header({ name, type, linkname }) });

describe('scanLayer', () => {
  it('gives blob digest and size as stored, and the diff ID of the uncompressed tar', async () => {
    const entries = [{ header: header({ name: 'bin/', type: 'dir' }) }, file('bin/sh', 'busybox'), link('symlink', 'bin/ls', 'sh'), link('symlink', 'abs', '/bin/sh')];
    const plain = await tarFile(entries);
    expect(await scanLayer(plain.path)).toEqual({ compression: 'none', digest: sha(plain.tar), size: plain.tar.length, diffId: sha(plain.tar), uncompressedSize: plain.tar.length });
    const gz = await tarFile(entries, true);
    const r = await scanLayer(gz.path);
    expect(r.compression).toBe('gzip');
    expect(r.diffId).toBe(sha(gz.tar));
    expect(r.digest).not.toBe(r.diffId);
  });

  it.each([
    ['a name climbing out', [file('../evil')], /"\.\.\/evil" is outside of the root/],
    ['a name climbing out midway', [file('a/../../evil')], /outside of the root/],
    ['a relative symlink pointing out', [link('symlink', 'a/b', '../../etc')], /invalid symlink "a\/b" -> "\.\.\/\.\.\/etc"/],
    ['a hard link to a name outside', [link('link', 'h', '../etc/passwd')], /invalid hardlink "h"/],
  ])('refuses %s', async (_what, entries, message) => {
    const { path } = await tarFile(entries as TarInput[]);
    const e = await scanLayer(path).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BadLayerError);
    expect((e as Error).message).toMatch(message);
  });

  it('refuses what is not a tar', async () => {
    const d = mkdtempSync(join(tmpdir(), 'berthd-layer-'));
    dirs.push(d);
    writeFileSync(join(d, 'x'), Buffer.alloc(1024, 7));
    await expect(scanLayer(join(d, 'x'))).rejects.toBeInstanceOf(BadLayerError);
  });
});
