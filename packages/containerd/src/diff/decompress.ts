/**
 * Layer decompression by magic number: gzip (zlib), zstd (the `zstd` binary: Node 20's zlib has
 * none, ECOSYSTEM.md) or none. Compression is recognised from the bytes, not trusted from a
 * media type.
 */
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

export type Compression = 'gzip' | 'zstd' | 'none';

export function detect(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** The uncompressed bytes of `source`, whatever its compression. */
export async function* decompress(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  // Enough bytes to recognise the format.
  const head: Buffer[] = [];
  let n = 0;
  let done = false;
  while (n < 4) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    head.push(r.value);
    n += r.value.length;
  }
  const first = Buffer.concat(head);
  const rest = async function* (): AsyncGenerator<Buffer> {
    if (first.length) yield first;
    if (done) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  };
  const kind = detect(first);
  if (kind === 'none') {
    yield* rest();
    return;
  }
  if (kind === 'gzip') {
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    const feeding = pipeline(Readable.from(rest()), gunzip);
    feeding.catch(() => undefined); // surfaced through the iteration below
    yield* gunzip as AsyncIterable<Buffer>;
    await feeding;
    return;
  }
  const zstd = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  zstd.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve, reject) => {
    zstd.on('error', (e) => reject(new Error(`zstd: ${e.message} (install Debian's zstd)`)));
    zstd.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`zstd -d failed (${code}): ${stderr.trim()}`))));
  });
  exited.catch(() => undefined);
  const feeding = pipeline(Readable.from(rest()), zstd.stdin);
  feeding.catch(() => undefined);
  try {
    yield* zstd.stdout as AsyncIterable<Buffer>;
    await feeding;
    await exited;
  } finally {
    if (zstd.exitCode === null) zstd.kill();
  }
}

/** Passes chunks through while hashing them. */
export async function* tap(source: AsyncIterable<Buffer>, onChunk: (b: Buffer) => void): AsyncGenerator<Buffer> {
  for await (const c of source) {
    onChunk(c);
    yield c;
  }
}
