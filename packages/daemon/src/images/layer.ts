/**
 * An imported rootfs tar checked before anything is stored, as Docker's archive unpacker checks
 * it (moby pkg/archive: breakoutError): a member whose name climbs out of the root with `..`, a
 * hard link to such a name, or a relative symlink whose target, taken from the link's own
 * directory, climbs out is refused. Absolute symlink targets are fine: they resolve inside the
 * container's root. The same pass yields the blob's digest and size (as given: plain, gzip or
 * zstd) and the diff ID (sha256 of the uncompressed tar).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { InvalidArgumentError } from '@berth/api/errdefs';
// The tar codec's public surface (its index), not the layer applier: applying is berth-containerd's.
import { readTar } from '@berth/containerd/src/tar/index.js';

export const MEDIA_TYPE = {
  none: 'application/vnd.docker.image.rootfs.diff.tar',
  gzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  zstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
} as const;

export type Compression = keyof typeof MEDIA_TYPE;

export interface ScannedLayer {
  compression: Compression;
  /** The blob as stored (compressed as given). */
  digest: string;
  size: number;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Uncompressed bytes. */
  uncompressedSize: number;
}

/** A refused archive member (InvalidArgument: the client's archive is at fault). */
export class BadLayerError extends InvalidArgumentError {
  override name = 'BadLayerError';
}

function compressionOf(file: string): Compression {
  const head = Buffer.alloc(4);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.readUInt32BE(0) === 0x28b52ffd) return 'zstd';
  return 'none';
}

const climbs = (p: string): boolean => p === '..' || p.startsWith('../');
/** A member name made relative to the root ('' for the root itself), as extraction treats it. */
const inRoot = (name: string): string => posix.normalize(name.replace(/^\/+/, '') || '.');

/** Throws BadLayerError for the first member that would land, or point, outside the root. */
function check(h: { name: string; type: string; linkname: string }): void {
  const name = inRoot(h.name);
  if (climbs(name)) throw new BadLayerError(`archive member ${JSON.stringify(h.name)} is outside of the root ("..")`);
  if (h.type === 'link' && climbs(inRoot(h.linkname))) {
    throw new BadLayerError(`invalid hardlink ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}: its target is outside of the root`);
  }
  if (h.type === 'symlink' && !h.linkname.startsWith('/') && climbs(posix.normalize(posix.join(posix.dirname(name), h.linkname)))) {
    throw new BadLayerError(`invalid symlink ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}: it points outside of the root`);
  }
}

async function* uncompressed(file: string, c: Compression, blob: ReturnType<typeof createHash>, count: (n: number) => void): AsyncGenerator<Buffer> {
  const raw = async function* (): AsyncGenerator<Buffer> {
    for await (const b of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      blob.update(b);
      count(b.length);
      yield b;
    }
  };
  if (c === 'none') {
    yield* raw();
    return;
  }
  // Node 20's zlib has no zstd: Debian's zstd binary, as berth-containerd's applier does.
  const z = c === 'gzip' ? undefined : spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const exited = z && new Promise<number | null>((res, rej) => {
    z.on('error', (e) => rej(new InvalidArgumentError(`zstd-compressed archive: ${e.message} (install Debian's zstd)`)));
    z.on('close', res);
  });
  exited?.catch(() => undefined);
  const out = z ? z.stdout : createGunzip({ chunkSize: 1 << 20 });
  const feeding = pipeline(Readable.from(raw()), z ? z.stdin : (out as ReturnType<typeof createGunzip>));
  feeding.catch(() => undefined); // surfaced below
  yield* out as AsyncIterable<Buffer>;
  await feeding;
  if (exited && (await exited) !== 0) throw new InvalidArgumentError('zstd -d failed: the archive is not valid zstd');
}

export async function scanLayer(file: string): Promise<ScannedLayer> {
  const compression = compressionOf(file);
  const blob = createHash('sha256');
  const diff = createHash('sha256');
  let size = 0;
  let uncompressedSize = 0;
  const it = uncompressed(file, compression, blob, (n) => (size += n))[Symbol.asyncIterator]();
  const hashed = async function* (): AsyncGenerator<Buffer> {
    for (let r = await it.next(); !r.done; r = await it.next()) {
      diff.update(r.value);
      uncompressedSize += r.value.length;
      yield r.value;
    }
  };
  const h = hashed()[Symbol.asyncIterator]();
  // readTar stops at the end-of-archive blocks; the diff ID covers every byte, so the rest is
  // read below (readTar must not close the source early).
  const source = { [Symbol.asyncIterator]: () => ({ next: () => h.next() }) };
  try {
    for await (const e of readTar(source)) {
      check(e.header);
      for await (const _ of e.body) { /* skip */ }
    }
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw e;
    throw new BadLayerError(`not a tar archive: ${(e as Error).message}`, { cause: e });
  }
  for (let r = await h.next(); !r.done; r = await h.next()) { /* the rest, hashed */ }
  return { compression, digest: `sha256:${blob.digest('hex')}`, size, diffId: `sha256:${diff.digest('hex')}`, uncompressedSize };
}
