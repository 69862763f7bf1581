// Helpers for 040: OCI image layouts built from layers written with Berth's tar codec, and the
// file-tree manifests compared across unpackers.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { header, writeTar, type TarHeader, type TarInput } from '../packages/containerd/src/tar/index.js';

export const run = promisify(execFile);
export const T = 1_650_000_000n * 1_000_000_000n;
const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function tarOf(entries: TarInput[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of writeTar(entries)) parts.push(c);
  return Buffer.concat(parts);
}

export const file = (name: string, body: string | Buffer, extra: Partial<TarHeader> = {}): TarInput => {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return { header: header({ name, type: 'file', size: b.length, mtimeNs: T, ...extra }), body: b };
};
export const dir = (name: string, extra: Partial<TarHeader> = {}): TarInput => ({ header: header({ name, type: 'dir', mtimeNs: T, ...extra }) });
export const symlink = (name: string, target: string): TarInput => ({ header: header({ name, type: 'symlink', linkname: target, mtimeNs: T }) });
export const hardlink = (name: string, target: string): TarInput => ({ header: header({ name, type: 'link', linkname: target, mtimeNs: T }) });
export const whiteout = (path: string): TarInput => {
  const i = path.lastIndexOf('/');
  return file(i === -1 ? `.wh.${path}` : `${path.slice(0, i)}/.wh.${path.slice(i + 1)}`, '', { mode: 0 });
};
export const opaque = (dirPath: string): TarInput => file(`${dirPath}/.wh..wh..opq`, '', { mode: 0 });

/** An OCI image layout under `layoutDir` with one image per `images` entry, gzip layers. */
export async function writeLayout(layoutDir: string, images: { ref: string; layers: Buffer[] }[]): Promise<{ manifests: string[]; layerDigests: string[][] }> {
  mkdirSync(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const put = (b: Buffer): { digest: string; size: number } => {
    const digest = sha(b);
    writeFileSync(join(layoutDir, 'blobs', 'sha256', digest.slice(7)), b);
    return { digest, size: b.length };
  };
  const index: { schemaVersion: number; manifests: unknown[] } = { schemaVersion: 2, manifests: [] };
  const out = { manifests: [] as string[], layerDigests: [] as string[][] };
  for (const img of images) {
    // gzip is deterministic for the same input and level, so a shared layer gets one digest.
    const layers = img.layers.map((l) => ({ ...put(gzipSync(l, { level: 6 })), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }));
    const config = put(Buffer.from(JSON.stringify({
      architecture: process.arch === 'x64' ? 'amd64' : process.arch, os: 'linux',
      config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: img.layers.map(sha) },
    })));
    const manifest = put(Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers,
    })));
    index.manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': img.ref } });
    out.manifests.push(manifest.digest);
    out.layerDigests.push(layers.map((l) => l.digest));
  }
  writeFileSync(join(layoutDir, 'index.json'), JSON.stringify(index));
  return out;
}

/** Bytes used under `path` (du -s --block-size=1, hard links once). */
export async function diskBytes(path: string): Promise<number> {
  const { stdout } = await run('du', ['-s', '--block-size=1', path]);
  return Number(stdout.split('\t')[0]);
}

export function readJson<T>(p: string): T {
  return JSON.parse(readFileSync(p, 'utf8')) as T;
}
