// The tar codec against itself, GNU tar and tar-stream (oracles for names, types and bodies).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { header, readTar, TarFormatError, writeTar, type TarHeader, type TarInput } from './index.js';

const require = createRequire(import.meta.url);
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'berth-tar-'));
  dirs.push(d);
  return d;
};

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

async function readAll(archive: Buffer, chunk = 700): Promise<{ h: TarHeader; body: Buffer }[]> {
  // Odd-sized chunks so headers and bodies straddle chunk boundaries.
  const pieces = function* () {
    for (let i = 0; i < archive.length; i += chunk) yield archive.subarray(i, i + chunk);
  };
  const out = [];
  for await (const e of readTar(Readable.from(pieces()))) out.push({ h: e.header, body: await collect(e.body) });
  return out;
}

const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0x3d, 0x20]);
const longDir = 'd'.repeat(120);
const sample: TarInput[] = [
  { header: header({ name: 'etc/', type: 'dir', mode: 0o755, mtimeNs: 1_600_000_000n * 1_000_000_000n }) },
  { header: header({ name: 'etc/passwd', type: 'file', size: 5, uid: 1000, gid: 100, uname: 'u', gname: 'g' }), body: Buffer.from('root\n') },
  { header: header({ name: 'bin/su', type: 'file', mode: 0o4755, size: 0 }) },
  { header: header({ name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' }) },
  { header: header({ name: 'bin/ash', type: 'link', linkname: 'bin/su' }) },
  { header: header({ name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 }) },
  { header: header({ name: 'dev/sda', type: 'block', mode: 0o660, devmajor: 8, devminor: 0 }) },
  { header: header({ name: 'run/fifo', type: 'fifo', mode: 0o600 }) },
  { header: header({ name: 'x', type: 'file', xattrs: new Map([['user.bin', binary], ['security.capability', Buffer.from([1, 0, 0, 2])]]) }) },
  { header: header({ name: `${longDir}/${'f'.repeat(110)}`, type: 'file', size: 1, mtimeNs: 1_700_000_000_123_456_789n }), body: Buffer.from('z') },
  { header: header({ name: 'l', type: 'symlink', linkname: 't'.repeat(200) }) },
  { header: header({ name: 'big-ids', type: 'file', uid: 4_000_000_000, gid: 3_000_000 }) },
];

describe('tar codec', () => {
  it('round-trips every entry type, modes, long names, sub-second times and binary xattrs', async () => {
    const archive = await collect(writeTar(sample));
    expect(archive.length % 512).toBe(0);
    const back = await readAll(archive);
    expect(back.map((e) => e.h)).toEqual(sample.map((s) => s.header));
    expect(back[1]!.body.toString()).toBe('root\n');
    expect(back[8]!.h.xattrs.get('user.bin')).toEqual(binary);
  });

  it('GNU tar lists and extracts what it writes: modes, xattrs, devices, long names', async () => {
    const d = tmp();
    const archive = await collect(writeTar(sample));
    writeFileSync(join(d, 'a.tar'), archive);
    const listing = execFileSync('tar', ['--numeric-owner', '-tvf', join(d, 'a.tar')], { encoding: 'utf8' });
    expect(listing).toMatch(/^-rwsr-xr-x 0\/0 +0 .* bin\/su$/m);
    expect(listing).toMatch(/^crw-rw-rw- 0\/0 +1,3 .* dev\/null$/m);
    expect(listing).toMatch(/^prw------- .* run\/fifo$/m);
    expect(listing).toMatch(/^hrw-r--r-- .* bin\/ash link to bin\/su$/m);
    expect(listing).toContain(`${longDir}/${'f'.repeat(110)}`);
    expect(listing).toMatch(/^-rw-r--r-- 4000000000\/3000000 /m);
    mkdirSync(join(d, 'out'));
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-xf', join(d, 'a.tar'), '-C', join(d, 'out'), 'x', 'etc/passwd']);
    expect(readFileSync(join(d, 'out/etc/passwd'), 'utf8')).toBe('root\n');
    const attr = execFileSync('getfattr', ['-e', 'hex', '-n', 'user.bin', join(d, 'out/x')], { encoding: 'utf8' });
    expect(attr).toContain(`user.bin=0x${binary.toString('hex')}`);
  });

  it('reads what GNU tar writes: PAX xattrs (binary), GNU long names, hard links', async () => {
    const d = tmp();
    const src = join(d, 'src');
    mkdirSync(join(src, 'a'), { recursive: true });
    writeFileSync(join(src, 'a/f'), 'hello');
    execFileSync('ln', [join(src, 'a/f'), join(src, 'a/hard')]);
    execFileSync('setfattr', ['-n', 'user.bin', '-v', `0x${binary.toString('hex')}`, join(src, 'a/f')]);
    const deep = join(src, 'a', 'n'.repeat(150));
    writeFileSync(deep, 'deep');
    execFileSync('tar', ['--xattrs', '--format=pax', '-cf', join(d, 'pax.tar'), '-C', src, 'a']);
    execFileSync('tar', ['--format=gnu', '-cf', join(d, 'gnu.tar'), '-C', src, 'a']);
    const pax = await readAll(readFileSync(join(d, 'pax.tar')));
    const f = pax.find((e) => e.h.name === 'a/f')!;
    expect(f.h.xattrs.get('user.bin')).toEqual(binary);
    expect(f.body.toString()).toBe('hello');
    expect(pax.find((e) => e.h.name === 'a/hard')?.h).toMatchObject({ type: 'link', linkname: 'a/f' });
    const gnu = await readAll(readFileSync(join(d, 'gnu.tar')));
    expect(gnu.find((e) => e.h.name === `a/${'n'.repeat(150)}`)?.body.toString()).toBe('deep');
  });

  it('agrees with tar-stream on names, types, sizes and bodies', async () => {
    const tarStream = require('tar-stream') as { extract(): NodeJS.WritableStream & { on(ev: 'entry', fn: (h: { name: string; type: string; size: number; linkname: string | null; mode: number }, s: NodeJS.ReadableStream, next: () => void) => void): void } };
    const archive = await collect(writeTar(sample));
    const seen: { name: string; type: string; size: number; mode: number; body: string }[] = [];
    await new Promise<void>((resolve, reject) => {
      const ex = tarStream.extract();
      ex.on('entry', (h, stream, next) => {
        const parts: Buffer[] = [];
        stream.on('data', (c: Buffer) => parts.push(c));
        stream.on('end', () => {
          seen.push({ name: h.name, type: h.type, size: h.size, mode: h.mode & 0o7777, body: Buffer.concat(parts).toString() });
          next();
        });
      });
      (ex as unknown as NodeJS.EventEmitter).on('finish', resolve);
      (ex as unknown as NodeJS.EventEmitter).on('error', reject);
      ex.end(archive);
    });
    const types: Record<string, string> = { file: 'file', dir: 'directory', symlink: 'symlink', link: 'link', char: 'character-device', block: 'block-device', fifo: 'fifo' };
    expect(seen.map((s) => [s.name, s.type, s.mode])).toEqual(sample.map((s) => [s.header.name, types[s.header.type], s.header.mode]));
    expect(seen[1]!.body).toBe('root\n');
  });

  it('refuses a corrupt header and a truncated member', async () => {
    const archive = await collect(writeTar(sample.slice(0, 2)));
    const bad = Buffer.from(archive);
    bad[10] = 0x41;
    await expect(readAll(bad)).rejects.toThrow(TarFormatError);
    await expect(readAll(archive.subarray(0, 512 * 3 + 2))).rejects.toThrow(/unexpected end/);
  });

  it('refuses a body of the wrong length', async () => {
    await expect(collect(writeTar([{ header: header({ name: 'f', type: 'file', size: 3 }), body: Buffer.from('ab') }]))).rejects.toThrow(/has 2 bytes/);
  });
});
