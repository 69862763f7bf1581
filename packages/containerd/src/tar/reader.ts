/**
 * Streaming tar reader: members one at a time from any async byte source, each with its content
 * as a stream, so a 100 MB layer never sits in memory.
 */
import { BLOCK, TarFormatError, decodeBlock, isZeroBlock, parsePax, toHeader, type TarHeader } from './header.js';

/** One member. Read `body` before asking for the next member, or it is skipped. */
export interface TarEntry {
  header: TarHeader;
  body: AsyncIterable<Buffer>;
}

/** Exact reads over an async iterator of chunks. */
class Bytes {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  constructor(private readonly it: AsyncIterator<Buffer | Uint8Array | string>) {}

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    const b = typeof r.value === 'string' ? Buffer.from(r.value) : Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    if (b.length) {
      this.chunks.push(b);
      this.buffered += b.length;
    }
    return true;
  }

  /** Exactly n bytes, or fewer only at the end of the source. */
  async read(n: number): Promise<Buffer> {
    while (this.buffered < n && (await this.more()));
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, Math.min(n, all.length));
    const rest = all.subarray(out.length);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  /** Up to n bytes in the pieces they arrived in. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (!this.chunks.length && !(await this.more())) throw new TarFormatError('unexpected end of tar archive inside a member');
      const c = this.chunks[0];
      if (!c) continue;
      const piece = c.length <= left ? c : c.subarray(0, left);
      if (piece === c) this.chunks.shift();
      else this.chunks[0] = c.subarray(left);
      this.buffered -= piece.length;
      left -= piece.length;
      yield piece;
    }
  }

  /** Reads the rest of the source (so a hash over it covers trailing bytes). */
  async drain(): Promise<void> {
    this.chunks = [];
    this.buffered = 0;
    while (await this.more()) {
      this.chunks = [];
      this.buffered = 0;
    }
  }
}

const blocks = (n: number): number => Math.ceil(n / BLOCK) * BLOCK;

/**
 * The members of a tar archive. Extended headers (PAX `x` and global `g`, GNU `L`/`K`) are folded
 * into the member they describe. Ends at the two zero blocks (or at a clean end of input) and
 * then reads the source to its end.
 */
export async function* readTar(source: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<TarEntry> {
  const bytes = new Bytes(source[Symbol.asyncIterator]());
  const global = new Map<string, Buffer>();
  let pax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const b = await bytes.read(BLOCK);
    if (b.length === 0) break; // no end marker: accepted, as GNU tar does
    if (b.length < BLOCK) throw new TarFormatError('unexpected end of tar archive inside a header');
    if (isZeroBlock(b)) break;
    const raw = decodeBlock(b);
    if (raw.flag === 'x' || raw.flag === 'g' || raw.flag === 'L' || raw.flag === 'K') {
      if (raw.size > 16 << 20) throw new TarFormatError(`extended header of ${raw.size} bytes is too large`);
      const data = await bytes.read(blocks(raw.size));
      if (data.length < raw.size) throw new TarFormatError('unexpected end of tar archive inside an extended header');
      const body = data.subarray(0, raw.size);
      if (raw.flag === 'x') pax = parsePax(body);
      else if (raw.flag === 'g') for (const [k, v] of parsePax(body)) global.set(k, v);
      else {
        const nul = body.indexOf(0);
        const s = body.toString('utf8', 0, nul === -1 ? body.length : nul);
        if (raw.flag === 'L') longName = s;
        else longLink = s;
      }
      continue;
    }
    const merged = global.size ? new Map([...global, ...pax]) : pax;
    const h = toHeader(raw, merged, longName, longLink);
    pax = new Map();
    longName = longLink = undefined;
    // Only regular files carry content; a stored size on a link or device is skipped, not read.
    const stored = raw.flag === '1' || raw.flag === '2' || raw.flag === '5' || raw.flag === '3' || raw.flag === '4' || raw.flag === '6' ? 0 : h.size;
    let started = false;
    let read = 0;
    const body: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: () => {
        if (started) throw new Error(`tar: content of ${h.name} was already read`);
        started = true;
        return (async function* () {
          for await (const piece of bytes.stream(stored)) {
            read += piece.length;
            yield piece;
          }
        })();
      },
    };
    yield { header: h, body };
    // Whatever the consumer left unread is skipped.
    if (read < stored) for await (const _ of bytes.stream(stored - read));
    await bytes.read(blocks(stored) - stored);
  }
  await bytes.drain();
}
